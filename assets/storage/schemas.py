"""Every Delta table's columns, declared once.

One declaration drives the Arrow write schema, the Delta partitioning and the pandera check that
guards the table, so the table that is written is the table that is validated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from assets.plant.timestamps import UTC_TS

if TYPE_CHECKING:
    import pandera.polars as pa_pl
    import polars as pl

QUALITIES = ("good", "uncertain", "bad")
STATE_CATEGORIES = ("running", "planned_stop", "unplanned_stop", "not_scheduled")


@dataclass(frozen=True)
class Col:
    """A column: its Arrow type, whether it may be null, and the values it may take."""

    name: str
    type: pa.DataType
    nullable: bool = False
    isin: Sequence[str] | None = None
    ge: float | None = None
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A Delta table: name (which carries the layer), columns and partition column."""

    name: str
    columns: tuple[Col, ...]
    description: str
    partition_by: tuple[str, ...] = ()
    unique: tuple[str, ...] = field(default=())

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def pandera_schema(self, with_key: bool = True) -> pa_pl.DataFrameSchema:
        """The pandera (polars backend) schema: dtypes, nullability, allowed values, bounds, and the key
        unless `with_key` is false (for data whose key is checked another way)."""
        # pandera (and the pandas it loads) only where a table is checked: the analysts' `sql` command reads
        # these declarations and starts in well under a second without them
        import pandera.polars as pa_pl

        columns = {}
        for col in self.columns:
            checks = []
            if col.isin is not None:
                checks.append(pa_pl.Check.isin(list(col.isin)))
            if col.ge is not None:
                checks.append(pa_pl.Check.ge(col.ge))
            columns[col.name] = pa_pl.Column(
                _polars_dtype(col.type), nullable=col.nullable, checks=checks, description=col.description or None
            )
        return pa_pl.DataFrameSchema(
            columns,
            name=self.name,
            strict=True,
            unique=(list(self.unique) or None) if with_key else None,
        )

    def empty(self) -> pa.Table:
        return self.arrow_schema.empty_table()

    def conform(self, table: pa.Table) -> pa.Table:
        """Select and cast a table's columns to this spec (order, types, nullability)."""
        return table.select(self.column_names).cast(self.arrow_schema)

    def schema_of(self, columns: Sequence[str]) -> pa.Schema:
        """The Arrow schema of some of this spec's columns, in the order given."""
        return pa.schema([self.arrow_schema.field(name) for name in columns])

    def conform_batch(self, batch: pa.RecordBatch, columns: Sequence[str] | None = None) -> pa.RecordBatch:
        """`conform` for one record batch of a stream (of some columns only, with `columns`)."""
        schema = self.arrow_schema if columns is None else self.schema_of(columns)
        return pa.RecordBatch.from_arrays(
            [batch.column(name).cast(schema.field(name).type) for name in schema.names], schema=schema
        )


def _polars_dtype(t: pa.DataType) -> pl.DataType:
    import polars as pl

    return pl.from_arrow(pa.schema([pa.field("x", t)]).empty_table()).schema["x"]


BRONZE_POINTS = TableSpec(
    name="bronze_historian__points",
    description="Every landed historian point, typed, in UTC, with its quality and the file and line it came from.",
    partition_by=("ts_date",),
    unique=("tag", "ts"),
    columns=(
        Col("ts_date", pa.date32(), description="UTC date of ts (the partition)."),
        Col("tag", pa.string(), description="Historian tag name as exported."),
        Col("ts", UTC_TS, description="Point timestamp, UTC."),
        Col("value", pa.float64(), nullable=True, description="Numeric value; NULL for text values and bad points."),
        Col("value_text", pa.string(), nullable=True, description="Text value (string and digital-state tags)."),
        Col("quality", pa.string(), isin=QUALITIES, description="Normalised quality: good, uncertain or bad."),
        Col("source", pa.string(), description="Source name from the plant config."),
        Col("source_file", pa.string(), description="File path relative to LANDING_ROOT."),
        Col("source_line", pa.int64(), ge=1, description="Line number in the file (1 = header)."),
        Col(
            "exported_at",
            UTC_TS,
            description="When the file was exported (its modification time): a later "
            "export's different value for the same tag and time replaces an earlier one.",
        ),
        Col("landed_at", UTC_TS, description="When the point was landed."),
    ),
)

