"""The one registry of formats: each format's options model, reader and what the landing does with its lines.

Adding a format is its options model in assets/plant/source_formats.py (which declares the format to the
plant YAML), its reader module here in assets/readers/, and one `Format` line below; the readers'
dispatch, the landing and the demo (assets/demo/formats.py checks its writers against `FORMATS`) take the
formats from here. A format the plant declares without a line here, or declared twice, fails at import
naming it (`check_registered`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from assets.plant.config import Source
from assets.plant.source_formats import (
    OPTIONS,
    AvevaHistorianCsvOptions,
    IgnitionTallCsvOptions,
    IgnitionWideCsvOptions,
    OrdersCsvOptions,
    PiCsvOptions,
    PiWebApiJsonOptions,
    ProficyCsvOptions,
    SensorCsvOptions,
    SensorJsonlOptions,
    SensorParquetOptions,
    SourceOptions,
)
from assets.plant.timestamps import TimestampBounds

from .aveva_historian import read_aveva_historian_csv
from .ignition import read_ignition_tall_csv, read_ignition_wide_csv
from .orders_csv import read_orders_csv
from .parsed import ParsedBatch
from .pi_csv import read_pi_csv
from .pi_webapi_json import read_pi_webapi_json
from .proficy_csv import read_proficy_csv
from .sensor_csv import read_sensor_csv
from .sensor_jsonl import read_sensor_jsonl
from .sensor_parquet import read_sensor_parquet

Reader = Callable[[Callable, Source, dict], Iterator[ParsedBatch]]


@dataclass(frozen=True)
class Format:
    """A format: its options model (whose FORMAT is the plant YAML's `format`), its reader, called as
    `reader(stream_opener, source, options)`, and whether its reader holds a line whole (then the landing
    quarantines a line longer than `max_line_bytes` before the reader sees it; a JSON document has
    max_json_mb, sensor_jsonl applies its own limit, Parquet has no lines)."""

    options: type[SourceOptions]
    reader: Reader
    line_limited: bool = False

    @property
    def name(self) -> str:
        return self.options.FORMAT


def _read_aveva_historian(stream_opener: Callable, source: Source, options: dict) -> Iterator[ParsedBatch]:
    return read_aveva_historian_csv(
        stream_opener,
        timezone=source.timezone,
        encoding=options.get("encoding", "utf-8"),
        delimiter=options.get("delimiter", ","),
        timestamp_format=options.get("timestamp_format"),
        bounds=TimestampBounds.from_options(options),
    )


FORMATS: tuple[Format, ...] = (
    Format(AvevaHistorianCsvOptions, _read_aveva_historian, line_limited=True),
    Format(PiCsvOptions, read_pi_csv, line_limited=True),
    Format(PiWebApiJsonOptions, read_pi_webapi_json),
    Format(IgnitionWideCsvOptions, read_ignition_wide_csv, line_limited=True),
    Format(IgnitionTallCsvOptions, read_ignition_tall_csv, line_limited=True),
    Format(ProficyCsvOptions, read_proficy_csv, line_limited=True),
    Format(SensorJsonlOptions, read_sensor_jsonl),
    Format(SensorCsvOptions, read_sensor_csv, line_limited=True),
    Format(SensorParquetOptions, read_sensor_parquet),
    Format(OrdersCsvOptions, read_orders_csv, line_limited=True),
)


class FormatRegistryError(RuntimeError):
    """A registry of formats (this one, the demo's writers) that does not match the declared formats one to one."""


def check_registered(what: str, registered: Iterable[str]) -> None:
    """Raise `FormatRegistryError` naming each declared format (assets/plant/source_formats.py) without a
    `what` or with several, and each `what` of an undeclared format; `registered` is the format names held."""
    declared, names = list(OPTIONS), list(registered)
    problems = [f"format {name!r} has no {what}" for name in declared if name not in names]
    problems += [f"format {name!r} has {names.count(name)} of {what}" for name in declared if names.count(name) > 1]
    problems += [
        f"{what} for format {name!r}, which assets/plant/source_formats.py does not declare"
        for name in dict.fromkeys(names)
        if name not in declared
    ]
    if problems:
        raise FormatRegistryError("; ".join(problems))


check_registered("Format line in assets/readers/registry.py", [fmt.name for fmt in FORMATS])

READERS: dict[str, Reader] = {fmt.name: fmt.reader for fmt in FORMATS}
LINE_LIMITED_FORMATS: tuple[str, ...] = tuple(fmt.name for fmt in FORMATS if fmt.line_limited)
