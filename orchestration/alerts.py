"""Alerts: a failed run, a failed or warning asset check (a stale source and a late day among them, see
freshness.py), a machine's day flagged and a line's OEE below its target in the published marts, each sent
once to a webhook (ALERT_WEBHOOK_URL) and/or by email (ALERT_SMTP_HOST, ALERT_EMAIL_TO).

The sensor keeps what it has looked at in its cursor: the last ended runs it has read (their checks with
them), the flagged days it has sent, and the alerts a channel has not taken yet (retried on the next tick,
never sent again on a channel that took them). Sending uses the standard library (urllib, smtplib): a plant's air-gapped
machine gains no dependency and no client that phones home.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate

import dagster as dg
import duckdb
from dagster._core.event_api import EventLogRecord
from dagster._core.events import DagsterEventType

from assets.marts.published import fetch_published_marts

from .resources import LakehouseResource

__all__ = ["ALERT_SENSOR", "Alert", "AlertResource", "alerts_from_env", "build_alert_sensor"]

ALERT_SENSOR = "alert_sensor"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
# A sensor started on an instance with history reports the last day's failures, not the instance's life.
FIRST_LOOKBACK_S = 24 * 3600
# Flagged days this far before the newest day in the marts are history, not news.
MARTS_LOOKBACK_DAYS = 7
EVENTS_PER_TICK = 200
# Alerts a channel keeps refusing are dropped beyond this many (the oldest first), so the cursor stays small.
MAX_PENDING = 500
# Alerts keyed by their check (not their run) that were sent, kept this many (the newest): a freshness check
# evaluated every 15 minutes tells of one stale source once.
MAX_SENT_ONCE = 500
# A check result's metadata entry that keys its alert across runs (orchestration/freshness.py writes it).
ALERT_KEY = "alert_key"
ONCE_PREFIX = "once:"
CHANNELS = ("webhook", "email")

# environment variable -> AlertResource field
ENV_FIELDS = {
    "ALERT_WEBHOOK_URL": "webhook_url",
    "DAGSTER_UI_URL": "ui_url",
    "ALERT_SMTP_HOST": "smtp_host",
    "ALERT_SMTP_PORT": "smtp_port",
    "ALERT_SMTP_FROM": "smtp_from",
    "ALERT_EMAIL_TO": "email_to",
    "ALERT_SMTP_USER": "smtp_user",
    "ALERT_SMTP_PASSWORD": "smtp_password",
}


@dataclass(frozen=True)
class Alert:
    """One thing to tell: what happened, where, when (ISO 8601, UTC) and the UI page that shows it."""

    key: str
    what: str
    where: str
    when: str
    link: str
    detail: str = ""

    def body(self) -> dict[str, str]:
        """The webhook's JSON body."""
        return {"what": self.what, "where": self.where, "when": self.when, "link": self.link, "detail": self.detail}

    def subject(self) -> str:
        return f"[iiot-lakehouse] {self.what}: {self.where}"

    def text(self) -> str:
        lines = [f"What:  {self.what}", f"Where: {self.where}", f"When:  {self.when}", f"Link:  {self.link}"]
        return "\n".join(lines + ([f"\n{self.detail}"] if self.detail else [])) + "\n"


class AlertResource(dg.ConfigurableResource):
    """Where alerts go. Built from the environment by `alerts_from_env`; the SMTP credentials are read
    through dg.EnvVar, so the UI shows the variable's name, never the password."""

    webhook_url: str | None = None
    ui_url: str = DEFAULT_UI_URL
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    email_to: str | None = None  # comma-separated addresses
    smtp_user: str | None = None
    smtp_password: str | None = None
    timeout_s: float = 10.0

    def channels(self) -> list[str]:
        out = []
        if self.webhook_url:
            out.append("webhook")
        if self.smtp_host and self.email_to:
            out.append("email")
        return out

    def link(self, path: str) -> str:
        return f"{self.ui_url.rstrip('/')}/{path.lstrip('/')}"

    def send(self, channel: str, alert: Alert) -> None:
        """Deliver on one channel; raises OSError (URLError, SMTPException) when it is not taken."""
        if channel == "webhook":
            self._post(alert)
        elif channel == "email":
            self._mail(alert)
        else:
            raise ValueError(f"unknown alert channel {channel!r}")

    def _post(self, alert: Alert) -> None:
        request = urllib.request.Request(
            self.webhook_url or "",
            data=json.dumps(alert.body(), sort_keys=True).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "iiot-lakehouse-alerts"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # an HTTP error status raises
            response.read()

    def _mail(self, alert: Alert) -> None:
        # one line per header (RFC 5322 allows 998 characters): the standard folding would start a long
        # subject on a continuation line, which some clients show with a leading space
        message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
        message["Subject"] = alert.subject()
        message["From"] = self.smtp_from or f"iiot-lakehouse@{self.smtp_host}"
        message["To"] = ", ".join(self._recipients())
        message["Date"] = formatdate(localtime=False)
        message.set_content(alert.text())
        with smtplib.SMTP(self.smtp_host or "", self.smtp_port, timeout=self.timeout_s) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message)

    def _recipients(self) -> list[str]:
        return [a.strip() for a in (self.email_to or "").split(",") if a.strip()]


