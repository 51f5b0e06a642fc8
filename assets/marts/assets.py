"""Mart assets: the OEE marts built in DuckDB from silver and published as marts.duckdb."""

import datetime as dt
import re

import dagster as dg
import duckdb

from assets.marts.audit import PERFORMANCE_TOLERANCE, AuditProblem, MartsAuditError
from assets.marts.inputs import silver_days
from assets.marts.publish import publish_marts
from assets.marts.published import fetch_published_marts, marts_uri
from assets.plant.calendar import partition_day
from assets.storage import object_store
from assets.storage.failures import no_retry_for_storage_faults
from assets.storage.resource import LakehouseResource
from assets.storage.schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_PLANT_CALENDAR,
)

MART_GROUP = "marts"
BOUNDS_CHECK = "ratios_and_times_in_bounds"


def audit_check_result(problems: list[AuditProblem], days: list[dt.date]) -> dg.AssetCheckResult:
    """The blocking check's result: the audit of the rebuilt days, with each problem as metadata."""
    return dg.AssetCheckResult(
        check_name=BOUNDS_CHECK,
        asset_key="mart__oee_daily",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "days_audited": [d.isoformat() for d in days],
            "problem_count": len(problems),
            "problems": dg.MetadataValue.json([p.as_dict() for p in problems[:50]]),
            "first_problem": str(problems[0]) if problems else "",
        },
    )


def build_mart_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="mart__oee_daily",
        partitions_def=partitions_def,
        group_name=MART_GROUP,
        kinds={"duckdb"},
        deps=[
            SILVER_PLANT_CALENDAR.name,
            SILVER_MACHINE_STATES.name,
            SILVER_COUNT_INCREMENTS.name,
            SILVER_ENERGY_INCREMENTS.name,
        ],
        check_specs=[
            dg.AssetCheckSpec(
                BOUNDS_CHECK,
                asset="mart__oee_daily",
                blocking=True,
                description="The rebuilt days, and the shifts that start in them, pass the audit before they are "
                "published (sql/audit/marts_audit.sql): times nest (run <= planned <= scheduled <= calendar), "
                "ratios lie in 0..1 (performance up to "
                f"{PERFORMANCE_TOLERANCE}), counts are not negative, a machine-day's seconds add up to its "
                "calendar time, and line and site times equal the sums over their machines.",
            )
        ],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        pool="marts_publish",
    )
    def mart__oee_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """The OEE, downtime, reliability, energy, sensor and data-quality marts of the day, published
        in marts.duckdb (the day before, and the days on which stops still open began, are rebuilt too,
        so shifts and stops across midnight are whole)."""
        with no_retry_for_storage_faults(lakehouse.lakehouse_root, marts_uri(lakehouse.lakehouse_root)):
            yield from _publish_day(context, lakehouse)

    def _publish_day(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        day = partition_day(context.partition_key)
        root, options = lakehouse.lakehouse_root, lakehouse.storage_options()
        target = fetch_published_marts(root, options)
        before = day - dt.timedelta(days=1)
        available = set(silver_days(root, options))
        days = sorted({d for d in (before, *open_stop_days(target, day)) if d in available} | {day})
        try:
            written = publish_marts(root, lakehouse.plant(), days, options)
        except MartsAuditError as failed:
            # Nothing was published: the failed check is recorded, then the run fails without a retry
            # (the same silver gives the same marts) and without a materialization.
            yield audit_check_result(failed.problems, failed.days)
            raise dg.Failure(
                description=str(failed),
                metadata={"problems": dg.MetadataValue.json([p.as_dict() for p in failed.problems[:50]])},
                allow_retries=False,
            ) from failed
        published = marts_uri(root)
        remote = object_store.is_remote(published)
        location = dg.MetadataValue.url(published) if remote else dg.MetadataValue.path(published)
        yield dg.MaterializeResult(
            metadata={"marts_file": location, "days_rebuilt": [d.isoformat() for d in days]}
            | {f"{name}_rows": rows for name, rows in written.items()}
            | headline_numbers(target, day),
            check_results=[audit_check_result([], days)],
        )

    return [mart__oee_daily]


OPEN_STOP_LOOKBACK_DAYS = 31


def open_stop_days(marts_file, day: dt.date) -> list[dt.date]:
    """Days before `day` on which a stop began that the published marts still show as open, or whose
    end was seen in a day not modelled then: the new day may hold its end or its time in planned
    production, so their marts are rebuilt with it."""
    if not marts_file.exists():
        return []
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        exists = con.execute("select count(*) from duckdb_tables() where table_name = 'downtime_events'").fetchall()[0][
            0
        ]
        if not exists:
            return []
        # a marts file published before downtime_events split its stops has no not_modelled_yet_s
        split = con.execute(
            "select count(*) from duckdb_columns() where table_name = 'downtime_events' "
            "and column_name = 'not_modelled_yet_s'"
        ).fetchall()[0][0]
        rows = con.execute(
            "select distinct day from downtime_events "
            f"where ({'ongoing or not_modelled_yet_s > 0' if split else 'ongoing'}) and day < ? and day >= ?",
            [day, day - dt.timedelta(days=OPEN_STOP_LOOKBACK_DAYS)],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def headline_numbers(marts_file, day) -> dict[str, float]:
    """OEE per line and for the site on the day, as metadata the UI plots over time."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        lines = con.execute("select line, oee from oee_line_daily where day = ? order by line", [day]).fetchall()
        site = con.execute("select oee from oee_site_daily where day = ?", [day]).fetchall()
    finally:
        con.close()
    # an OEE outside 0..1 (a performance above 1 that the audit lets through) is not plotted as a number
    numbers = {f"oee_{re.sub(r'[^a-z0-9_]', '_', line.lower())}": oee for line, oee in lines if _in_0_1(oee)}
    if site and _in_0_1(site[0][0]):
        numbers["oee_site"] = site[0][0]
    return numbers


def _in_0_1(value) -> bool:
    return value is not None and 0 <= value <= 1 + 1e-9
