"""Export files in every historian and sensor format the readers land, written from one list of points.

A plant engineer tries the pipeline with the demo plant before their own export arrives; these writers
let the demo speak the format their historian speaks. Each writer makes the file that system really
exports (column names, timestamp forms, quality flags, digital states) and, with the source options of
`source_options_for`, the matching reader reads it back into the same points: same tag, UTC instant,
value or text, and quality.

What a format cannot carry is refused with a `ValueError` naming the point, unless `lossy=True`: then
the point is written as that system would export it (a wide CSV has no quality column, so a bad point
is an empty cell and an uncertain one a plain value; PI archives a system digital state in place of a
bad value). Either way, in the PI formats a bad point without a value is the system state `Bad Input`,
and the reader gives that text back.

Local-time formats write the source's wall-clock time without an offset, as historians do. A UTC
instant never falls in the spring-forward gap. In the repeated autumn hour the rows are written in true
order, so that a tag's clock stepping back tells the reader which pass a row belongs to; where a tag's
rows cannot show it (a single pass, or no step back), those rows carry their UTC offset, which every
reader honours.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assets.demo.point_text import (
    Point,
    WriteContext,
    cell_text,
    csv_bytes,
    epoch_or_local,
    fraction_text,
    is_number_text,
    iso_local,
    iso_utc,
    number_text,
    shown,
    tag_rows,
    time_formatter,
    times_text,
    wide_rows,
)
from assets.demo.sensor_writers import sensor_csv, sensor_jsonl, sensor_parquet
from assets.plant.source_formats import validate_source_options

from ..readers.pi_csv import PI_SYSTEM_STATES
from ..readers.registry import check_registered

QUALITIES = ("good", "uncertain", "bad")
UTC = dt.UTC
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PI_BAD_STATE = "Bad Input"


@dataclass(frozen=True)
class DemoFormat:
    """How the demo writes a format: its writer, the extension its exports use, what its files can carry,
    and the source options (as written in the plant YAML) under which the reader reads the writer's files."""

    write: Callable[[list[Point], WriteContext], bytes]
    extension: str
    local_time: bool  # timestamps are wall-clock text of the source's time zone
    quality: bool  # uncertain and bad points can be written
    text: bool  # text values (digital states, string tags) can be written
    source_options: dict[str, Any] = field(default_factory=dict)
    points: bool = True  # False: the format holds no tag points (orders_csv is written by write_orders_csv)


def source_options_for(fmt: str) -> dict[str, Any]:
    """The source options (as written in the plant YAML) under which the reader reads this writer's files."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return dict(FORMATS[fmt].source_options)


def write_points(
    path: Path,
    fmt: str,
    points: Iterable[Point],
    timezone: str = "UTC",
    options: dict[str, Any] | None = None,
    *,
    epoch: bool = False,
    lossy: bool = False,
) -> Path:
    """Write `points` as an export file of format `fmt` at `path` and return the path.

    `timezone` is the source's time zone (for local-time formats), `options` the source's options
    (default `source_options_for(fmt)`). `epoch=True` writes times as epoch numbers where the format
    allows it (Ignition, sensor JSON lines, Parquet). The file appears complete or not at all: it is
    written under a temporary name that the landing sensor skips, then renamed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    opts = validate_source_options(fmt, source_options_for(fmt) if options is None else options, "options")
    rows = sorted(_checked(points, fmt, lossy), key=lambda p: (p.ts, p.tag))
    writer = FORMATS[fmt].write
    ctx = WriteContext(tz=ZoneInfo(timezone), options=opts, epoch=epoch, lossy=lossy, fmt=fmt)
    data = writer(rows, ctx)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


# ---------------------------------------------------------------------------------------- checks


