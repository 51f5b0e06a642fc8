"""Mart assets: the OEE marts built in DuckDB from silver and published as marts.duckdb."""

import datetime as dt
import re

import dagster as dg
import duckdb

from orchestration.partitions import partition_day
from orchestration.resources import LakehouseResource

from .core import object_store
from .core.marts import fetch_published_marts, marts_uri, publish_marts, silver_days
from .core.schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_PLANT_CALENDAR,
)

MART_GROUP = "marts"
BOUNDS_CHECK = "ratios_and_times_in_bounds"


def bounds_problems(marts_file, day) -> list[str]:
    """Rows of oee_daily for the day whose times or ratios cannot be right."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        rows = con.execute(
            """
            select line || '/' || machine || ': ' || problem
            from (
                select line, machine, unnest([
                    case when planned_production_time_s > scheduled_time_s + 1e-6 then 'planned > scheduled' end,
                    case when scheduled_time_s > calendar_time_s + 1e-6 then 'scheduled > calendar' end,
                    case when run_time_s > planned_production_time_s + 1e-6 then 'run > planned production' end,
                    case when availability < 0 or availability > 1 + 1e-9 then 'availability outside 0..1' end,
                    case when quality < 0 or quality > 1 + 1e-9 then 'quality outside 0..1' end,
                    case when reject_count < 0 or good_count < 0 then 'negative count' end
                ]) as problem
                from oee_daily where day = ?
            )
            where problem is not null
            """,
            [day],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


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
                description="Times nest (run <= planned <= scheduled <= calendar) and ratios lie in 0..1.",
            )
        ],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        pool="marts_publish",
    )
    def mart__oee_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """The OEE, downtime, reliability, energy, sensor and data-quality marts of the day, published
        in marts.duckdb (the day before, and the days on which stops still open began, are rebuilt too,
        so shifts and stops across midnight are whole)."""
        day = partition_day(context.partition_key)
        root, options = lakehouse.lakehouse_root, lakehouse.storage_options()
        target = fetch_published_marts(root, options)
        before = day - dt.timedelta(days=1)
        available = set(silver_days(root, options))
        days = sorted({d for d in (before, *open_stop_days(target, day)) if d in available} | {day})
        written = publish_marts(root, lakehouse.plant(), days, options)
        problems = bounds_problems(target, day)
        published = marts_uri(root)
        remote = object_store.is_remote(published)
        location = dg.MetadataValue.url(published) if remote else dg.MetadataValue.path(published)
        return dg.MaterializeResult(
            metadata={"marts_file": location, "days_rebuilt": [d.isoformat() for d in days]}
            | {f"{name}_rows": rows for name, rows in written.items()}
            | headline_numbers(target, day),
            check_results=[
                dg.AssetCheckResult(
                    check_name=BOUNDS_CHECK,
                    asset_key="mart__oee_daily",
                    passed=not problems,
                    metadata={"problems": dg.MetadataValue.json(problems[:50])},
                )
            ],
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
    numbers = {f"oee_{re.sub(r'[^a-z0-9_]', '_', line.lower())}": oee for line, oee in lines if oee is not None}
    if site and site[0][0] is not None:
        numbers["oee_site"] = site[0][0]
    return numbers
