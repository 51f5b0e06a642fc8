"""Mart assets: the OEE marts built in DuckDB from silver and published as marts.duckdb."""

import dagster as dg
import duckdb

from orchestration.partitions import partition_day
from orchestration.resources import LakehouseResource

from .core.marts import MARTS, marts_path, publish_marts
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
        """OEE per machine per production day (table oee_daily in marts.duckdb): availability,
        performance, quality and the times and counts behind them."""
        day = partition_day(context.partition_key)
        written = publish_marts(lakehouse.lakehouse_root, lakehouse.plant(), [day])
        target = marts_path(lakehouse.lakehouse_root)
        problems = bounds_problems(target, day)
        return dg.MaterializeResult(
            metadata={"marts_file": str(target), "rows": written.get("oee_daily", 0)}
            | {f"{m.name}_rows": written.get(m.name, 0) for m in MARTS},
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
