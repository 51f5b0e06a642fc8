"""Mart assets: every mart of the registry (sql/marts/) an asset of its own, built together in one DuckDB
pass per production day and published as marts.duckdb (write, audit, publish), each with its audit check."""

import datetime as dt
import re
from collections.abc import Sequence

import dagster as dg
import duckdb

from assets.marts.audit import PERFORMANCE_TOLERANCE, AuditProblem, MartsAuditError
from assets.marts.inputs import checked_name, silver_days
from assets.marts.publish import publish_marts
from assets.marts.published import fetch_published_marts, marts_uri
from assets.marts.registry import SCOPES, Mart, all_marts
from assets.plant.calendar import partition_day
from assets.silver import watermarks
from assets.storage import object_store
from assets.storage.asset_metadata import (
    COLUMN_SCHEMA,
    OWNERS,
    ROW_COUNT,
    TABLE_NAME,
    column_schema,
    layer_tags,
)
from assets.storage.failures import no_retry_for_storage_faults
from assets.storage.resource import LakehouseResource

MART_GROUP = "marts"
# the step that builds, audits and publishes every mart of a production day
PUBLISH_STEP = "publish_marts"
# the check of a mart whose rows the audit reads (its YAML names the audit's checks that guard it)
BOUNDS_CHECK = "ratios_and_times_in_bounds"
# the check of a mart the audit reads no row of: it passes when the mart was published with the others
PUBLISHED_CHECK = "published_after_audit"
_CHECK_TEXT = {
    "times_nest": "times nest (run <= planned <= scheduled <= calendar)",
    "ratio_in_range": f"ratios lie in 0..1 (performance up to {PERFORMANCE_TOLERANCE})",
    "time_not_negative": "no time is negative",
    "count_not_negative": "counts are not negative",
    "seconds_add_up": "a machine-day's seconds add up to its calendar time",
    "states_tile_day": "the machine's silver states tile the day",
    "rollup_equals_sum": "times equal the sums over their machines",
    "output_is_output_machines": "the output counts are the output machine's",
}


def mart_key(name: str) -> dg.AssetKey:
    """The asset key of a mart: `mart__<name>`."""
    return dg.AssetKey(f"mart__{name}")


def mart_table_name(mart: Mart) -> str:
    return f"marts.duckdb:main.{mart.name}"


def mart_check_name(mart: Mart) -> str:
    return BOUNDS_CHECK if mart.checks else PUBLISHED_CHECK


def mart_deps(mart: Mart, marts: Sequence[Mart]) -> list[dg.AssetKey]:
    """The silver tables and the marts the mart's SQL reads (the registry parses it), as asset keys."""
    names = {m.name for m in marts}
    return [mart_key(table) if table in names else dg.AssetKey(table) for table in mart.reads]


def mart_spec(mart: Mart, marts: Sequence[Mart]) -> dg.AssetSpec:
    types = dict(mart.column_types)
    return dg.AssetSpec(
        mart_key(mart.name),
        description=f"{mart.description.strip()}\n\nGrain: {mart.grain.strip()}",
        deps=mart_deps(mart, marts),
        group_name=MART_GROUP,
        kinds={"duckdb"},
        owners=list(OWNERS),
        tags=layer_tags(MART_GROUP),
        metadata={
            COLUMN_SCHEMA: column_schema((column, types.get(column, ""), doc) for column, doc in mart.columns),
            TABLE_NAME: mart_table_name(mart),
        },
    )


def mart_check_spec(mart: Mart) -> dg.AssetCheckSpec:
    if mart.checks:
        description = (
            f"The rebuilt days of {mart.name} pass the audit before they are published "
            f"(sql/audit/marts_audit.sql): {'; '.join(_CHECK_TEXT.get(c, c) for c in mart.checks)}. "
            "A day that fails is not published, in any mart."
        )
    else:
        description = (
            f"{mart.name} was published with the marts that passed the audit (sql/audit/marts_audit.sql "
            "checks none of its rows; a day another mart fails is not published, in any mart)."
        )
    return dg.AssetCheckSpec(mart_check_name(mart), asset=mart_key(mart.name), blocking=True, description=description)


