"""The source formats the plant YAML names, each as the pydantic model of its options, and their validation.

Declaring a model here with its `FORMAT` declares the format to the plant: `OPTIONS` (format -> model),
`SOURCE_FORMATS`, the plant YAML's validation and the generated docs/plant.schema.json and
docs/plant-reference.md follow from the models. The reader and the demo writer of each format are bound
to it in assets/readers/registry.py (one `Format` line), which fails at import naming a format without one.
`validate_source_options(format, options, path)` returns the options with every default filled in, or
raises `SourceOptionsError` naming the key as `<path>.<key>` (the caller passes the path prefix).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from assets.plant.errors import PROBLEM, did_you_mean
from assets.plant.source_options import (
    DEFAULT_MAX_JSON_DEPTH,
    OPTIONS,
    BadStates,
    Channels,
    CsvOptions,
    DataStartLine,
    DecimalComma,
    DeviceField,
    Encoding,
    EpochUnit,
    HeaderLine,
    IntervalLabel,
    IntervalMinutes,
    LatestTimestampAheadS,
    Layout,
    MaxInMemoryMb,
    MaxJsonDepth,
    MaxJsonMb,
    MaxLineBytes,
    MetricsField,
    MidnightLabel,
    QualityColumn,
    QualityField,
    SkipColumns,
    SourceOptions,
    SourceOptionsError,
    StatusColumn,
    TagColumn,
    TagField,
    TagPrefix,
    TagSeparator,
    TimestampColumn,
    TimestampFormat,
    TsField,
    UnitsLine,
    ValueColumn,
)

__all__ = [
    "OPTIONS",
    "OPTION_DEFAULTS",
    "SOURCE_FORMATS",
    "SourceOptions",
    "SourceOptionsError",
    "options_json_schema",
    "validate_source_options",
]


class AvevaHistorianCsvOptions(CsvOptions):
    FORMAT = "aveva_historian_csv"


class PiCsvOptions(CsvOptions):
    FORMAT = "pi_csv"

    tag_column: TagColumn = None  # None: Tag, TagName, Name, PI Point, Point (case-insensitive)
    timestamp_column: TimestampColumn = None  # None: Timestamp, Time, TimeStamp, DateTime, Date
    value_column: ValueColumn = None  # None: Value
    status_column: StatusColumn = None  # None: Status, Quality, Questionable, Substituted where present
    timestamp_format: TimestampFormat = None  # None: ISO 8601 and PI's own form 02-Mar-26 06:00:00[.fff]
    bad_states: BadStates = []  # extra system digital states that mean a bad point


class PiWebApiJsonOptions(SourceOptions):
    FORMAT = "pi_webapi_json"

    tag_field: TagField = "Name"
    max_json_mb: MaxJsonMb = 256
    max_json_depth: MaxJsonDepth = DEFAULT_MAX_JSON_DEPTH


class IgnitionWideCsvOptions(CsvOptions):
    FORMAT = "ignition_wide_csv"

    timestamp_column: TimestampColumn = "t_stamp"
    timestamp_format: TimestampFormat = None
    epoch_unit: EpochUnit = "ms"
    tag_prefix: TagPrefix = ""


class IgnitionTallCsvOptions(CsvOptions):
    FORMAT = "ignition_tall_csv"

    tag_column: TagColumn = "Path"
    value_column: ValueColumn = "Value"
    quality_column: QualityColumn = "Quality"
    timestamp_column: TimestampColumn = "Timestamp"
    timestamp_format: TimestampFormat = None
    epoch_unit: EpochUnit = "ms"


class ProficyCsvOptions(CsvOptions):
    FORMAT = "proficy_csv"

    tag_column: TagColumn = "Tagname"
    timestamp_column: TimestampColumn = "TimeStamp"
    value_column: ValueColumn = "Value"
    quality_column: QualityColumn = "DataQuality"
    # None: ISO 8601 only (set e.g. "%m/%d/%Y %I:%M:%S %p" for US exports)
    timestamp_format: TimestampFormat = None


class SensorJsonlOptions(SourceOptions):
    FORMAT = "sensor_jsonl"

    encoding: Encoding = "utf-8"
    ts_field: TsField = "ts"
    device_field: DeviceField = "device"
    metrics_field: MetricsField = "metrics"
    quality_field: QualityField = "quality"
    tag_separator: TagSeparator = "."
    epoch_unit: EpochUnit = "auto"
    max_line_bytes: MaxLineBytes = 1 << 20
    max_json_depth: MaxJsonDepth = DEFAULT_MAX_JSON_DEPTH


class SensorCsvOptions(CsvOptions):
    FORMAT = "sensor_csv"

    decimal_comma: DecimalComma = False
    timestamp_column: TimestampColumn = None  # None: the first column
    timestamp_format: TimestampFormat = None  # None: ISO 8601
    interval_label: IntervalLabel = "start"
    interval_minutes: IntervalMinutes = None  # with interval_label end: None infers the step from the first rows
    midnight_label: MidnightLabel = False
    tag_prefix: TagPrefix = ""
    channels: Channels = None  # None: every column but the timestamp (and a record number: `#`, TOA5's RECORD)
    skip_columns: SkipColumns = []
    header_line: HeaderLine = None  # None: 1, or 2 in a Campbell Scientific TOA5 file (1-based physical line)
    units_line: UnitsLine = None  # None: no units line, or 3 in a TOA5 file; its cells are the columns' units
    data_start_line: DataStartLine = None  # None: the line after the header or units line, or 5 in a TOA5 file


class SensorParquetOptions(SourceOptions):
    FORMAT = "sensor_parquet"

    layout: Layout = "auto"  # long (tag, ts, value[, quality]) | wide (ts + one column per channel) | auto
    tag_column: TagColumn = "tag"
    timestamp_column: TimestampColumn = "ts"
    value_column: ValueColumn = "value"
    quality_column: QualityColumn = "quality"
    tag_prefix: TagPrefix = ""
    channels: Channels = None
    skip_columns: SkipColumns = []
    epoch_unit: EpochUnit = "auto"
    max_in_memory_mb: MaxInMemoryMb = 512  # a compressed Parquet file is read into memory up to this size



class OrdersCsvOptions(CsvOptions):
    """Work orders exported from an MES/ERP, one order per line, header
    `order_id,product,line,machine,planned_qty,planned_start,planned_end,actual_start,actual_end` (names
    case-insensitive, any order; actual_end may be left out). `machine` empty: every OEE machine of the line.
    Each valid order lands as one point `order:<order_id>` at planned_start (assets/readers/orders_csv.py)."""

    FORMAT = "orders_csv"

    timestamp_format: TimestampFormat = None  # None: ISO 8601 only (set e.g. "%d.%m.%Y %H:%M" for a German ERP)
    # orders are planned ahead: a planned start up to a year from now is plausible
    latest_timestamp_ahead_s: LatestTimestampAheadS = 366 * 86_400


SOURCE_FORMATS = tuple(OPTIONS)
# each format's keys and defaults: its own, the archive limits, then the time rules it does not set itself
OPTION_DEFAULTS: dict[str, dict[str, Any]] = {fmt: model.defaults() for fmt, model in OPTIONS.items()}


def validate_source_options(fmt: str, options: dict[str, Any] | None, path: str = "options") -> dict[str, Any]:
    """The options of a source of format `fmt` with defaults filled in; errors name `<path>.<key>`.

    The first problem in key order is reported (an unknown key with its closest known one), then the
    checks across keys; the values are returned as written."""
    model = OPTIONS.get(fmt)
    if model is None:
        raise SourceOptionsError(path, None, f"no options known for format {fmt!r}")
    options = dict(options or {})
    try:
        model.model_validate(options, context={"path": path})
    except ValidationError as exc:
        raise _options_error(exc, fmt, model, path) from None
    return {**model.defaults(), **options}


def _options_error(exc: ValidationError, fmt: str, model: type[SourceOptions], path: str) -> SourceOptionsError:
    errors = exc.errors()
    # a key's own problem before the checks across keys (pydantic runs those only when every key passed)
    by_key = sorted((e for e in errors if e["loc"]), key=lambda e: str(e["loc"][0]))
    error = by_key[0] if by_key else errors[0]
    ctx = error.get("ctx") or {}
    if error["type"] == "extra_forbidden":
        key, known = str(error["loc"][0]), sorted(model.model_fields)
        return SourceOptionsError(
            path, key, f"is not an option of format {fmt}; known: {', '.join(known)}" + did_you_mean(key, known)
        )
    if error["type"] == PROBLEM:
        at = [*error["loc"], *ctx.get("at", ())]
        return SourceOptionsError(path, str(at[0]) if at else None, ctx["message"])
    key = str(error["loc"][0]) if error["loc"] else None
    return SourceOptionsError(path, key, error["msg"])


def options_json_schema(fmt: str) -> dict[str, Any]:
    """The JSON Schema of a format's `options`: its keys, their types, defaults and descriptions."""
    model = OPTIONS[fmt]
    properties = {}
    for key, default in model.defaults().items():
        field = model.model_fields[key]
        (schema,) = [m.json_schema for m in field.metadata if hasattr(m, "json_schema")]
        properties[key] = {**schema, "default": default, "description": field.description}
    return {"type": "object", "additionalProperties": False, "properties": properties}
