"""The alert sensor: a failed run, a warning asset check and a machine's day flagged in the published marts
each reach a real HTTP server (the webhook) and a real SMTP server on 127.0.0.1, once; a second evaluation
sends nothing, and an alert a channel refused is sent on a later tick on that channel only."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess

import dagster as dg
from aiosmtpd.controller import Controller

from assets.bronze.assets import land_exports
from orchestration.definitions import build_definitions
from tests.helpers.alerts import Mailbox, tick
from tests.helpers.exports import aveva_row as r
from tests.helpers.network import free_port
from tests.helpers.tables import mart

DAY = "2026-03-02"


@dg.asset
def broken_asset():
    raise RuntimeError("the historian share is gone")


def test_each_failure_is_sent_once_by_webhook_and_by_mail(plant_factory, alert_env, webhook, mailbox):
    plant = plant_factory()
    # 2 Mar: the FILLER runs from 06:00 and its counter reads once, at 07:00: the marts flag the day
    plant.export("h.csv", [r(f"{DAY} 06:00:00", "L1.FILLER.State", 1), r(f"{DAY} 07:00:00", "L1.FILLER.Total", 5)])
    # an empty export is rejected: the ledger's no_file_rejected check warns
    (plant.landing / "historian" / "empty.csv").write_text("", encoding="utf-8")
    with dg.instance_for_test() as instance:
        landed = dg.materialize([land_exports], resources={"lakehouse": plant.resource}, instance=instance)
        assert landed.success
        plant.build_day(DAY)
        failed = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
        assert not failed.success
        failed_at = instance.get_run_record_by_id(failed.run_id).end_time
        check = next(
            e for e in landed.get_asset_check_evaluations() if e.check_name == "no_file_rejected"
        )  # its event's time, as Dagster stored it
        check_record = next(
            rec
            for rec in instance.get_records_for_run(landed.run_id).records
            if rec.event_log_entry.dagster_event
            and rec.event_log_entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
            and rec.event_log_entry.dagster_event.event_specific_data.check_name == check.check_name
        )
        # the marts' own words for the day, and the published file's time
        [(reason,)] = mart(plant, "select data_quality_reason from oee_daily where day = ?", [dt.date(2026, 3, 2)])
        published = (plant.root / "marts.duckdb").stat().st_mtime

        def utc(ts):
            return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")

        defs = build_definitions(plant.resource)
        cursor = tick(defs, instance)

        ui = "http://127.0.0.1:3000"  # DAGSTER_UI_URL unset: the local UI
        expected = [
            {
                "what": "Run failed",
                "where": "__ephemeral_asset_job__",
                "when": utc(failed_at),
                "link": f"{ui}/runs/{failed.run_id}",
                "detail": "Execution of run for \"__ephemeral_asset_job__\" failed. Steps failed: ['broken_asset'].",
            },
            {
                "what": "Asset check warning",
                "where": "bronze__file_ledger: no_file_rejected",
                "when": utc(check_record.event_log_entry.timestamp),
                "link": f"{ui}/assets/bronze__file_ledger?view=checks",
                "detail": f"run {landed.run_id}",
            },
            {
                "what": "Data quality flagged",
                "where": f"L1/FILLER on {DAY}",
                "when": utc(published),
                "link": f"{ui}/assets/mart__oee_daily",
                "detail": reason,
            },
        ]
        assert reason  # the day is flagged for a reason the marts give
        assert webhook.bodies == expected
        subjects = [m["Subject"] for _, m in mailbox.messages]
        assert subjects == [
            "[iiot-lakehouse] Run failed: __ephemeral_asset_job__",
            "[iiot-lakehouse] Asset check warning: bronze__file_ledger: no_file_rejected",
            f"[iiot-lakehouse] Data quality flagged: L1/FILLER on {DAY}",
        ]
        rcpt, first = mailbox.messages[0]
        assert rcpt == ["shift-lead@plant.example", "maintenance@plant.example"]
        assert first["From"] == "lakehouse@plant.example"
        assert f"Link:  {ui}/runs/{failed.run_id}" in first.get_content()
        assert mailbox.logins == [("lakehouse", "s3cret")] * 3

        # the next ticks find nothing new: the day is still flagged, the run still failed
        cursor = tick(defs, instance, cursor)
        tick(defs, instance, cursor)
        assert len(webhook.bodies) == 3 and len(mailbox.messages) == 3


def test_an_alert_the_webhook_refused_is_sent_later_and_the_mail_not_again(
    plant_factory, alert_env, webhook, mailbox, monkeypatch
):
    monkeypatch.setenv("DAGSTER_UI_URL", "https://lakehouse.plant.example/")
    plant = plant_factory()
    with dg.instance_for_test() as instance:
        failed = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
        assert not failed.success
        defs = build_definitions(plant.resource)
        webhook.fail_next = 1  # the receiver is down for one request
        cursor = tick(defs, instance)
        assert webhook.bodies == [] and len(mailbox.messages) == 1
        cursor = tick(defs, instance, cursor)
        assert [b["link"] for b in webhook.bodies] == [f"https://lakehouse.plant.example/runs/{failed.run_id}"]
        assert len(mailbox.messages) == 1
        tick(defs, instance, cursor)
        assert len(webhook.bodies) == 1 and len(mailbox.messages) == 1


def test_without_a_channel_the_sensor_skips_and_keeps_no_cursor(plant_factory, monkeypatch):
    for var in ("ALERT_WEBHOOK_URL", "ALERT_SMTP_HOST", "ALERT_EMAIL_TO"):
        monkeypatch.delenv(var, raising=False)
    plant = plant_factory()
    defs = build_definitions(plant.resource)
    with dg.instance_for_test() as instance:
        sensor = defs.resolve_sensor_def("alert_sensor")
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=dict(defs.resources)) as context:
            result = sensor.evaluate_tick(context)
    assert result.skip_message.startswith("no alert channel")
    assert result.cursor is None


def test_mail_goes_over_starttls_when_the_server_offers_it(tmp_path, plant_factory, monkeypatch):
    # A certificate for 127.0.0.1, trusted by the client through SSL_CERT_FILE (the default context reads it)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    box = Mailbox()
    # the server refuses MAIL and AUTH before STARTTLS: a message that arrives went over TLS
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=box.authenticate,
        tls_context=server_tls,
        require_starttls=True,
    )
    controller.start()
    try:
        for var in ("ALERT_WEBHOOK_URL", "DAGSTER_UI_URL"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ALERT_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("ALERT_EMAIL_TO", "shift-lead@plant.example")
        monkeypatch.setenv("ALERT_SMTP_USER", "lakehouse")
        monkeypatch.setenv("ALERT_SMTP_PASSWORD", "s3cret")
        plant = plant_factory()
        with dg.instance_for_test() as instance:
            failed = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
            tick(build_definitions(plant.resource), instance)
    finally:
        controller.stop()
    assert [m["Subject"] for _, m in box.messages] == ["[iiot-lakehouse] Run failed: __ephemeral_asset_job__"]
    assert f"/runs/{failed.run_id}" in box.messages[0][1].get_content()
    assert box.logins == [("lakehouse", "s3cret")]