def _checked(points: Iterable[Point], fmt: str, lossy: bool) -> Iterator[Point]:
    """Points that every reader reads back unchanged, times in UTC; a clear error for the others."""
    traits = FORMATS[fmt]
    for point in points:
        point = Point(*point)
        if point.ts.tzinfo is None:
            raise ValueError(f"{point.tag}: the time {point.ts} has no time zone; give an aware datetime")
        if point.quality not in QUALITIES:
            raise ValueError(f"{shown(point)}: quality must be one of {', '.join(QUALITIES)}")
        if point.value is not None and point.text is not None:
            raise ValueError(f"{shown(point)}: a point has a number or a text, not both")
        if point.value is not None and not math.isfinite(point.value):
            raise ValueError(f"{shown(point)}: the value is not finite (every reader rejects it)")
        text = point.text
        if text is not None and (text != text.strip() or not text or is_number_text(text)):
            raise ValueError(f"{shown(point)}: a text value must be non-empty, trimmed and not a number")
        if point.value is None and point.text is None and point.quality != "bad":
            raise ValueError(f"{shown(point)}: only a bad point may have no value")
        point = point._replace(ts=point.ts.astimezone(UTC), value=None if point.value is None else float(point.value))
        if not traits.text and point.text is not None:
            if not lossy:
                raise ValueError(f"{fmt} cannot carry {shown(point)}: the format has numbers only")
            continue
        if not traits.quality and point.quality != "good":
            if not lossy:
                raise ValueError(f"{fmt} cannot carry {shown(point)}: the format has no quality column")
            if point.quality == "bad":
                continue  # the exporter leaves the cell empty
            point = point._replace(quality="good")
        yield point


# --------------------------------------------------------------------------------------- writers

_AVEVA_QUALITY = {"good": (0, 192, 192), "uncertain": (16, 64, 64), "bad": (1, 249, 0)}


def _aveva(points: list[Point], ctx: WriteContext) -> bytes:
    """AVEVA History export: local DateTime with milliseconds; strings in vValue; Quality/OPCQuality."""

    def local(naive: dt.datetime) -> str:
        return naive.strftime("%Y-%m-%d %H:%M:%S") + (fraction_text(naive) or ".000")

    times = times_text([p.ts for p in points], tag_rows(points), ctx, local)
    rows = []
    for when, p in zip(times, points, strict=True):
        value = "" if p.value is None else number_text(p.value)
        text = p.text if p.text is not None else value
        rows.append([when, p.tag, value, text, *_AVEVA_QUALITY[p.quality], "Delta"])
    header = ["DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality", "wwRetrievalMode"]
    return csv_bytes(header, rows, ctx.options)


def _pi_time(naive: dt.datetime) -> str:
    return f"{naive.day:02d}-{_MONTHS[naive.month - 1]}-{naive:%y %H:%M:%S}" + fraction_text(naive)


def _pi_value(p: Point, ctx: WriteContext) -> tuple[float | None, str | None]:
    """PI stores a system digital state instead of a bad value; a good text must not be one."""
    states = PI_SYSTEM_STATES | {s.lower() for s in ctx.options.get("bad_states", [])}
    if p.quality == "bad":
        if p.text is not None and p.text.lower() in states:
            return None, p.text
        if p.value is not None or p.text is not None:
            if not ctx.lossy:
                ctx.refuse(p, "PI keeps a system digital state, not the value, for a bad event")
        return None, PI_BAD_STATE
    if p.text is not None and p.text.lower() in states:
        ctx.refuse(p, "the text is a PI system digital state, which reads as a bad event")
    return p.value, p.text


def _pi_csv(points: list[Point], ctx: WriteContext) -> bytes:
    """PI archive export: Tag, Timestamp (02-Mar-26 06:00:00, local), Value, Questionable, Substituted."""
    opts = ctx.options
    local = time_formatter(opts["timestamp_format"], _pi_time)
    times = times_text([p.ts for p in points], tag_rows(points), ctx, local)
    status = opts["status_column"]
    header = [opts["tag_column"] or "Tag", opts["timestamp_column"] or "Timestamp", opts["value_column"] or "Value"]
    header += [status] if status else ["Questionable", "Substituted"]
    rows = []
    for when, p in zip(times, points, strict=True):
        value, text = _pi_value(p, ctx)
        shown = text if text is not None else number_text(value)
        if status:
            flags = [{"good": "Good", "uncertain": "Questionable", "bad": "Bad"}[p.quality]]
        else:
            flags = ["True" if p.quality == "uncertain" else "False", "False"]
        rows.append([p.tag, when, shown, *flags])
    return csv_bytes(header, rows, opts)