def alerts_from_env(env: Mapping[str, str] | None = None) -> AlertResource:
    """The resource of the ALERT_* variables that are set (an unset one keeps the field's default)."""
    env = os.environ if env is None else env
    fields: dict[str, object] = {}
    for var, field in ENV_FIELDS.items():
        if env.get(var):
            fields[field] = dg.EnvVar.int(var) if field == "smtp_port" else dg.EnvVar(var)
    return AlertResource(**fields)


# --- what there is to tell ---------------------------------------------------------------------------------


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def ended_runs(
    instance: dg.DagsterInstance, event_type: DagsterEventType, after: int | None
) -> tuple[list[EventLogRecord], int | None]:
    """The runs that ended (RUN_FAILURE or RUN_SUCCESS) after storage id `after`, oldest first; the first
    time, those of the last FIRST_LOOKBACK_S. Run status events are kept in the instance's index, so one
    storage id orders them whatever the event storage (SQLite's is sharded per run, Postgres is not)."""
    records_filter = dg.RunStatusChangeRecordsFilter(
        event_type=event_type,
        after_storage_id=after,
        after_timestamp=None if after is not None else time.time() - FIRST_LOOKBACK_S,
    )
    records = list(instance.fetch_run_status_changes(records_filter, limit=EVENTS_PER_TICK, ascending=True).records)
    # none yet: stay on the look-back window (a storage id of 0 would read the instance's whole history)
    return records, max([r.storage_id for r in records], default=after)


def failed_run(instance: dg.DagsterInstance, record: EventLogRecord, alerts: AlertResource) -> Alert:
    entry = record.event_log_entry
    run = instance.get_run_by_id(entry.run_id)
    job = run.job_name if run else entry.job_name
    partition = run.tags.get("dagster/partition") if run else None
    return Alert(
        key=f"run:{entry.run_id}",
        what="Run failed",
        where=f"{job} ({partition})" if partition else str(job),
        when=_iso(entry.timestamp),
        link=alerts.link(f"runs/{entry.run_id}"),
        detail=(entry.dagster_event.message if entry.dagster_event else None) or entry.user_message or "",
    )


def failed_checks(instance: dg.DagsterInstance, run_id: str, alerts: AlertResource) -> list[Alert]:
    """The asset checks of an ended run that did not pass: severity ERROR is "failed", WARN "warning"."""
    out = []
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        asset = evaluation.asset_key.to_user_string()
        warning = evaluation.severity == dg.AssetCheckSeverity.WARN
        partition = getattr(evaluation, "partition", None)
        once = evaluation.metadata.get(ALERT_KEY)
        key = f"check:{run_id}:{asset}:{evaluation.check_name}:{partition or ''}"
        detail = f"run {run_id}"
        if once is not None:
            # the same state in the next run is the same news: keyed by the check's own key, with its words
            key = f"{ONCE_PREFIX}{asset}:{evaluation.check_name}:{once.value}"
            detail = f"{evaluation.description}\n{detail}" if evaluation.description else detail
        out.append(
            Alert(
                key=key,
                what="Asset check warning" if warning else "Asset check failed",
                where=f"{asset}: {evaluation.check_name}" + (f" ({partition})" if partition else ""),
                when=_iso(record.event_log_entry.timestamp),
                link=alerts.link(f"assets/{'/'.join(map(urllib.parse.quote, evaluation.asset_key.path))}?view=checks"),
                detail=detail,
            )
        )
    return out


FLAGGED_DAYS_SQL = """
    with recent as (select max(day) as newest from oee_daily)
    select line, machine, day, coalesce(data_quality_reason, '') as reason
    from oee_daily, recent
    where not data_quality_ok and day > newest - cast(? as integer)
    order by day, line, machine
"""


def flagged_days(lakehouse: LakehouseResource, alerts: AlertResource) -> list[Alert]:
    """A machine's production day whose OEE rests on poor data (oee_daily.data_quality_ok false), over the
    last MARTS_LOOKBACK_DAYS days of the published marts."""
    path = fetch_published_marts(lakehouse.lakehouse_root, lakehouse.storage_options())
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(FLAGGED_DAYS_SQL, [MARTS_LOOKBACK_DAYS]).fetchall()
    except duckdb.CatalogException:  # published before oee_daily existed
        return []
    finally:
        con.close()
    when = _iso(path.stat().st_mtime)
    return [
        Alert(
            key=f"day:{line}/{machine}/{day.isoformat()}",
            what="Data quality flagged",
            where=f"{line}/{machine} on {day.isoformat()}",
            when=when,
            link=alerts.link("assets/mart__oee_daily"),
            detail=reason,
        )
        for line, machine, day, reason in rows
    ]