QUARANTINE = TableSpec(
    name="bronze__quarantine",
    description="Every input row that could not be landed, with the file, line and the reason.",
    columns=(
        Col("source", pa.string()),
        Col("source_file", pa.string(), description="File path relative to LANDING_ROOT."),
        Col("file_key", pa.string(), description="Ledger key of the file (name and content)."),
        Col("line", pa.int64(), nullable=True, description="Line number in the file (1 = header); NULL if unknown."),
        Col("reason", pa.string(), description="Why the row was not landed."),
        Col("raw", pa.string(), nullable=True, description="The row as read, fields joined by commas."),
        Col("quarantined_at", UTC_TS),
    ),
)

FILE_LEDGER = TableSpec(
    name="bronze__file_ledger",
    description="One row per file (or archive member) seen: rows in (values) = rows landed + rows quarantined; "
    "lines in counts the data lines those values came from.",
    unique=("file_key",),
    columns=(
        Col("source", pa.string()),
        Col("source_file", pa.string(), description="File path relative to LANDING_ROOT."),
        Col("file_key", pa.string(), description="sha256 of the file name and content hash: the ledger key."),
        Col("file_sha256", pa.string(), description="sha256 of the file content."),
        Col("format", pa.string(), description="Export format of the source."),
        Col("size_bytes", pa.int64(), ge=0),
        Col("exported_at", UTC_TS, description="The file's modification time: when it was exported."),
        Col("status", pa.string(), isin=("landed", "rejected", "duplicate")),
        Col("message", pa.string(), nullable=True, description="Why a file was rejected, or whose copy it is."),
        Col(
            "rows_in",
            pa.int64(),
            ge=0,
            description="Values read from the file: every point and every quarantined row, so rows in = rows "
            "landed + rows quarantined. A wide export (a column per channel) gives one per non-empty cell, a "
            "long export (a tag column) one per line; lines_in counts the lines.",
        ),
        Col("rows_landed", pa.int64(), ge=0, description="Rows whose point is in bronze (new + changed + duplicate)."),
        Col("rows_new", pa.int64(), ge=0, description="Points this file added to bronze."),
        Col("rows_changed", pa.int64(), ge=0, description="Points whose value this later export changed."),
        Col("rows_duplicate", pa.int64(), ge=0, description="Rows identical to a point already landed."),
        Col("rows_quarantined", pa.int64(), ge=0),
        Col("min_ts", UTC_TS, nullable=True),
        Col("max_ts", UTC_TS, nullable=True),
        Col("landed_at", UTC_TS),
        # last, so that a ledger made before this column was added keeps its column order
        Col(
            "file_version",
            pa.string(),
            nullable=True,
            description="What identifies this version of the file besides its name, size and modification time: "
            "device, inode and change time of a local file, the ETag of an object. A file is read again "
            "unless all four match a ledger row.",
        ),
        Col(
            "lines_in",
            pa.int64(),
            nullable=True,
            ge=0,
            description="Data lines (records) read from the file: CSV or JSON lines, Parquet rows, PI Web API "
            "values; a line the parser cannot split is one. NULL in a ledger row written before it was counted.",
        ),
    ),
)