def _pi_webapi_json(points: list[Point], ctx: WriteContext) -> bytes:
    """PI Web API streamsets/recorded response: one stream per tag, UTC times, Good/Questionable flags."""
    by_tag: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        by_tag[p.tag].append(p)
    streams = []
    system = sorted(PI_SYSTEM_STATES)
    for n, (tag, tag_points) in enumerate(sorted(by_tag.items()), start=1):
        states: dict[str, int] = {}
        items = []
        for p in tag_points:
            value, text = _pi_value(p, ctx)
            if text is not None and p.quality == "bad":
                code = system.index(text.lower()) if text.lower() in system else len(system)
                shown: Any = {"Name": text, "Value": code, "IsSystem": True}
            elif text is not None:
                shown = {"Name": text, "Value": states.setdefault(text, len(states)), "IsSystem": False}
            else:
                shown = int(value) if value.is_integer() and abs(value) < 1e15 else value
            items.append(
                {
                    "Timestamp": iso_utc(p.ts),
                    "Value": shown,
                    "UnitsAbbreviation": "",
                    "Good": p.quality != "bad",
                    "Questionable": p.quality == "uncertain",
                    "Substituted": False,
                    "Annotated": False,
                }
            )
        path = f"\\\\PISRV01\\{tag}"
        name = tag
        if ctx.options["tag_field"] == "Path":
            path, name = tag, tag.rsplit("\\", 1)[-1]
        streams.append({"WebId": f"F1DP{n:08d}", "Name": name, "Path": path, "Items": items, "UnitsAbbreviation": ""})
    document = {"Links": {}, "Items": streams}
    return (json.dumps(document, indent=1) + "\n").encode("utf-8")


def _ignition_wide_csv(points: list[Point], ctx: WriteContext) -> bytes:
    """Ignition tag-history export, wide: t_stamp (local text or epoch ms), one column per tag path."""
    opts = ctx.options
    columns, times, cells = wide_rows(points, ctx, opts["tag_prefix"])
    local = time_formatter(opts["timestamp_format"], iso_local)
    stamps = epoch_or_local(times, [list(c) for c in cells], ctx, local)
    rows = [[stamp, *(cell_text(row.get(c)) for c in columns)] for stamp, row in zip(stamps, cells, strict=True)]
    return csv_bytes([opts["timestamp_column"], *columns], rows, opts)


def _ignition_tall_csv(points: list[Point], ctx: WriteContext) -> bytes:
    """Ignition tag-history export, tall: Path, Value, Quality (192 good, 64 uncertain, 0 bad), Timestamp."""
    opts = ctx.options
    local = time_formatter(opts["timestamp_format"], iso_local)
    stamps = epoch_or_local([p.ts for p in points], tag_rows(points), ctx, local)
    quality = {"good": 192, "uncertain": 64, "bad": 0}
    rows = [[p.tag, cell_text(p), quality[p.quality], stamp] for p, stamp in zip(points, stamps, strict=True)]
    header = [opts["tag_column"], opts["value_column"], opts["quality_column"], opts["timestamp_column"]]
    return csv_bytes(header, rows, opts)


def _proficy_time(naive: dt.datetime) -> str:
    return naive.strftime("%m/%d/%Y %H:%M:%S") + fraction_text(naive)


