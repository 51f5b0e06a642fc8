"""Per-format source options: the keys each format accepts, their defaults, and clear errors.

`validate_source_options(format, options, path)` returns the options with every default filled in, or
raises `SourceOptionsError` naming the key as `<path>.<key>` (the caller passes the path prefix).
`FORMATS` is the one registry of formats (each `Format` with its keys' defaults) and `OPTION_DEFAULTS`
every format's keys and defaults drawn from it; `OPTION_DOCS` describes each key for the JSON Schema and
the reference page. The options belong to the plant configuration (the
readers read them from there), so they live in this layer and the readers import them.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from assets.plant.errors import PlantConfigError, did_you_mean
from assets.plant.timestamps import parse_earliest

# the readers' guards (readers/json_depth.py, readers/line_limit.py) take these as their defaults
DEFAULT_MAX_JSON_DEPTH = 64
DEFAULT_MAX_LINE_BYTES = 16 << 20

# a longer line is quarantined, the rest of the file read (see line_limit.py)
_CSV = {"encoding": "utf-8", "delimiter": ",", "max_line_bytes": DEFAULT_MAX_LINE_BYTES}
_ARCHIVE = {"max_uncompressed_mb": 8192, "max_compression_ratio": 200}


@dataclass(frozen=True)
class Format:
    """A source format: its name (the plant YAML's `format`) and the defaults of the options it takes.

    Every format also takes the archive limits and the time rules below; each key's check is in `_CHECKS`
    and its description in `OPTION_DOCS` (keyed by option, so a format that reuses keys adds nothing there).
    """

    name: str
    options: dict[str, Any]


# The one registry of formats. It lives in the plant layer because the plant validates a source's options
# without importing the readers (the import contract); the readers (assets/readers/__init__.py `READERS`)
# and the demo (assets/demo/formats.py `FORMATS`) key theirs by these names, and `check_registered` fails
# at their import naming a declared format without a reader or writer, or one that is not declared.
FORMATS: tuple[Format, ...] = (
    Format("aveva_historian_csv", {**_CSV}),
    Format(
        "pi_csv",
        {
            **_CSV,
            "tag_column": None,  # None: Tag, TagName, Name, PI Point, Point (case-insensitive)
            "timestamp_column": None,  # None: Timestamp, Time, TimeStamp, DateTime, Date
            "value_column": None,  # None: Value
            "status_column": None,  # None: Status, Quality, Questionable, Substituted where present
            "timestamp_format": None,  # None: ISO 8601 and PI's own form 02-Mar-26 06:00:00[.fff]
            "bad_states": [],  # extra system digital states that mean a bad point
        },
    ),
    Format("pi_webapi_json", {"tag_field": "Name", "max_json_mb": 256, "max_json_depth": DEFAULT_MAX_JSON_DEPTH}),
    Format(
        "ignition_wide_csv",
        {
            **_CSV,
            "timestamp_column": "t_stamp",
            "timestamp_format": None,
            "epoch_unit": "ms",
            "tag_prefix": "",
        },
    ),
    Format(
        "ignition_tall_csv",
        {
            **_CSV,
            "tag_column": "Path",
            "value_column": "Value",
            "quality_column": "Quality",
            "timestamp_column": "Timestamp",
            "timestamp_format": None,
            "epoch_unit": "ms",
        },
    ),
    Format(
        "proficy_csv",
        {
            **_CSV,
            "tag_column": "Tagname",
            "timestamp_column": "TimeStamp",
            "value_column": "Value",
            "quality_column": "DataQuality",
            "timestamp_format": None,  # None: ISO 8601 only (set e.g. "%m/%d/%Y %I:%M:%S %p" for US exports)
        },
    ),
    Format(
        "sensor_jsonl",
        {
            "encoding": "utf-8",
            "ts_field": "ts",
            "device_field": "device",
            "metrics_field": "metrics",
            "quality_field": "quality",
            "tag_separator": ".",
            "epoch_unit": "auto",
            "max_line_bytes": 1 << 20,
            "max_json_depth": DEFAULT_MAX_JSON_DEPTH,
        },
    ),
    Format(
        "sensor_csv",
        {
            **_CSV,
            "decimal_comma": False,
            "timestamp_column": None,  # None: the first column
            "timestamp_format": None,  # None: ISO 8601
            "interval_label": "start",
            "interval_minutes": None,  # with interval_label end: None infers the step from the first rows
            "midnight_label": False,
            "tag_prefix": "",
            "channels": None,  # None: every column but the timestamp (and a record number: `#`, TOA5's RECORD)
            "skip_columns": [],
            "header_line": None,  # None: 1, or 2 in a Campbell Scientific TOA5 file (1-based physical line)
            "units_line": None,  # None: no units line, or 3 in a TOA5 file; its cells are the columns' units
            "data_start_line": None,  # None: the line after the header or units line, or 5 in a TOA5 file
        },
    ),
    Format(
        "sensor_parquet",
        {
            "layout": "auto",  # long (tag, ts, value[, quality]) | wide (ts + one column per channel) | auto
            "tag_column": "tag",
            "timestamp_column": "ts",
            "value_column": "value",
            "quality_column": "quality",
            "tag_prefix": "",
            "channels": None,
            "skip_columns": [],
            "epoch_unit": "auto",
            "max_in_memory_mb": 512,  # a compressed Parquet file is read into memory up to this size
        },
    ),
)
# a format's options: its own, the archive limits, then the time rules it does not set itself
OPTION_DEFAULTS: dict[str, dict[str, Any]] = {fmt.name: {**fmt.options, **_ARCHIVE} for fmt in FORMATS}
# Every format reads times by the same rules (readers/rows.py, core/timestamps.py): a timestamp_format
# alone reads wall-clock texts (None: ISO 8601 only, or the format's own form), and a time outside
# [earliest_timestamp, now + latest_timestamp_ahead_s] is rejected as out of range. earliest_timestamp
# None: a year before calendar.first_day (filled in by the plant config, see core/plant.py).
_TIMES = {"timestamp_format": None, "earliest_timestamp": None, "latest_timestamp_ahead_s": 86_400}
for _defaults in OPTION_DEFAULTS.values():
    for _key, _value in _TIMES.items():
        _defaults.setdefault(_key, _value)


class FormatRegistryError(RuntimeError):
    """A reader or demo writer registry that does not match the declared formats one to one."""


def check_registered(what: str, registered: Iterable[str]) -> None:
    """Raise `FormatRegistryError` naming each declared format without a `what`, and each `what` of an
    undeclared format; `registered` is the format names the registry holds."""
    declared, names = [fmt.name for fmt in FORMATS], list(registered)
    problems = [f"format {name!r} has no {what}" for name in declared if name not in names]
    problems += [
        f"{what} for format {name!r}, which assets/plant/source_options.py FORMATS does not declare"
        for name in names
        if name not in declared
    ]
    if problems:
        raise FormatRegistryError("; ".join(problems))


class SourceOptionsError(PlantConfigError):
    """A source's options key is unknown or its value cannot be used; `key` and `problem` say which and why."""

    def __init__(self, path: str, key: str | None, problem: str):
        super().__init__(f"{path}.{key}: {problem}" if key else f"{path}: {problem}")
        self.key, self.problem = key, problem


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _check_encoding(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a text encoding name such as utf-8, utf-8-sig, utf-16 or latin-1"
    try:
        codecs.lookup(value)
    except LookupError:
        return f"is not a known text encoding: {value!r}"
    return None


def _check_delimiter(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
        return f"must be one character such as ',', ';' or a tab, got {value!r}"
    return None


def _check_column(value: Any) -> str | None:
    if value is not None and _text(value) is None:
        return f"must be a column name, got {value!r}"
    return None


def _check_format(value: Any) -> str | None:
    if value is None:
        return None
    if _text(value) is None or "%" not in value:
        return f"must be a strptime format such as '%d/%m/%Y %H:%M', got {value!r}"
    try:
        dt.datetime(2026, 3, 2, 6, 5, 4).strftime(value)
    except ValueError as exc:
        return f"is not a valid strptime format ({exc}): {value!r}"
    if "%z" in value or "%Z" in value:
        return "must not contain %z/%Z: times with an offset are read as ISO 8601 without a format"
    return None


def _check_earliest(value: Any) -> str | None:
    if value is None:
        return None
    parsed = parse_earliest(value) if isinstance(value, (str, dt.date)) else None
    if parsed is None:
        return f"must be a date or ISO 8601 date-time such as 2017-01-01 (UTC unless it has an offset), got {value!r}"
    if parsed.year < 1900:
        return f"must be 1900-01-01 or later, got {value!r}"
    return None


def _check_ahead(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 366 * 86_400:
        return f"must be a number of seconds from 0 to 31622400 (366 days), got {value!r}"
    return None


def _check_choice(*choices: Any) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(str(c) for c in choices)}, got {value!r}"
        return None

    return check


def _check_bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _check_positive(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return f"must be a positive number, got {value!r}"
    return None


def _check_optional_positive(value: Any) -> str | None:
    return None if value is None else _check_positive(value)


def _check_line(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return None
    return f"must be a line number (1 = the first line of the file), got {value!r}"


def _check_names(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return f"must be a list of names, got {value!r}"
    return None


def _check_prefix(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be text, got {value!r}"


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "encoding": _check_encoding,
    "delimiter": _check_delimiter,
    "tag_column": _check_column,
    "timestamp_column": _check_column,
    "value_column": _check_column,
    "status_column": _check_column,
    "quality_column": _check_column,
    "timestamp_format": _check_format,
    "earliest_timestamp": _check_earliest,
    "latest_timestamp_ahead_s": _check_ahead,
    "bad_states": _check_names,
    "tag_field": _check_choice("Name", "Path"),
    "max_json_mb": _check_positive,
    "max_json_depth": _check_positive,
    "epoch_unit": _check_choice("s", "ms", "us", "auto"),
    "tag_prefix": _check_prefix,
    "ts_field": _check_column,
    "device_field": _check_column,
    "metrics_field": _check_column,
    "quality_field": _check_column,
    "tag_separator": _check_prefix,
    "max_line_bytes": _check_positive,
    "decimal_comma": _check_bool,
    "interval_label": _check_choice("start", "end"),
    "interval_minutes": _check_optional_positive,
    "midnight_label": _check_bool,
    "channels": _check_names,
    "skip_columns": _check_names,
    "header_line": _check_line,
    "units_line": _check_line,
    "data_start_line": _check_line,
    "layout": _check_choice("auto", "long", "wide"),
    "max_in_memory_mb": _check_positive,
    "max_uncompressed_mb": _check_positive,
    "max_compression_ratio": _check_positive,
}


def validate_source_options(fmt: str, options: dict[str, Any] | None, path: str = "options") -> dict[str, Any]:
    """The options of a source of format `fmt` with defaults filled in; errors name `<path>.<key>`."""
    if fmt not in OPTION_DEFAULTS:
        raise SourceOptionsError(path, None, f"no options known for format {fmt!r}")
    defaults = OPTION_DEFAULTS[fmt]
    options = dict(options or {})

    def fail(key: str, problem: str) -> SourceOptionsError:
        return SourceOptionsError(path, key, problem)

    for key in sorted(options):
        if key not in defaults:
            raise fail(
                key,
                f"is not an option of format {fmt}; known: {', '.join(sorted(defaults))}"
                + did_you_mean(key, sorted(defaults)),
            )
        problem = _CHECKS[key](options[key])
        if problem:
            raise fail(key, problem)
    merged = {**defaults, **options}
    if merged.get("decimal_comma") and merged.get("delimiter") == ",":
        raise fail("decimal_comma", f"needs a delimiter other than ',' (set {path}.delimiter)")
    if merged.get("interval_minutes") is not None and merged.get("interval_label") != "end":
        raise fail("interval_minutes", "only used with interval_label: end")
    header_line, units_line = merged.get("header_line") or 1, merged.get("units_line")
    if units_line is not None and units_line == header_line:
        raise fail("units_line", f"is the header line ({header_line}); the units need a line of their own")
    data_start = merged.get("data_start_line")
    if data_start is not None and data_start <= max(header_line, units_line or 0):
        raise fail(
            "data_start_line",
            f"must come after the header (line {header_line})"
            + (f" and the units (line {units_line})" if units_line else ""),
        )
    return merged


def _choice(*values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_POS = {"type": "number", "exclusiveMinimum": 0}
_NAMES = {"type": ["array", "null"], "items": {"type": "string"}}
_LINE = {"type": ["integer", "null"], "minimum": 1}

# Each option's JSON Schema and what it means, for editor completion (docs/plant.schema.json) and the
# reference page (docs/plant-reference.md); a test keeps it covering every key of OPTION_DEFAULTS.
OPTION_DOCS: dict[str, tuple[dict[str, Any], str]] = {
    "encoding": (_STR, "Text encoding of the file: utf-8, utf-8-sig, utf-16, latin-1, ..."),
    "delimiter": (_STR, "The one character between fields: ',', ';' or a tab."),
    "max_line_bytes": (_POS, "A longer line is quarantined and the rest of the file read."),
    "tag_column": (_OPT_STR, "The column holding the tag name (null: the format's usual names)."),
    "timestamp_column": (_OPT_STR, "The column holding the time (null: the format's usual names)."),
    "value_column": (_OPT_STR, "The column holding the value (null: the format's usual names)."),
    "status_column": (_OPT_STR, "The column holding PI's status (null: Status, Quality, ... where present)."),
    "quality_column": (_OPT_STR, "The column holding the quality."),
    "timestamp_format": (
        _OPT_STR,
        "A strptime format for wall-clock texts such as '%d/%m/%Y %H:%M' (null: ISO 8601 or the format's own form).",
    ),
    "earliest_timestamp": (
        _OPT_STR,
        "A time before this (date or ISO 8601, UTC unless it has an offset) is rejected as out of range "
        "(null: a year before calendar.first_day).",
    ),
    "latest_timestamp_ahead_s": (
        {"type": "number", "minimum": 0, "maximum": 366 * 86_400},
        "A time more than this many seconds after now is rejected as out of range.",
    ),
    "bad_states": (_NAMES, "Extra PI system digital states that mean a bad point."),
    "tag_field": (_choice("Name", "Path"), "Which PI Web API field names the tag."),
    "max_json_mb": (_POS, "A larger JSON document is rejected."),
    "max_json_depth": (_POS, "A JSON text nesting deeper than this is rejected."),
    "epoch_unit": (_choice("s", "ms", "us", "auto"), "The unit of numeric epoch timestamps."),
    "tag_prefix": (_STR, "Text put before every tag (channel) name read."),
    "ts_field": (_STR, "The JSON field holding the time."),
    "device_field": (_STR, "The JSON field holding the device name (the tag is DEVICE<separator>metric)."),
    "metrics_field": (_STR, "The JSON field holding the metrics object."),
    "quality_field": (_STR, "The JSON field holding the quality."),
    "tag_separator": (_STR, "Text between device and metric in a tag name."),
    "decimal_comma": (
        {"type": "boolean"},
        "Numbers are written with a decimal comma (needs a delimiter other than ',').",
    ),
    "interval_label": (_choice("start", "end"), "Whether a row's time is the start or the end of its interval."),
    "interval_minutes": (
        {"type": ["number", "null"], "exclusiveMinimum": 0},
        "The interval length with interval_label end (null: inferred from the first rows).",
    ),
    "midnight_label": ({"type": "boolean"}, "Midnight is written as 24:00 of the day before."),
    "channels": (_NAMES, "The columns to read (null: every column but the timestamp and a record number)."),
    "skip_columns": (_NAMES, "Columns not to read."),
    "header_line": (_LINE, "The header's line, 1-based (null: 1, or 2 in a Campbell Scientific TOA5 file)."),
    "units_line": (_LINE, "The units line, 1-based (null: none, or 3 in a TOA5 file)."),
    "data_start_line": (_LINE, "The first data line, 1-based (null: the line after the header or units)."),
    "layout": (
        _choice("auto", "long", "wide"),
        "long (tag, ts, value[, quality]), wide (ts + a column per channel) or auto.",
    ),
    "max_in_memory_mb": (_POS, "A compressed Parquet file is read into memory up to this size."),
    "max_uncompressed_mb": (_POS, "An archive member larger than this uncompressed is rejected."),
    "max_compression_ratio": (_POS, "An archive member compressed more than this is rejected."),
}


def options_json_schema(fmt: str) -> dict[str, Any]:
    """The JSON Schema of a format's `options`: its keys, their types, defaults and descriptions."""
    properties = {
        key: {**OPTION_DOCS[key][0], "default": default, "description": OPTION_DOCS[key][1]}
        for key, default in OPTION_DEFAULTS[fmt].items()
    }
    return {"type": "object", "additionalProperties": False, "properties": properties}