TAG_CATALOG = TableSpec(
    name="bronze__tag_catalog",
    description="Every tag that has landed, whether the plant YAML maps it or not: source, first and last "
    "seen, points and the share of bad quality.",
    unique=("tag",),
    columns=(
        Col("tag", pa.string()),
        Col("source", pa.string(), description="Source of the tag's first point."),
        Col("first_seen", UTC_TS),
        Col("last_seen", UTC_TS),
        Col("points", pa.int64(), ge=0),
        Col("bad_points", pa.int64(), ge=0),
        Col("uncertain_points", pa.int64(), ge=0),
        Col("bad_share", pa.float64(), nullable=True),
        Col("unit", pa.string(), nullable=True, description="Engineering unit, where the export states it."),
        Col("mapped", pa.bool_(), description="Whether the plant YAML uses the tag."),
        Col("line", pa.string(), nullable=True),
        Col("machine", pa.string(), nullable=True),
        Col("role", pa.string(), nullable=True, description="state, total_count, energy_meter, ..."),
        Col("updated_at", UTC_TS),
    ),
)

SILVER_PLANT_CALENDAR = TableSpec(
    name="silver__plant_calendar",
    description="Production day, shift, break and planned-production windows, per production day, UTC.",
    partition_by=("day",),
    columns=(
        Col("day", pa.date32(), description="Production day (plant-local date on which it starts)."),
        Col("kind", pa.string(), isin=("day", "shift", "break", "planned")),
        Col("shift_name", pa.string(), nullable=True),
        Col("name", pa.string(), nullable=True),
        Col("start", UTC_TS),
        Col("end", UTC_TS),
        Col("shift_start", UTC_TS, nullable=True, description="The whole shift occurrence, unclipped."),
        Col("shift_end", UTC_TS, nullable=True),
        Col("duration_s", pa.float64(), ge=0),
    ),
)

SILVER_MACHINE_STATES = TableSpec(
    name="silver__machine_states",
    description="Machine-state intervals that tile each production day, clipped to the day, UTC; each keeps "
    "the extent of the whole state run it belongs to (event_start, event_end) so a stop across a day edge "
    "stays one event.",
    partition_by=("day",),
    unique=("line", "machine", "start"),
    columns=(
        Col("day", pa.date32()),
        Col("line", pa.string()),
        Col("machine", pa.string()),
        Col("start", UTC_TS),
        Col("end", UTC_TS),
        Col("duration_s", pa.float64(), ge=0),
        Col("category", pa.string(), isin=STATE_CATEGORIES),
        Col("reason", pa.string(), nullable=True),
        Col("state_code", pa.string(), nullable=True, description="Code as the historian gave it; NULL if none."),
        Col("event_start", UTC_TS, description="Start of the whole state run (may lie before the day)."),
        Col("event_end", UTC_TS, nullable=True, description="End of the whole state run; NULL while it lasts."),
        Col("is_minor_stop", pa.bool_(), description="An unplanned stop shorter than microstop_threshold_s."),
    ),
)

SILVER_COUNT_INCREMENTS = TableSpec(
    name="silver__count_increments",
    description="Counter increments (total, good, reject) at the time they were counted, measured from the "
    "counter's high: one row per reading in the day, with what it was (a count, a wrap, a reset, a step back "
    "within the tolerance, or a bad reading).",
    partition_by=("day",),
    unique=("tag", "ts"),
    columns=(
        Col("day", pa.date32()),
        Col("line", pa.string()),
        Col("machine", pa.string()),
        Col("kind", pa.string(), isin=("total", "good", "reject")),
        Col("tag", pa.string()),
        Col("ts", UTC_TS),
        Col("increment", pa.float64(), ge=0),
        Col(
            "event",
            pa.string(),
            isin=("count", "rollover", "reset", "backstep", "bad"),
            description="count: above the high; rollover: wrapped at counter_rollover; reset: fell further than "
            "counter_backstep_tolerance below the high; backstep: fell at most that far (jitter, increment 0); "
            "bad: negative, fractional or text (increment 0, not part of the sequence).",
        ),
    ),
)

