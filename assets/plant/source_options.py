"""The kinds of source option: each key's check, JSON Schema and description, and the base of the options models.

A format's options are a pydantic model (assets/plant/source_formats.py) whose fields are typed with the
kinds below, so a key's check, schema and description are written once however many formats take it.
`SourceOptions` holds what every format takes (the archive limits and the time rules) and the checks
across keys; `SourceOptionsError` names a bad key as `<path>.<key>`. The options belong to the plant
configuration (the readers read them from there), so they live in this layer and the readers import them.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema, model_validator

from assets.plant.errors import PlantConfigError, problem
from assets.plant.timestamps import parse_earliest

# the readers' guards (readers/json_depth.py, readers/line_limit.py) take these as their defaults
DEFAULT_MAX_JSON_DEPTH = 64
DEFAULT_MAX_LINE_BYTES = 16 << 20


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


def _option(check: Callable[[Any], str | None], schema: dict[str, Any], description: str) -> Any:
    """A kind of option: its check (the problem in the engineer's words, or None), JSON Schema and meaning.

    The value is kept as written (no coercion), as the readers expect it."""

    def validate(value: Any) -> Any:
        found = check(value)
        if found:
            raise problem(found)
        return value

    return Annotated[Any, BeforeValidator(validate), WithJsonSchema(schema), Field(description=description)]


def _choice(*values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_POS = {"type": "number", "exclusiveMinimum": 0}
_NAMES = {"type": ["array", "null"], "items": {"type": "string"}}
_LINE = {"type": ["integer", "null"], "minimum": 1}

# Each key's kind, named after the key; a new key is one line here.
Encoding = _option(_check_encoding, _STR, "Text encoding of the file: utf-8, utf-8-sig, utf-16, latin-1, ...")
Delimiter = _option(_check_delimiter, _STR, "The one character between fields: ',', ';' or a tab.")
MaxLineBytes = _option(_check_positive, _POS, "A longer line is quarantined and the rest of the file read.")
TagColumn = _option(_check_column, _OPT_STR, "The column holding the tag name (null: the format's usual names).")
TimestampColumn = _option(_check_column, _OPT_STR, "The column holding the time (null: the format's usual names).")
ValueColumn = _option(_check_column, _OPT_STR, "The column holding the value (null: the format's usual names).")
StatusColumn = _option(
    _check_column, _OPT_STR, "The column holding PI's status (null: Status, Quality, ... where present)."
)
QualityColumn = _option(_check_column, _OPT_STR, "The column holding the quality.")
TimestampFormat = _option(
    _check_format,
    _OPT_STR,
    "A strptime format for wall-clock texts such as '%d/%m/%Y %H:%M' (null: ISO 8601 or the format's own form).",
)
EarliestTimestamp = _option(
    _check_earliest,
    _OPT_STR,
    "A time before this (date or ISO 8601, UTC unless it has an offset) is rejected as out of range "
    "(null: a year before calendar.first_day).",
)
LatestTimestampAheadS = _option(
    _check_ahead,
    {"type": "number", "minimum": 0, "maximum": 366 * 86_400},
    "A time more than this many seconds after now is rejected as out of range.",
)
BadStates = _option(_check_names, _NAMES, "Extra PI system digital states that mean a bad point.")
TagField = _option(_check_choice("Name", "Path"), _choice("Name", "Path"), "Which PI Web API field names the tag.")
MaxJsonMb = _option(_check_positive, _POS, "A larger JSON document is rejected.")
MaxJsonDepth = _option(_check_positive, _POS, "A JSON text nesting deeper than this is rejected.")
EpochUnit = _option(
    _check_choice("s", "ms", "us", "auto"), _choice("s", "ms", "us", "auto"), "The unit of numeric epoch timestamps."
)
TagPrefix = _option(_check_prefix, _STR, "Text put before every tag (channel) name read.")
TsField = _option(_check_column, _STR, "The JSON field holding the time.")
DeviceField = _option(
    _check_column, _STR, "The JSON field holding the device name (the tag is DEVICE<separator>metric)."
)
MetricsField = _option(_check_column, _STR, "The JSON field holding the metrics object.")
QualityField = _option(_check_column, _STR, "The JSON field holding the quality.")
TagSeparator = _option(_check_prefix, _STR, "Text between device and metric in a tag name.")
DecimalComma = _option(
    _check_bool,
    {"type": "boolean"},
    "Numbers are written with a decimal comma (needs a delimiter other than ',').",
)
IntervalLabel = _option(
    _check_choice("start", "end"),
    _choice("start", "end"),
    "Whether a row's time is the start or the end of its interval.",
)
IntervalMinutes = _option(
    _check_optional_positive,
    {"type": ["number", "null"], "exclusiveMinimum": 0},
    "The interval length with interval_label end (null: inferred from the first rows).",
)
MidnightLabel = _option(_check_bool, {"type": "boolean"}, "Midnight is written as 24:00 of the day before.")
Channels = _option(
    _check_names, _NAMES, "The columns to read (null: every column but the timestamp and a record number)."
)
SkipColumns = _option(_check_names, _NAMES, "Columns not to read.")
HeaderLine = _option(
    _check_line, _LINE, "The header's line, 1-based (null: 1, or 2 in a Campbell Scientific TOA5 file)."
)
UnitsLine = _option(_check_line, _LINE, "The units line, 1-based (null: none, or 3 in a TOA5 file).")
DataStartLine = _option(_check_line, _LINE, "The first data line, 1-based (null: the line after the header or units).")
Layout = _option(
    _check_choice("auto", "long", "wide"),
    _choice("auto", "long", "wide"),
    "long (tag, ts, value[, quality]), wide (ts + a column per channel) or auto.",
)
MaxInMemoryMb = _option(_check_positive, _POS, "A compressed Parquet file is read into memory up to this size.")
MaxUncompressedMb = _option(_check_positive, _POS, "An archive member larger than this uncompressed is rejected.")
MaxCompressionRatio = _option(_check_positive, _POS, "An archive member compressed more than this is rejected.")


# format -> its options model, filled as each model that names its FORMAT is declared (in that order); the
# models are declared in assets/plant/source_formats.py, which is where to read the table
OPTIONS: dict[str, type[SourceOptions]] = {}


class SourceOptions(BaseModel):
    """What every format takes: the archive limits and the time rules, and the checks across keys.

    A format's model subclasses it (or `CsvOptions`) and names its format in `FORMAT`; declaring the class
    declares the format's options (assets/plant/source_formats.py). Every format reads times by the same
    rules (readers/rows.py, plant/timestamps.py): a timestamp_format alone reads wall-clock texts (None:
    ISO 8601 only, or the format's own form), and a time outside [earliest_timestamp, now +
    latest_timestamp_ahead_s] is rejected as out of range. earliest_timestamp None: a year before
    calendar.first_day (filled in by the plant config, see plant/config.py).
    """

    model_config = ConfigDict(extra="forbid")

    FORMAT: ClassVar[str] = ""  # the plant YAML's `format`; empty in a base that no format is

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("FORMAT"):
            if cls.FORMAT in OPTIONS:
                raise TypeError(
                    f"format {cls.FORMAT!r} is declared twice ({OPTIONS[cls.FORMAT].__name__}, {cls.__name__})"
                )
            OPTIONS[cls.FORMAT] = cls

    max_uncompressed_mb: MaxUncompressedMb = 8192
    max_compression_ratio: MaxCompressionRatio = 200
    timestamp_format: TimestampFormat = None
    earliest_timestamp: EarliestTimestamp = None
    latest_timestamp_ahead_s: LatestTimestampAheadS = 86_400

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every key and its default: the format's own keys in the order declared, then the shared ones."""
        own: list[str] = []
        for klass in reversed(cls.__mro__):
            if isinstance(klass, type) and issubclass(klass, SourceOptions) and klass is not SourceOptions:
                own += [key for key in klass.__dict__.get("__annotations__", {}) if key in cls.model_fields]
        keys = dict.fromkeys([*own, *SourceOptions.model_fields])
        return {key: cls.model_fields[key].get_default(call_default_factory=True) for key in keys}

    @model_validator(mode="after")
    def _keys_together(self, info: ValidationInfo) -> SourceOptions:
        path = (info.context or {}).get("path", "options")
        merged = self.__dict__
        if merged.get("decimal_comma") and merged.get("delimiter") == ",":
            raise problem(f"needs a delimiter other than ',' (set {path}.delimiter)", "decimal_comma")
        if merged.get("interval_minutes") is not None and merged.get("interval_label") != "end":
            raise problem("only used with interval_label: end", "interval_minutes")
        header_line, units_line = merged.get("header_line") or 1, merged.get("units_line")
        if units_line is not None and units_line == header_line:
            raise problem(f"is the header line ({header_line}); the units need a line of their own", "units_line")
        data_start = merged.get("data_start_line")
        if data_start is not None and data_start <= max(header_line, units_line or 0):
            raise problem(
                f"must come after the header (line {header_line})"
                + (f" and the units (line {units_line})" if units_line else ""),
                "data_start_line",
            )
        return self


class CsvOptions(SourceOptions):
    """What every CSV format takes; a longer line is quarantined, the rest of the file read (see line_limit.py)."""

    encoding: Encoding = "utf-8"
    delimiter: Delimiter = ","
    max_line_bytes: MaxLineBytes = DEFAULT_MAX_LINE_BYTES
