"""Silver assets: per production day, the plant calendar, machine states and counter and energy increments."""

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.calendar import calendar_table, partition_day, production_day_window
from assets.plant.products import UNKNOWN_PRODUCT
from assets.silver import config_history, tag_aliases, watermarks
from assets.silver.day import (
    COUNT_INCREMENTS,
    ENERGY_INCREMENTS,
    MACHINE_STATES,
    ORDERS,
    PRODUCTION_RUNS,
    SENSOR_INTERVALS,
    TAG_QUALITY,
    SilverModel,
    modelled_day,
)
from assets.silver.sensors import SENSOR_BATCH_ROWS
from assets.storage import delta
from assets.storage.asset_metadata import OWNERS, delta_definition_metadata, layer_tags, materialized_table
from assets.storage.checks import schema_check_result, schema_check_spec
from assets.storage.failures import no_retry_for_storage_faults
from assets.storage.resource import LakehouseResource
from assets.storage.schemas import (
    BRONZE_POINTS,
    SILVER_MACHINE_STATES,
    SILVER_PLANT_CALENDAR,
    TableSpec,
)
from assets.storage.validation import KEY_ORDERED, ValidationResult, validated_stream

SILVER_GROUP = "silver"
TILING_CHECK = "states_tile_the_day"


def _write(
    lakehouse: LakehouseResource,
    spec: TableSpec,
    day,
    table: pa.Table | pa.RecordBatchReader,
    run_id: str,
    started_at,
) -> None:
    """Replace the day's partition, then record the build in the day's watermark (after the commit: a kill
    in between leaves the day looking unbuilt, and it is rebuilt)."""
    delta.replace_days(
        lakehouse.lakehouse().uri(spec.name),
        spec,
        [day],
        table if isinstance(table, pa.RecordBatchReader) else spec.conform(table),
        lakehouse.lakehouse().storage_options,
        metadata={"production_day": day.isoformat(), "dagster_run_id": run_id},
    )
    watermarks.record_builds(
        lakehouse.lakehouse_root, "silver", spec.name, [day], started_at, run_id, lakehouse.storage_options()
    )


def _checked(
    reader: pa.RecordBatchReader, spec: TableSpec, validation: ValidationResult, totals
) -> pa.RecordBatchReader:
    """Validate a stream ordered by the table's key (pandera, and the key across batches) and add each
    batch to the asset's totals as the Delta writer reads it."""

    def batches():
        for batch in validated_stream(reader, spec, validation, SENSOR_BATCH_ROWS, key=KEY_ORDERED):
            totals.add(batch)
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _aliases(context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config) -> tag_aliases.TagAliases:
    """The earlier names of the plant's renamed tags (plant_config_history, read once per run)."""
    return tag_aliases.aliases_for_build(lakehouse.lakehouse_root, config, context.run_id, lakehouse.storage_options())


def tiling_problems(states: pa.Table, window, machines: list[tuple[str, str]]) -> list[str]:
    """Machines whose intervals do not cover the day exactly once, from the first second to the last."""
    problems = []
    for line, machine in machines:
        mask = pc.and_(pc.equal(states["line"], line), pc.equal(states["machine"], machine))
        rows = states.filter(mask).sort_by("start").to_pylist()
        if not rows:
            problems.append(f"{line}/{machine}: no intervals")
            continue
        if rows[0]["start"] != window[0] or rows[-1]["end"] != window[1]:
            problems.append(f"{line}/{machine}: intervals span {rows[0]['start']}..{rows[-1]['end']}, not the day")
        for before, after in zip(rows, rows[1:], strict=False):
            if before["end"] != after["start"]:
                problems.append(f"{line}/{machine}: gap or overlap at {before['end']}")
                break
    return problems