BELOW_TARGET_SQL = """
    with recent as (select max(day) as newest from oee_line_daily)
    select line, day, oee, oee_target
    from oee_line_daily, recent
    where oee_target is not null and oee < oee_target and day > newest - cast(? as integer)
    order by day, line
"""
HAS_TARGETS_SQL = """
    select count(*) from information_schema.columns
    where table_name = 'oee_line_daily' and column_name = 'oee_target'
"""


def lines_below_target(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(line, day, oee, oee_target) of each line-day whose OEE is below its target, over the last
    MARTS_LOOKBACK_DAYS days; none from marts published without targets (no oee_target column)."""
    if not con.execute(HAS_TARGETS_SQL).fetchone()[0]:
        return []
    return con.execute(BELOW_TARGET_SQL, [MARTS_LOOKBACK_DAYS]).fetchall()


def below_target(lakehouse: LakehouseResource, alerts: AlertResource) -> list[Alert]:
    """A line's production day whose OEE is below the line's target (oee_line_daily.oee_target)."""
    path = fetch_published_marts(lakehouse.lakehouse_root, lakehouse.storage_options())
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = lines_below_target(con)
    finally:
        con.close()
    when = _iso(path.stat().st_mtime)
    return [
        Alert(
            key=f"target:{line}/{day.isoformat()}",
            what="OEE below target",
            where=f"{line} on {day.isoformat()}",
            when=when,
            link=alerts.link("assets/mart__oee_daily"),
            detail=f"OEE {oee:.1%}, target {target:.1%}",
        )
        for line, day, oee, target in rows
    ]


# --- the sensor ------------------------------------------------------------------------------------------


def build_alert_sensor(running: bool = True) -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(
        name=ALERT_SENSOR,
        minimum_interval_seconds=60,
        default_status=status,
        description="Sends each failed run, failed or warning asset check, flagged machine day and line-day below "
        "its OEE target once, to "
        "ALERT_WEBHOOK_URL and/or by email (ALERT_SMTP_HOST, ALERT_EMAIL_TO).",
    )
    def alert_sensor(context: dg.SensorEvaluationContext, alerts: AlertResource, lakehouse: LakehouseResource):
        channels = alerts.channels()
        if not channels:
            return dg.SkipReason("no alert channel: set ALERT_WEBHOOK_URL, or ALERT_SMTP_HOST and ALERT_EMAIL_TO")
        state = json.loads(context.cursor) if context.cursor else {}
        instance = context.instance
        failures, state["failed"] = ended_runs(instance, DagsterEventType.RUN_FAILURE, state.get("failed"))
        successes, state["succeeded"] = ended_runs(instance, DagsterEventType.RUN_SUCCESS, state.get("succeeded"))
        runs = [failed_run(instance, r, alerts) for r in failures]
        ended = sorted(failures + successes, key=lambda r: r.storage_id)
        checks = [a for r in ended for a in failed_checks(instance, r.event_log_entry.run_id, alerts)]
        checks = _not_sent_before(checks, state)
        days = flagged_days(lakehouse, alerts) + below_target(lakehouse, alerts)
        sent_days = set(state.get("days", []))
        # A day still flagged (or below target) is not sent again; one that clears and is flagged again later is.
        state["days"] = sorted(a.key for a in days)
        fresh = [*runs, *checks, *(a for a in days if a.key not in sent_days)]
        pending = state.get("pending", []) + [{"alert": asdict(a), "channels": channels} for a in fresh]
        left, sent = [], 0
        for item in pending:
            alert = Alert(**item["alert"])
            refused = []
            for channel in item["channels"]:
                try:
                    alerts.send(channel, alert)
                    sent += 1
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    context.log.warning(f"alert {alert.key} not sent by {channel}: {exc}")
                    refused.append(channel)
            if refused:
                left.append({**item, "channels": refused})
        state["pending"] = left[-MAX_PENDING:]
        context.update_cursor(json.dumps(state, sort_keys=True))
        if not pending:
            return dg.SkipReason("nothing new to alert")
        return dg.SkipReason(f"{len(pending)} alert(s): {sent} sent, {len(left)} to retry")

    return alert_sensor


def _not_sent_before(checks: list[Alert], state: dict) -> list[Alert]:
    """The check alerts to send: every one keyed by its run, and those keyed by their check (a stale source,
    a late day) not sent before; the latter are remembered in the cursor."""
    sent = list(state.get("once", []))
    seen = set(sent)
    out = []
    for alert in checks:
        if alert.key.startswith(ONCE_PREFIX):
            if alert.key in seen:
                continue
            seen.add(alert.key)
            sent.append(alert.key)
        out.append(alert)
    state["once"] = sent[-MAX_SENT_ONCE:]
    return out