def audit_check_result(mart: Mart, problems: list[AuditProblem], days: list[dt.date]) -> dg.AssetCheckResult:
    """A mart's blocking check: the audit's problems in its rows of the rebuilt days, as metadata."""
    problems = [p for p in problems if p.mart == mart.name]
    return dg.AssetCheckResult(
        check_name=mart_check_name(mart),
        asset_key=mart_key(mart.name),
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
    marts = all_marts()

    @dg.multi_asset(
        name=PUBLISH_STEP,
        specs=[mart_spec(mart, marts) for mart in marts],
        check_specs=[mart_check_spec(mart) for mart in marts],
        partitions_def=partitions_def,
        # one DuckDB pass builds every mart and one rename publishes them: never a part of them
        can_subset=False,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        pool="marts_publish",
    )
    def publish_marts_of_day(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """The OEE, downtime, reliability, energy, sensor and data-quality marts of the day, published
        in marts.duckdb (the day before, the day after where it was published without this one, and the
        days on which stops still open began, are rebuilt too, so shifts and stops across midnight are
        whole in any build order)."""
        with no_retry_for_storage_faults(lakehouse.lakehouse_root, marts_uri(lakehouse.lakehouse_root)):
            yield from _publish_day(context, lakehouse)

    def _publish_day(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        day = partition_day(context.partition_key)
        root, options = lakehouse.lakehouse_root, lakehouse.storage_options()
        target = fetch_published_marts(root, options)
        before, after = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        available = set(silver_days(root, options))
        # The day before may hold a shift or a stop running on into this day. The day after, published
        # before this day's silver was first built (days built out of order, as a backfill on several
        # workers does), misses its changeover from this day's last product: it is rebuilt too, so the
        # marts do not depend on the order the days were built in.
        later = [after] if after in available and watermarks.published_without(root, day, after, options) else []
        days = sorted({d for d in (before, *later, *open_stop_days(target, day)) if d in available} | {day})
        try:
            written = publish_marts(root, lakehouse.plant(), days, options, marts)
        except MartsAuditError as failed:
            # Nothing was published: the checks of the marts whose rows failed are recorded, then the run
            # fails without a retry (the same silver gives the same marts) and without a materialization.
            for mart in marts:
                if any(p.mart == mart.name for p in failed.problems):
                    yield audit_check_result(mart, failed.problems, failed.days)
            raise dg.Failure(
                description=str(failed),
                metadata={"problems": dg.MetadataValue.json([p.as_dict() for p in failed.problems[:50]])},
                allow_retries=False,
            ) from failed
        published = marts_uri(root)
        remote = object_store.is_remote(published)
        location = dg.MetadataValue.url(published) if remote else dg.MetadataValue.path(published)
        day_rows = partition_rows(target, marts, day)
        headline = headline_numbers(target, day)
        for mart in marts:
            yield dg.MaterializeResult(
                asset_key=mart_key(mart.name),
                metadata={
                    TABLE_NAME: mart_table_name(mart),
                    ROW_COUNT: day_rows[mart.name],
                    "marts_file": location,
                    "days_rebuilt": [d.isoformat() for d in days],
                    "rows_rebuilt": written[mart.name],
                }
                | (headline if mart.name == "oee_daily" else {}),
                check_results=[audit_check_result(mart, [], days)],
            )

    return [publish_marts_of_day]


def partition_rows(marts_file, marts: Sequence[Mart], day: dt.date) -> dict[str, int]:
    """Per mart, its rows of the production day as its scope has them (the day; its ISO week or month;
    every row of a dimension)."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        return {
            m.name: int(
                con.execute(
                    f"select count(*) from {checked_name(m.name)} where {SCOPES[m.scope]}", {"days": [day]}
                ).fetchall()[0][0]
            )
            for m in marts
        }
    finally:
        con.close()


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
