"""The freshness checks, run as the freshness schedule's check-only job on a real instance against a real
lakehouse in tmp_path, with only the checks' clock frozen: a source with expected_every 1h whose last file
landed 30, 90 and 150 minutes ago passes, warns and fails; the newest due day fails until its marts are
published; a stale source reaches a real webhook once, and a line-day below its OEE target too."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from assets.bronze.assets import land_exports
from orchestration import freshness
from orchestration.definitions import build_definitions
from tests.helpers.alerts import tick
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config

DAY = "2026-03-02"  # a Monday; the plant's days start at 06:00 Europe/Berlin (UTC+1 in March)


def _config(**automation) -> dict:
    config = one_machine_config()
    config["sources"][0]["expected_every"] = "1h"
    if automation:
        config["automation"] = automation
    return config


def _land(plant, instance) -> tuple[dt.datetime, dt.datetime]:
    """Land one export; the ledger's landed_at lies between the two instants returned."""
    plant.export("h.csv", [r(f"{DAY} 06:00:00", "L1.FILLER.State", 1), r(f"{DAY} 07:00:00", "L1.FILLER.Total", 5)])
    before = dt.datetime.now(dt.UTC)
    assert dg.materialize([land_exports], resources={"lakehouse": plant.resource}, instance=instance).success
    return before, dt.datetime.now(dt.UTC)


def _run_checks(defs, instance, monkeypatch, now: dt.datetime) -> dict[str, dg.AssetCheckEvaluation]:
    """The schedule's run of the check-only job, with the checks' clock at `now`; its evaluations by name."""
    monkeypatch.setattr(freshness, "now", lambda: now)
    schedule = defs.resolve_schedule_def(freshness.FRESHNESS_SCHEDULE)
    with dg.build_schedule_context(instance=instance) as context:
        [request] = schedule.evaluate_tick(context).run_requests
    job = defs.resolve_job_def(schedule.job_name)
    result = job.execute_in_process(instance=instance, tags=request.tags)
    assert result.success  # a failing freshness check fails no run: nothing was built
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize(
    ("minutes", "passed", "severity"),
    [
        (30, True, None),  # 30 min <= 1 h
        (90, False, dg.AssetCheckSeverity.WARN),  # 1 h < 90 min <= 2 h
        (150, False, dg.AssetCheckSeverity.ERROR),  # 150 min > twice 1 h
    ],
)
def test_a_source_warns_after_expected_every_and_fails_after_twice(
    plant_factory, monkeypatch, minutes, passed, severity
):
    plant = plant_factory(_config())
    defs = build_definitions(plant.resource)
    with dg.instance_for_test() as instance:
        _before, after = _land(plant, instance)
        # landing takes seconds: the age is `minutes` and a few seconds, far from the 60 and 120 min edges
        evaluations = _run_checks(defs, instance, monkeypatch, after + dt.timedelta(minutes=minutes))
    check = evaluations["source_fresh__historian"]
    assert check.passed is passed
    if severity is not None:
        assert check.severity == severity
    assert check.asset_key == dg.AssetKey("bronze__file_ledger")
    assert check.metadata["source"].value == "historian"


