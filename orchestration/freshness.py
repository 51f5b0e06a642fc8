"""Freshness checks: each source with an expected_every (a new file landed recently enough) and the newest
due production day (its marts published within automation.publish_within of its end).

They are asset checks (on the file ledger and on mart__oee_daily), run by a check-only job every 15 minutes
(freshness_checks_schedule), so each evaluation shows on the asset's Checks tab and reaches the alert sensor
like any other check of an ended run. Each result carries an `alert_key` that stays the same while nothing
changes (the source's last landing, the day), so the alert sensor sends a stale source or a late day once,
not every 15 minutes.
"""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg

from assets.bronze.freshness import SourceFreshness, last_landed, source_freshness
from assets.marts.freshness import day_publication, due_day
from assets.plant.config import PlantConfig
from assets.storage.schemas import FILE_LEDGER

from .jobs import JOB_KIND_TAG
from .resources import LakehouseResource
from .schedules import schedule_status

__all__ = [
    "FRESHNESS_JOB",
    "FRESHNESS_SCHEDULE",
    "MARTS_ASSET",
    "MARTS_PUBLISHED_CHECK",
    "build_freshness",
    "now",
    "source_check_name",
]

FRESHNESS_JOB = "freshness_checks_job"
FRESHNESS_SCHEDULE = "freshness_checks_schedule"
MARTS_ASSET = "mart__oee_daily"
MARTS_PUBLISHED_CHECK = "last_day_published_on_time"
# the metadata entry the alert sensor keys a check's alert by (orchestration/alerts.py)
ALERT_KEY = "alert_key"
_SEVERITY = {"late": dg.AssetCheckSeverity.WARN, "stale": dg.AssetCheckSeverity.ERROR}


def now() -> dt.datetime:
    """The checks' clock (tests freeze it here)."""
    return dt.datetime.now(dt.UTC)


def source_check_name(source: str) -> str:
    """A check name for a source (Dagster allows letters, digits and '_' only; a source name may hold '.', '-')."""
    return "source_fresh__" + re.sub(r"\W", "_", source)


def _iso(instant: dt.datetime | None) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="seconds") if instant else ""


def _source_result(check_name: str, fresh: SourceFreshness) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=FILE_LEDGER.name,
        check_name=check_name,
        passed=fresh.state == "fresh",
        severity=_SEVERITY.get(fresh.state, dg.AssetCheckSeverity.WARN),
        description=fresh.describe(),
        metadata={
            "source": fresh.source,
            "expected_every_minutes": fresh.expected_every.total_seconds() / 60,
            "last_landed_at": _iso(fresh.last_landed_at),
            "minutes_since": round(fresh.age.total_seconds() / 60, 1) if fresh.age is not None else None,
            ALERT_KEY: f"source:{fresh.source}:{_iso(fresh.last_landed_at) or 'never'}:{fresh.state}",
        },
    )


def _source_checks(config: PlantConfig) -> dg.AssetChecksDefinition | None:
    watched = {s.name: s.expected_every for s in config.sources if s.expected_every is not None}
    if not watched:
        return None
    names = {source: source_check_name(source) for source in watched}

    @dg.multi_asset_check(
        name="source_freshness_checks",
        specs=[
            dg.AssetCheckSpec(
                names[source],
                asset=FILE_LEDGER.name,
                description=f"A file of source {source!r} landed within its expected_every ({every}); "
                "none for longer warns, for twice as long fails.",
            )
            for source, every in watched.items()
        ],
        can_subset=True,
    )
    def source_freshness_checks(context, lakehouse: LakehouseResource):
        # (context unannotated: Dagster reads the annotation, which postponed evaluation leaves a string)
        landed = last_landed(lakehouse.lakehouse())
        selected = {key.name for key in context.selected_asset_check_keys}
        for fresh in source_freshness(watched, landed, now()):
            if names[fresh.source] in selected:
                yield _source_result(names[fresh.source], fresh)

    return source_freshness_checks


def _marts_check(config: PlantConfig) -> dg.AssetChecksDefinition:
    within = config.automation.publish_within

    @dg.asset_check(
        asset=MARTS_ASSET,
        name=MARTS_PUBLISHED_CHECK,
        description=f"The newest production day that ended over {within} ago (automation.publish_within) "
        "has its marts published; a day no points landed for is left to the sources' checks.",
    )
    def last_day_published_on_time(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
        at = now()
        day = due_day(config, at)
        if day is None:
            return dg.AssetCheckResult(passed=True, description="no production day is due yet")
        pub = day_publication(lakehouse.lakehouse_root, config, day, lakehouse.storage_options())
        passed = pub.published_at is not None or not pub.has_data
        if pub.published_at is not None:
            text = f"{day.isoformat()} published at {_iso(pub.published_at)}"
        elif not pub.has_data:
            text = f"{day.isoformat()}: no points landed for it, nothing to publish"
        else:
            text = f"{day.isoformat()} not published by {_iso(pub.deadline)}"
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=text,
            metadata={
                "day": day.isoformat(),
                "deadline": _iso(pub.deadline),
                "published_at": _iso(pub.published_at),
                ALERT_KEY: f"published:{day.isoformat()}",
            },
        )

    return last_day_published_on_time


def build_freshness(
    config: PlantConfig,
) -> tuple[list[dg.AssetChecksDefinition], dg.UnresolvedAssetJobDefinition, dg.ScheduleDefinition]:
    """The freshness checks, their check-only job and its schedule (on unless automation.freshness_checks
    is false)."""
    checks = [c for c in (_source_checks(config), _marts_check(config)) if c is not None]
    job = dg.define_asset_job(
        FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(*checks),
        tags={JOB_KIND_TAG: "freshness"},
        description="Check each source's last landing and the newest due day's marts (no asset is built).",
    )
    schedule = dg.ScheduleDefinition(
        name=FRESHNESS_SCHEDULE,
        job=job,
        cron_schedule="*/15 * * * *",
        execution_timezone=config.timezone,
        default_status=schedule_status(config.automation.freshness_checks),
        description="Every 15 minutes, the freshness checks: sources (expected_every) and the last day's marts "
        "(automation.publish_within).",
    )
    return checks, job, schedule