SILVER_ENERGY_INCREMENTS = TableSpec(
    name="silver__energy_increments",
    description="Energy in kWh as segments of time with a uniform rate that tile the production day per energy "
    "tag: meter increments (wraps and resets handled), power readings integrated over time, interval energy, and "
    "the spans whose energy is unknown (event 'unknown', 0 kWh): a reading never stands beyond the max gap.",
    partition_by=("day",),
    unique=("tag", "start"),
    columns=(
        Col("day", pa.date32()),
        Col("line", pa.string()),
        Col("machine", pa.string()),
        Col("tag", pa.string()),
        Col("kind", pa.string(), isin=("meter", "power", "interval")),
        Col("start", UTC_TS),
        Col("end", UTC_TS),
        Col("kwh", pa.float64(), ge=0),
        Col(
            "event",
            pa.string(),
            isin=("count", "rollover", "reset", "unknown"),
            description="unknown: no reading stands for the span, its energy is not known (0 kWh here).",
        ),
        # nullable: a table written before these columns reads NULL in them
        Col(
            "spread",
            pa.bool_(),
            nullable=True,
            description="A meter step across more than the max gap: its kWh is known in total, not where it "
            "fell, and is spread evenly over the gap.",
        ),
        Col(
            "max_gap_s",
            pa.float64(),
            nullable=True,
            description="The longest a reading of the tag stood for that day: energy_max_gap_s, else three "
            "typical reading intervals; NULL for interval energy and for a tag with fewer than two readings.",
        ),
    ),
)

SILVER_SENSOR_INTERVALS = TableSpec(
    name="silver__sensor_intervals",
    description="Condition-monitoring tags (every numeric tag the machine model does not use) as step-held "
    "intervals clipped to the day; a value holds at most sensor_max_gap_s.",
    partition_by=("day",),
    unique=("tag", "start"),
    columns=(
        Col("day", pa.date32()),
        Col("tag", pa.string()),
        Col("source", pa.string()),
        Col("start", UTC_TS),
        Col("end", UTC_TS),
        Col("value", pa.float64(), nullable=True, description="NULL for a bad-quality point."),
        Col("quality", pa.string(), isin=QUALITIES),
    ),
)

SILVER_TAG_QUALITY = TableSpec(
    name="silver__tag_quality",
    description="Per tag and production day: points, bad and uncertain points, longest gap and coverage.",
    partition_by=("day",),
    unique=("tag",),
    columns=(
        Col("day", pa.date32()),
        Col("tag", pa.string()),
        Col("source", pa.string(), nullable=True),
        Col("points", pa.int64(), ge=0),
        Col("bad_points", pa.int64(), ge=0),
        Col("uncertain_points", pa.int64(), ge=0),
        Col("longest_gap_s", pa.float64(), ge=0, description="Longest time without a point, day edges included."),
        Col("covered_s", pa.float64(), ge=0, description="Seconds of the day with a valid value in force."),
        Col("day_s", pa.float64(), ge=0),
    ),
)

SILVER_PRODUCTION_RUNS = TableSpec(
    name="silver__production_runs",
    description="Which product each OEE machine made when: intervals that tile each production day like the "
    "states, from the machine's product tag, else the order covering the time, else 'unknown' (the machine's "
    "own ideal cycle time applies).",
    partition_by=("day",),
    unique=("line", "machine", "start"),
    columns=(
        Col("day", pa.date32()),
        Col("line", pa.string()),
        Col("machine", pa.string()),
        Col("start", UTC_TS),
        Col("end", UTC_TS),
        Col("duration_s", pa.float64(), ge=0),
        Col("product", pa.string(), description="The catalog id of the product running, or 'unknown'."),
        Col(
            "product_value",
            pa.string(),
            nullable=True,
            description="What the product tag or the order said, where that is no catalog id (else NULL).",
        ),
        Col("order_id", pa.string(), nullable=True, description="The order running (from the orders export)."),
        Col(
            "source",
            pa.string(),
            isin=("tag", "order", "unknown"),
            description="tag: the product tag; order: the order covering the time; unknown: neither told.",
        ),
        Col(
            "run_start",
            UTC_TS,
            description="Start of the whole run of this product and order (may lie before the day).",
        ),
        Col("run_end", UTC_TS, nullable=True, description="End of the whole run; NULL while it lasts."),
    ),
)