def test_a_source_no_file_ever_landed_from_fails_and_the_schedule_follows_the_plant_yaml(plant_factory, monkeypatch):
    plant = plant_factory(_config(freshness_checks=False))
    defs = build_definitions(plant.resource)
    assert defs.resolve_schedule_def(freshness.FRESHNESS_SCHEDULE).default_status == dg.DefaultScheduleStatus.STOPPED
    on = build_definitions(plant_factory(_config()).resource)
    assert on.resolve_schedule_def(freshness.FRESHNESS_SCHEDULE).default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.instance_for_test() as instance:
        evaluations = _run_checks(defs, instance, monkeypatch, dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC))
    check = evaluations["source_fresh__historian"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR


def test_the_due_day_fails_until_its_marts_are_published(plant_factory, monkeypatch):
    plant = plant_factory(_config(publish_within="2h"))
    defs = build_definitions(plant.resource)
    # 2 Mar ends at 06:00 Berlin on 3 Mar = 05:00 UTC; due 2 h later, at 07:00 UTC
    due = dt.datetime(2026, 3, 3, 7, 0, tzinfo=dt.UTC)
    with dg.instance_for_test() as instance:
        _land(plant, instance)
        # a minute before 2 Mar is due, the newest due day is 1 Mar: no points landed for it, nothing to publish
        early = _run_checks(defs, instance, monkeypatch, due - dt.timedelta(minutes=1))["last_day_published_on_time"]
        assert early.passed and early.metadata["day"].value == "2026-03-01"
        late = _run_checks(defs, instance, monkeypatch, due + dt.timedelta(minutes=1))["last_day_published_on_time"]
        assert not late.passed and late.severity == dg.AssetCheckSeverity.ERROR
        assert late.metadata["day"].value == DAY
        assert late.metadata["deadline"].value == "2026-03-03T07:00:00+00:00"
        assert late.asset_key == dg.AssetKey("mart__oee_daily")
        plant.build_day(DAY)  # published late: the check passes from then on
        after = _run_checks(defs, instance, monkeypatch, due + dt.timedelta(minutes=20))["last_day_published_on_time"]
    assert after.passed and after.metadata["day"].value == DAY and after.metadata["published_at"].value


def test_the_day_published_in_the_marts_file_alone_counts(plant_factory, monkeypatch):
    plant = plant_factory(_config())
    defs = build_definitions(plant.resource)
    due = dt.datetime(2026, 3, 3, 7, 1, tzinfo=dt.UTC)
    with dg.instance_for_test() as instance:
        _land(plant, instance)
        plant.build_day(DAY)
        # a lakehouse published before it kept the day watermark: the marts file alone holds the day
        watermark = plant.root / "lakehouse__day_builds"
        assert watermark.is_dir()
        for child in sorted(watermark.rglob("*"), reverse=True):
            child.unlink() if child.is_file() else child.rmdir()
        watermark.rmdir()
        check = _run_checks(defs, instance, monkeypatch, due)["last_day_published_on_time"]
    assert check.passed and check.metadata["published_at"].value


def test_a_stale_source_is_sent_once(plant_factory, alert_env, webhook, mailbox, monkeypatch):
    plant = plant_factory(_config())
    defs = build_definitions(plant.resource)
    with dg.instance_for_test() as instance:
        _before, after = _land(plant, instance)
        cursor = tick(defs, instance)  # the landing run: nothing to tell
        assert webhook.bodies == []
        stale_at = after + dt.timedelta(minutes=150)
        _run_checks(defs, instance, monkeypatch, stale_at)
        cursor = tick(defs, instance, cursor)
        # 15 minutes later the schedule checks again: still the same stale source, not sent again
        _run_checks(defs, instance, monkeypatch, stale_at + dt.timedelta(minutes=15))
        tick(defs, instance, cursor)
    [body] = webhook.bodies
    assert body["what"] == "Asset check failed"
    assert body["where"] == "bronze__file_ledger: source_fresh__historian"
    assert body["link"] == "http://127.0.0.1:3000/assets/bronze__file_ledger?view=checks"
    assert "source 'historian'" in body["detail"] and "expected every 60 min" in body["detail"]
    assert [m["Subject"] for _, m in mailbox.messages] == [
        "[iiot-lakehouse] Asset check failed: bronze__file_ledger: source_fresh__historian"
    ]


def test_a_line_day_below_its_oee_target_is_sent_once(plant_factory, alert_env, webhook, mailbox):
    plant = plant_factory()
    plant.root.mkdir(parents=True)
    # a published marts file with line targets (oee_target), written here by hand
    con = duckdb.connect(str(plant.root / "marts.duckdb"))
    con.execute("create table oee_line_daily (line varchar, day date, oee double, oee_target double)")
    con.executemany(
        "insert into oee_line_daily values (?, ?, ?, ?)",
        [
            ("L1", dt.date(2026, 3, 2), 0.55, 0.60),  # below: sent
            ("L2", dt.date(2026, 3, 2), 0.70, 0.60),  # above
            ("L3", dt.date(2026, 3, 2), 0.40, None),  # no target
            ("L1", dt.date(2026, 2, 20), 0.10, 0.60),  # below, but 10 days before the newest day: history
        ],
    )
    con.close()
    defs = build_definitions(plant.resource)
    with dg.instance_for_test() as instance:
        cursor = tick(defs, instance)
        tick(defs, instance, cursor)
    assert [(b["what"], b["where"], b["detail"]) for b in webhook.bodies] == [
        ("OEE below target", "L1 on 2026-03-02", "OEE 55.0%, target 60.0%")
    ]
    assert len(mailbox.messages) == 1


def test_marts_without_targets_send_no_target_alert(plant_factory, alert_env, webhook):
    plant = plant_factory()
    plant.root.mkdir(parents=True)
    con = duckdb.connect(str(plant.root / "marts.duckdb"))
    con.execute("create table oee_line_daily (line varchar, day date, oee double)")
    con.execute("insert into oee_line_daily values ('L1', date '2026-03-02', 0.1)")
    con.close()
    with dg.instance_for_test() as instance:
        tick(build_definitions(plant.resource), instance)
    assert webhook.bodies == []