def build_silver_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The silver assets for the plant's production-day partitions."""

    @dg.asset(
        name=SILVER_PLANT_CALENDAR.name,
        partitions_def=partitions_def,
        group_name=SILVER_GROUP,
        kinds={"deltalake"},
        metadata=delta_definition_metadata(SILVER_PLANT_CALENDAR),
        owners=OWNERS,
        tags=layer_tags(SILVER_GROUP),
        check_specs=[schema_check_spec(SILVER_PLANT_CALENDAR)],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        # one writer per Delta table: a partition overwrite is not a blind append
        pool=f"delta_{SILVER_PLANT_CALENDAR.name}",
    )
    def silver__plant_calendar(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """The production day, its shifts, breaks and planned-production windows, in UTC (23 h or 25 h on DST days)."""
        with no_retry_for_storage_faults(
            lakehouse.lakehouse_root, lakehouse.lakehouse().uri(SILVER_PLANT_CALENDAR.name)
        ):
            return _plant_calendar(context, lakehouse)

    def _plant_calendar(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        started_at, day = watermarks.now(), partition_day(context.partition_key)
        root, options = lakehouse.lakehouse_root, lakehouse.lakehouse().storage_options
        # a day of a changed time zone or day_start beside days of the earlier one would overlap them or
        # leave a gap: only a rebuild of every day (`run --rebuild-all`) may build it
        conflict = config_history.neighbour_conflict(root, lakehouse.plant(), day, options)
        if conflict and context.run.tags.get(config_history.REBUILD_ALL_TAG) != "true":
            raise dg.Failure(description=conflict, allow_retries=False)
        table = calendar_table(lakehouse.plant(), [day])
        _write(lakehouse, SILVER_PLANT_CALENDAR, day, table, context.run_id, started_at)
        # under the calendar's pool: one writer of the history at a time
        config_history.record_config(root, lakehouse.plant_config, day, context.run_id, options)
        durations = {k: 0.0 for k in ("day", "shift", "break", "planned")}
        for kind, seconds in zip(table["kind"].to_pylist(), table["duration_s"].to_pylist(), strict=True):
            durations[kind] += seconds
        return dg.MaterializeResult(
            metadata={f"{kind}_s": seconds for kind, seconds in durations.items()}
            | {"rows": table.num_rows}
            | materialized_table(lakehouse.lakehouse().uri(SILVER_PLANT_CALENDAR.name), table.num_rows),
            check_results=[schema_check_result(SILVER_PLANT_CALENDAR, SILVER_PLANT_CALENDAR.conform(table))],
        )

    @dg.asset(
        name=SILVER_MACHINE_STATES.name,
        partitions_def=partitions_def,
        group_name=SILVER_GROUP,
        kinds={"deltalake", "duckdb"},
        metadata=delta_definition_metadata(SILVER_MACHINE_STATES),
        owners=OWNERS,
        tags=layer_tags(SILVER_GROUP),
        deps=[BRONZE_POINTS.name],
        check_specs=[
            schema_check_spec(SILVER_MACHINE_STATES),
            dg.AssetCheckSpec(
                TILING_CHECK,
                asset=SILVER_MACHINE_STATES.name,
                blocking=True,
                description="Each machine's intervals cover the production day exactly once, without gaps.",
            ),
        ],
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
        # one writer per Delta table: a partition overwrite is not a blind append
        pool=f"delta_{SILVER_MACHINE_STATES.name}",
    )
    def silver__machine_states(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        """Machine-state intervals (running, planned and unplanned stops, not scheduled) that tile the day;
        time with no valid state is an unplanned stop for reason 'unknown'."""
        with no_retry_for_storage_faults(
            lakehouse.lakehouse_root, lakehouse.lakehouse().uri(SILVER_MACHINE_STATES.name)
        ):
            return _machine_states(context, lakehouse)

    def _machine_states(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        config, started_at = lakehouse.plant(), watermarks.now()
        day = partition_day(context.partition_key)
        window = production_day_window(config, day)
        aliases = _aliases(context, lakehouse, config)
        with modelled_day(lakehouse.lakehouse(), config, day, MACHINE_STATES, aliases) as states:
            pass  # a table, read whole before the session closes
        _write(lakehouse, SILVER_MACHINE_STATES, day, states, context.run_id, started_at)
        problems = tiling_problems(states, window, [(m.line, m.name) for m in config.oee_machines])
        seconds: dict[str, float] = {}
        for category, duration in zip(states["category"].to_pylist(), states["duration_s"].to_pylist(), strict=True):
            seconds[category] = seconds.get(category, 0.0) + duration
        unknown = sum(
            d
            for r, d in zip(states["reason"].to_pylist(), states["duration_s"].to_pylist(), strict=True)
            if r == "unknown"
        )
        return dg.MaterializeResult(
            metadata={"intervals": states.num_rows, "unknown_state_s": unknown}
            | {f"{k}_s": v for k, v in sorted(seconds.items())}
            | materialized_table(lakehouse.lakehouse().uri(SILVER_MACHINE_STATES.name), states.num_rows),
            check_results=[
                schema_check_result(SILVER_MACHINE_STATES, states),
                dg.AssetCheckResult(
                    check_name=TILING_CHECK,
                    asset_key=SILVER_MACHINE_STATES.name,
                    passed=not problems,
                    metadata={"problems": dg.MetadataValue.json(problems[:50])},
                ),
            ],
        )

    def modelled_asset(silver: SilverModel, doc: str, summary):
        """A silver asset that models the day from the bronze points its selection names."""
        spec = silver.spec

        @dg.asset(
            name=spec.name,
            partitions_def=partitions_def,
            group_name=SILVER_GROUP,
            kinds={"deltalake", "duckdb"},
            deps=[BRONZE_POINTS.name],
            metadata=delta_definition_metadata(spec),
            owners=OWNERS,
            tags=layer_tags(SILVER_GROUP),
            check_specs=[schema_check_spec(spec)],
            retry_policy=dg.RetryPolicy(max_retries=2, delay=5),
            # one writer per Delta table: a partition overwrite is not a blind append
            pool=f"delta_{spec.name}",
            description=doc,
        )
        def _asset(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
            with no_retry_for_storage_faults(lakehouse.lakehouse_root, lakehouse.lakehouse().uri(spec.name)):
                return _model_day(context, lakehouse)

        def _model_day(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
            config, started_at = lakehouse.plant(), watermarks.now()
            day = partition_day(context.partition_key)
            aliases = _aliases(context, lakehouse, config)
            with modelled_day(lakehouse.lakehouse(), config, day, silver, aliases) as table:
                if isinstance(table, pa.RecordBatchReader):
                    # validated batch by batch on its way into the Delta writer, never held whole
                    validation, totals = ValidationResult(), summary()
                    _write(lakehouse, spec, day, _checked(table, spec, validation, totals), context.run_id, started_at)
                    return dg.MaterializeResult(
                        metadata={"rows": validation.rows_checked}
                        | totals.result()
                        | materialized_table(lakehouse.lakehouse().uri(spec.name), validation.rows_checked),
                        check_results=[schema_check_result(spec, validation)],
                    )
            _write(lakehouse, spec, day, table, context.run_id, started_at)
            return dg.MaterializeResult(
                metadata={"rows": table.num_rows}
                | summary(table)
                | materialized_table(lakehouse.lakehouse().uri(spec.name), table.num_rows),
                check_results=[schema_check_result(spec, table)],
            )

        return _asset

    def events(table: pa.Table) -> dict:
        values = table["event"].to_pylist()
        return {"rollovers": values.count("rollover"), "resets": values.count("reset")}

    def counter_events(table: pa.Table) -> dict:
        values = table["event"].to_pylist()
        return events(table) | {"backsteps": values.count("backstep"), "bad_readings": values.count("bad")}

    def energy_summary(table: pa.Table) -> dict:
        unknown = table.filter(pc.equal(table["event"], "unknown"))
        unknown_us = pc.sum(pc.subtract(unknown["end"], unknown["start"]).cast(pa.int64())).as_py() or 0
        return events(table) | {"kwh": float(pc.sum(table["kwh"]).as_py() or 0.0), "energy_unknown_s": unknown_us / 1e6}

    class SensorSummary:
        """The tags seen in a stream of sensor intervals."""

        def __init__(self) -> None:
            self.tags: set[str] = set()

        def add(self, batch: pa.RecordBatch) -> None:
            self.tags.update(pc.unique(batch["tag"]).to_pylist())

        def result(self) -> dict:
            return {"tags": len(self.tags)}

    def production_summary(table: pa.Table) -> dict:
        unknown = table.filter(pc.equal(table["product"], UNKNOWN_PRODUCT))
        return {
            "products": len(set(table["product"].to_pylist()) - {UNKNOWN_PRODUCT}),
            "unknown_product_s": float(pc.sum(unknown["duration_s"]).as_py() or 0.0),
        }

    def order_summary(table: pa.Table) -> dict:
        return {"orders": len(set(table["order_id"].to_pylist()))}

    def quality_summary(table: pa.Table) -> dict:
        return {"tags": table.num_rows, "bad_points": int(pc.sum(table["bad_points"]).as_py() or 0)}

    return [
        silver__plant_calendar,
        silver__machine_states,
        modelled_asset(
            COUNT_INCREMENTS,
            "Counter increments (total, good, reject) at the time they were counted, measured from the "
            "counter's high: a step back within counter_backstep_tolerance is jitter and counts nothing; wraps "
            "at counter_rollover and resets are told apart by the rate they imply; bad readings count nothing.",
            counter_events,
        ),
        modelled_asset(
            ENERGY_INCREMENTS,
            "Energy in kWh per span of time: meter increments (wraps and resets handled), power readings "
            "integrated over time, interval energy; split exactly at the day's edges.",
            energy_summary,
        ),
        modelled_asset(
            SENSOR_INTERVALS,
            "Condition-monitoring tags (numeric tags the machine model does not use) as step-held intervals.",
            SensorSummary,
        ),
        modelled_asset(
            PRODUCTION_RUNS,
            "Which product each OEE machine made when: from its product tag, else the order covering the time, "
            "else 'unknown' (the machine's own ideal cycle time); tiles each production day like the states.",
            production_summary,
        ),
        modelled_asset(
            ORDERS,
            "The work orders whose window touches the production day, in their latest exported version, per "
            "machine they run on.",
            order_summary,
        ),
        modelled_asset(
            TAG_QUALITY,
            "Per tag and day: points, bad and uncertain points, longest gap and coverage of the day.",
            quality_summary,
        ),
    ]