SILVER_ORDERS = TableSpec(
    name="silver__orders",
    description="The work orders whose window touches each production day, in their latest exported version, "
    "one row per order and machine it runs on (an order for a line runs on each of its OEE machines).",
    partition_by=("day",),
    unique=("order_id", "line", "machine"),
    columns=(
        Col("day", pa.date32()),
        Col("order_id", pa.string()),
        Col("product", pa.string(), description="The catalog id of the order's product."),
        Col("line", pa.string()),
        Col("machine", pa.string()),
        Col("planned_qty", pa.float64(), ge=0),
        Col(
            "whole_line",
            pa.bool_(),
            description="The order names no machine: it runs on every OEE machine of the line, and its planned "
            "quantity is the line's output (its output machine's units).",
        ),
        Col("planned_start", UTC_TS),
        Col("planned_end", UTC_TS),
        Col("actual_start", UTC_TS, nullable=True),
        Col("actual_end", UTC_TS, nullable=True, description="NULL while the order runs."),
        Col("source_file", pa.string(), description="The export the order's latest version came from."),
        Col("exported_at", UTC_TS),
    ),
)

# every silver table is one production day per partition, and the marts read them all
SILVER_DAY_TABLES: tuple[TableSpec, ...] = (
    SILVER_PLANT_CALENDAR,
    SILVER_MACHINE_STATES,
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
    SILVER_PRODUCTION_RUNS,
    SILVER_ORDERS,
)

DAY_BUILDS = TableSpec(
    name="lakehouse__day_builds",
    description="The watermark of each production day: one row each time a build wrote a silver table's "
    "day, published the day's marts, or failed their audit. A day whose silver tables are not all there was "
    "killed or failed mid-build; points landed after its silver build began, silver newer than its marts, or "
    "an audit failed since its last publish make it stale.",
    columns=(
        Col("day", pa.date32(), description="Production day."),
        Col(
            "layer",
            pa.string(),
            isin=("silver", "marts", "marts_failed"),
            description="silver: a silver table written; marts: the marts published; marts_failed: the day's "
            "marts failed their audit (the published marts keep its previous numbers).",
        ),
        Col("table_name", pa.string(), description="The silver table written, or marts.duckdb."),
        Col("run_id", pa.string(), nullable=True, description="The Dagster run that built it, where one did."),
        Col("started_at", UTC_TS, description="When the build began reading its inputs: later input is not in it."),
        Col("built_at", UTC_TS, description="When its commit (or the marts publish) was done."),
    ),
)

PLANT_CONFIG_HISTORY = TableSpec(
    name="plant_config_history",
    description="Every plant YAML that built production days: its hash, the YAML itself, and when it was "
    "first and last taken up by a build (the latest last_used_at is the configuration of the latest build).",
    unique=("config_sha256",),
    columns=(
        Col("config_sha256", pa.string(), description="sha256 of the canonical YAML (comments and layout aside)."),
        Col("plant_yaml", pa.string(), description="The plant YAML as the build read it."),
        Col("config_path", pa.string(), description="Where the YAML was read from."),
        Col("first_used_at", UTC_TS, description="When a build first used this configuration."),
        Col("last_used_at", UTC_TS, description="When a build last took this configuration up after another."),
        Col("first_day", pa.date32(), description="The production day whose build first used it."),
        Col("run_id", pa.string(), nullable=True, description="The run of that build."),
    ),
)

ALL_TABLES = (
    BRONZE_POINTS,
    QUARANTINE,
    FILE_LEDGER,
    TAG_CATALOG,
    SILVER_PLANT_CALENDAR,
    SILVER_MACHINE_STATES,
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
    SILVER_PRODUCTION_RUNS,
    SILVER_ORDERS,
    DAY_BUILDS,
    PLANT_CONFIG_HISTORY,
)