def _proficy_csv(points: list[Point], ctx: WriteContext) -> bytes:
    """Proficy Historian CSV: a short preamble, `[Data]`, then Tagname, TimeStamp, Value, DataQuality."""
    opts = ctx.options
    local = time_formatter(opts["timestamp_format"], _proficy_time)
    times = times_text([p.ts for p in points], tag_rows(points), ctx, local)
    d = opts["delimiter"]
    span = ""
    if points:
        first, last = (_proficy_time(p.ts.astimezone(ctx.tz).replace(tzinfo=None)) for p in (points[0], points[-1]))
        span = f"Start Time{d}{first}\nEnd Time{d}{last}\n"
    preamble = f"[Header]\nServer{d}HISTORIAN01\nSampling Mode{d}RawByTime\n{span}Time Zone{d}{ctx.tz.key}\n\n[Data]\n"
    quality = {"good": "Good", "uncertain": "Uncertain", "bad": "Bad"}
    rows = [[p.tag, when, cell_text(p), quality[p.quality]] for p, when in zip(points, times, strict=True)]
    header = [opts["tag_column"], opts["timestamp_column"], opts["value_column"], opts["quality_column"]]
    return csv_bytes(header, rows, opts, preamble=preamble)


ORDER_COLUMNS = (
    "order_id",
    "product",
    "line",
    "machine",
    "planned_qty",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
)


def write_orders_csv(
    path: Path, rows: list[dict[str, Any]], timezone: str = "UTC", options: dict[str, Any] | None = None
) -> Path:
    """Write work orders as an MES/ERP orders export (format orders_csv) at `path` and return the path.

    One dict per order with the header's keys (`ORDER_COLUMNS`; a missing key or None is an empty cell);
    times are tz-aware datetimes, written as ISO 8601 with their UTC offset in `timezone`, or as that
    zone's wall clock in the options' `timestamp_format` where one is set. Written under a temporary
    name, then renamed, like `write_points`."""
    opts = validate_source_options("orders_csv", options, "options")
    tz = ZoneInfo(timezone)

    def cell(key: str, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError(f"{key} {value} has no time zone; give an aware datetime")
            local = value.astimezone(tz)
            return local.strftime(opts["timestamp_format"]) if opts["timestamp_format"] else local.isoformat()
        return number_text(value) if isinstance(value, float) else str(value)

    data = csv_bytes(list(ORDER_COLUMNS), ([cell(k, row.get(k)) for k in ORDER_COLUMNS] for row in rows), opts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def _orders_points(points: list[Point], ctx: WriteContext) -> bytes:
    raise ValueError("orders_csv holds work orders, not tag points: write it with write_orders_csv(path, rows)")


# the form; every other format reads the writers' files with its own defaults.
FORMATS: dict[str, DemoFormat] = {
    "aveva_historian_csv": DemoFormat(_aveva, ".csv", local_time=True, quality=True, text=True),
    "pi_csv": DemoFormat(_pi_csv, ".csv", local_time=True, quality=True, text=True),
    "pi_webapi_json": DemoFormat(_pi_webapi_json, ".json", local_time=False, quality=True, text=True),
    "ignition_wide_csv": DemoFormat(_ignition_wide_csv, ".csv", local_time=True, quality=False, text=True),
    "ignition_tall_csv": DemoFormat(_ignition_tall_csv, ".csv", local_time=True, quality=True, text=True),
    "proficy_csv": DemoFormat(
        _proficy_csv,
        ".csv",
        local_time=True,
        quality=True,
        text=True,
        source_options={"timestamp_format": "%m/%d/%Y %H:%M:%S.%f"},
    ),
    "sensor_jsonl": DemoFormat(sensor_jsonl, ".jsonl", local_time=False, quality=True, text=True),
    "sensor_csv": DemoFormat(
        sensor_csv,
        ".csv",
        local_time=True,
        quality=False,
        text=False,
        source_options={"delimiter": ";", "decimal_comma": True},
    ),
    "sensor_parquet": DemoFormat(sensor_parquet, ".parquet", local_time=False, quality=True, text=True),
    "orders_csv": DemoFormat(_orders_points, ".csv", local_time=True, quality=False, text=True, points=False),
}
check_registered("demo writer", FORMATS)
