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

import csv
import datetime as dt
import io
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from assets.plant.source_formats import validate_source_options

from ..readers.pi_csv import PI_SYSTEM_STATES
from ..readers.registry import check_registered

QUALITIES = ("good", "uncertain", "bad")
UTC = dt.UTC
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PI_BAD_STATE = "Bad Input"


class Point(NamedTuple):
    """One historian point: tag, instant (timezone-aware), a number or a text (or neither), and quality."""

    tag: str
    ts: dt.datetime
    value: float | None = None
    text: str | None = None
    quality: str = "good"


@dataclass(frozen=True)
class DemoFormat:
    """How the demo writes a format: its writer, the extension its exports use, what its files can carry,
    and the source options (as written in the plant YAML) under which the reader reads the writer's files."""

    write: Callable[[list[Point], _Context], bytes]
    extension: str
    local_time: bool  # timestamps are wall-clock text of the source's time zone
    quality: bool  # uncertain and bad points can be written
    text: bool  # text values (digital states, string tags) can be written
    source_options: dict[str, Any] = field(default_factory=dict)


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
    ctx = _Context(tz=ZoneInfo(timezone), options=opts, epoch=epoch, lossy=lossy, fmt=fmt)
    data = writer(rows, ctx)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


# ---------------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Context:
    tz: ZoneInfo
    options: dict[str, Any]
    epoch: bool
    lossy: bool
    fmt: str

    def refuse(self, point: Point, why: str) -> None:
        raise ValueError(f"{self.fmt} cannot carry {_shown(point)}: {why}")


def _shown(point: Point) -> str:
    what = point.text if point.text is not None else point.value
    return f"{point.tag} at {point.ts.isoformat()} ({what!r}, {point.quality})"


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _checked(points: Iterable[Point], fmt: str, lossy: bool) -> Iterator[Point]:
    """Points that every reader reads back unchanged, times in UTC; a clear error for the others."""
    traits = FORMATS[fmt]
    for point in points:
        point = Point(*point)
        if point.ts.tzinfo is None:
            raise ValueError(f"{point.tag}: the time {point.ts} has no time zone; give an aware datetime")
        if point.quality not in QUALITIES:
            raise ValueError(f"{_shown(point)}: quality must be one of {', '.join(QUALITIES)}")
        if point.value is not None and point.text is not None:
            raise ValueError(f"{_shown(point)}: a point has a number or a text, not both")
        if point.value is not None and not math.isfinite(point.value):
            raise ValueError(f"{_shown(point)}: the value is not finite (every reader rejects it)")
        text = point.text
        if text is not None and (text != text.strip() or not text or _is_number_text(text)):
            raise ValueError(f"{_shown(point)}: a text value must be non-empty, trimmed and not a number")
        if point.value is None and point.text is None and point.quality != "bad":
            raise ValueError(f"{_shown(point)}: only a bad point may have no value")
        point = point._replace(ts=point.ts.astimezone(UTC), value=None if point.value is None else float(point.value))
        if not traits.text and point.text is not None:
            if not lossy:
                raise ValueError(f"{fmt} cannot carry {_shown(point)}: the format has numbers only")
            continue
        if not traits.quality and point.quality != "good":
            if not lossy:
                raise ValueError(f"{fmt} cannot carry {_shown(point)}: the format has no quality column")
            if point.quality == "bad":
                continue  # the exporter leaves the cell empty
            point = point._replace(quality="good")
        yield point


# ------------------------------------------------------------------------------------------- time


def _fraction(ts: dt.datetime, sep: str = ".") -> str:
    us = ts.microsecond
    if us == 0:
        return ""
    return f"{sep}{us // 1000:03d}" if us % 1000 == 0 else f"{sep}{us:06d}"


def _iso_local(naive: dt.datetime, sep: str = " ") -> str:
    return naive.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + _fraction(naive)


def _iso_utc(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S") + _fraction(ts) + "Z"


def _iso_offset(ts: dt.datetime, tz: ZoneInfo) -> str:
    local = ts.astimezone(tz)
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{_iso_local(local.replace(tzinfo=None), 'T')}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _epoch(ts: dt.datetime, unit: str, point_text: str) -> int:
    us = (ts - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    per = {"s": 1_000_000, "ms": 1_000, "us": 1, "auto": 1_000}[unit]
    if us % per:
        raise ValueError(f"{point_text}: the time has more precision than epoch unit {unit} can carry")
    return us // per


def _formatter(fmt: str | None, default: Callable[[dt.datetime], str]) -> Callable[[dt.datetime], str]:
    """Wall-clock text in the source's `timestamp_format`, refusing a form that would lose precision."""
    if fmt is None:
        return default

    def text(naive: dt.datetime) -> str:
        out = naive.strftime(fmt)
        if dt.datetime.strptime(out, fmt) != naive:
            raise ValueError(f"timestamp_format {fmt!r} cannot carry the time {naive} exactly")
        return out

    return text


def _wall_clock(times: list[dt.datetime], tags: list[list[str]], tz: ZoneInfo) -> tuple[list[dt.datetime], set[int]]:
    """Each row's naive wall-clock time, and the rows that must carry their UTC offset.

    Rows are in true order. A tag's rows in a repeated hour are placed by the reader from row order when
    the tag has rows in both passes and steps back at the first row of the second pass (see
    core/timestamps.py); otherwise they get an explicit offset. A wide row holds several tags, so
    giving it an offset changes what the other tags show: repeat until nothing changes.
    """
    naive: list[dt.datetime] = []
    ambiguous: list[tuple[int, int]] = []  # (row, fold)
    for i, ts in enumerate(times):
        local = ts.astimezone(tz)
        wall = local.replace(tzinfo=None)
        naive.append(wall)
        other = wall.replace(tzinfo=tz, fold=1 - local.fold)
        if other.utcoffset() != local.utcoffset():
            ambiguous.append((i, local.fold))
    explicit: set[int] = set()
    changed = bool(ambiguous)
    while changed:
        changed = False
        groups: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)
        for row, fold in ambiguous:
            if row not in explicit:
                for tag in tags[row]:
                    groups[(tag, naive[row].date())].append((row, fold))
        for items in groups.values():
            first = [naive[r] for r, fold in items if fold == 0]
            second = [naive[r] for r, fold in items if fold == 1]
            if not (first and second and second[0] <= first[-1]):
                explicit.update(r for r, _ in items)
                changed = True
    return naive, explicit


def _times_text(
    times: list[dt.datetime], tags: list[list[str]], ctx: _Context, local: Callable[[dt.datetime], str]
) -> list[str]:
    """Wall-clock text per row (an ISO time with offset where the repeated hour needs it)."""
    naive, explicit = _wall_clock(times, tags, ctx.tz)
    return [_iso_offset(ts, ctx.tz) if i in explicit else local(naive[i]) for i, ts in enumerate(times)]


def _epoch_or_local(times: list[dt.datetime], tags: list[list[str]], ctx: _Context, local) -> list[str | int]:
    if ctx.epoch:
        return [_epoch(ts, ctx.options["epoch_unit"], f"{tags[i]} at {ts}") for i, ts in enumerate(times)]
    return _times_text(times, tags, ctx, local)


# ---------------------------------------------------------------------------------------- values


def _number(value: float, decimal_comma: bool = False) -> str:
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return text.replace(".", ",") if decimal_comma else text


def _csv_bytes(header: list[str], rows: Iterable[list[Any]], options: dict[str, Any], preamble: str = "") -> bytes:
    buffer = io.StringIO()
    buffer.write(preamble)
    writer = csv.writer(buffer, delimiter=options["delimiter"], lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(options["encoding"])


def _tags(points: list[Point]) -> list[list[str]]:
    return [[p.tag] for p in points]


# --------------------------------------------------------------------------------------- writers

_AVEVA_QUALITY = {"good": (0, 192, 192), "uncertain": (16, 64, 64), "bad": (1, 249, 0)}


def _aveva(points: list[Point], ctx: _Context) -> bytes:
    """AVEVA History export: local DateTime with milliseconds; strings in vValue; Quality/OPCQuality."""

    def local(naive: dt.datetime) -> str:
        return naive.strftime("%Y-%m-%d %H:%M:%S") + (_fraction(naive) or ".000")

    times = _times_text([p.ts for p in points], _tags(points), ctx, local)
    rows = []
    for when, p in zip(times, points, strict=True):
        value = "" if p.value is None else _number(p.value)
        text = p.text if p.text is not None else value
        rows.append([when, p.tag, value, text, *_AVEVA_QUALITY[p.quality], "Delta"])
    header = ["DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality", "wwRetrievalMode"]
    return _csv_bytes(header, rows, ctx.options)


def _pi_time(naive: dt.datetime) -> str:
    return f"{naive.day:02d}-{_MONTHS[naive.month - 1]}-{naive:%y %H:%M:%S}" + _fraction(naive)


def _pi_value(p: Point, ctx: _Context) -> tuple[float | None, str | None]:
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


def _pi_csv(points: list[Point], ctx: _Context) -> bytes:
    """PI archive export: Tag, Timestamp (02-Mar-26 06:00:00, local), Value, Questionable, Substituted."""
    opts = ctx.options
    local = _formatter(opts["timestamp_format"], _pi_time)
    times = _times_text([p.ts for p in points], _tags(points), ctx, local)
    status = opts["status_column"]
    header = [opts["tag_column"] or "Tag", opts["timestamp_column"] or "Timestamp", opts["value_column"] or "Value"]
    header += [status] if status else ["Questionable", "Substituted"]
    rows = []
    for when, p in zip(times, points, strict=True):
        value, text = _pi_value(p, ctx)
        shown = text if text is not None else _number(value)
        if status:
            flags = [{"good": "Good", "uncertain": "Questionable", "bad": "Bad"}[p.quality]]
        else:
            flags = ["True" if p.quality == "uncertain" else "False", "False"]
        rows.append([p.tag, when, shown, *flags])
    return _csv_bytes(header, rows, opts)


def _pi_webapi_json(points: list[Point], ctx: _Context) -> bytes:
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
                    "Timestamp": _iso_utc(p.ts),
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


def _wide_rows(points: list[Point], ctx: _Context, prefix: str) -> tuple[list[str], list[dt.datetime], list[dict]]:
    """Columns (tag names without the prefix), and one row of cells per instant."""
    for p in points:
        if not p.tag.startswith(prefix) or p.tag == prefix:
            ctx.refuse(p, f"a column is named by the tag without the tag_prefix {prefix!r}")
        if any(c in p.tag for c in (ctx.options["delimiter"], '"', "\n", "\r")):
            ctx.refuse(p, "a tag used as a column name cannot hold the delimiter or quotes")
    columns = sorted({p.tag[len(prefix) :] for p in points})
    times: list[dt.datetime] = []
    cells: list[dict] = []
    for p in points:
        if not times or times[-1] != p.ts:
            times.append(p.ts)
            cells.append({})
        column = p.tag[len(prefix) :]
        if column in cells[-1]:
            ctx.refuse(p, "a wide file has one cell per tag and instant")
        cells[-1][column] = p
    return columns, times, cells


def _cell(p: Point | None, decimal_comma: bool = False) -> str:
    if p is None or (p.value is None and p.text is None):
        return ""
    return p.text if p.text is not None else _number(p.value, decimal_comma)


def _ignition_wide_csv(points: list[Point], ctx: _Context) -> bytes:
    """Ignition tag-history export, wide: t_stamp (local text or epoch ms), one column per tag path."""
    opts = ctx.options
    columns, times, cells = _wide_rows(points, ctx, opts["tag_prefix"])
    local = _formatter(opts["timestamp_format"], _iso_local)
    stamps = _epoch_or_local(times, [list(c) for c in cells], ctx, local)
    rows = [[stamp, *(_cell(row.get(c)) for c in columns)] for stamp, row in zip(stamps, cells, strict=True)]
    return _csv_bytes([opts["timestamp_column"], *columns], rows, opts)


def _ignition_tall_csv(points: list[Point], ctx: _Context) -> bytes:
    """Ignition tag-history export, tall: Path, Value, Quality (192 good, 64 uncertain, 0 bad), Timestamp."""
    opts = ctx.options
    local = _formatter(opts["timestamp_format"], _iso_local)
    stamps = _epoch_or_local([p.ts for p in points], _tags(points), ctx, local)
    quality = {"good": 192, "uncertain": 64, "bad": 0}
    rows = [[p.tag, _cell(p), quality[p.quality], stamp] for p, stamp in zip(points, stamps, strict=True)]
    header = [opts["tag_column"], opts["value_column"], opts["quality_column"], opts["timestamp_column"]]
    return _csv_bytes(header, rows, opts)


def _proficy_time(naive: dt.datetime) -> str:
    return naive.strftime("%m/%d/%Y %H:%M:%S") + _fraction(naive)


def _proficy_csv(points: list[Point], ctx: _Context) -> bytes:
    """Proficy Historian CSV: a short preamble, `[Data]`, then Tagname, TimeStamp, Value, DataQuality."""
    opts = ctx.options
    local = _formatter(opts["timestamp_format"], _proficy_time)
    times = _times_text([p.ts for p in points], _tags(points), ctx, local)
    d = opts["delimiter"]
    span = ""
    if points:
        first, last = (_proficy_time(p.ts.astimezone(ctx.tz).replace(tzinfo=None)) for p in (points[0], points[-1]))
        span = f"Start Time{d}{first}\nEnd Time{d}{last}\n"
    preamble = f"[Header]\nServer{d}HISTORIAN01\nSampling Mode{d}RawByTime\n{span}Time Zone{d}{ctx.tz.key}\n\n[Data]\n"
    quality = {"good": "Good", "uncertain": "Uncertain", "bad": "Bad"}
    rows = [[p.tag, when, _cell(p), quality[p.quality]] for p, when in zip(points, times, strict=True)]
    header = [opts["tag_column"], opts["timestamp_column"], opts["value_column"], opts["quality_column"]]
    return _csv_bytes(header, rows, opts, preamble=preamble)


def _sensor_jsonl(points: list[Point], ctx: _Context) -> bytes:
    """MQTT gateway dump: one message per device, instant and quality, with the device's metrics."""
    opts = ctx.options
    sep = opts["tag_separator"]
    if not sep:
        raise ValueError("sensor_jsonl needs a tag_separator to split a tag into device and metric")
    messages: list[dict] = []
    open_messages: dict[tuple[str, str], dict] = {}
    current: dt.datetime | None = None
    for p in points:
        device, found, metric = p.tag.rpartition(sep)
        if not found or not device.strip() or device != device.strip() or not metric:
            ctx.refuse(p, f"the tag must be DEVICE{sep}metric")
        if p.ts != current:
            current, open_messages = p.ts, {}
        message = open_messages.get((device, p.quality))
        if message is None or metric in message[opts["metrics_field"]]:
            stamp = _epoch(p.ts, opts["epoch_unit"], _shown(p)) if ctx.epoch else _iso_utc(p.ts)
            message = {opts["ts_field"]: stamp, opts["device_field"]: device, opts["metrics_field"]: {}}
            if p.quality != "good":
                message[opts["quality_field"]] = p.quality
            open_messages[(device, p.quality)] = message
            messages.append(message)
        value: Any = p.text if p.text is not None else p.value
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        message[opts["metrics_field"]][metric] = value
    text = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages)
    return text.encode(opts["encoding"])


def _sensor_csv(points: list[Point], ctx: _Context) -> bytes:
    """Data-logger CSV, wide: a local timestamp column, then one column per channel."""
    opts = ctx.options
    columns, times, cells = _wide_rows(points, ctx, opts["tag_prefix"])
    if opts["interval_label"] == "end":
        if opts["interval_minutes"] is None:
            raise ValueError("sensor_csv with interval_label end: set interval_minutes so the reader can shift back")
        step = dt.timedelta(minutes=opts["interval_minutes"])
        times = [t + step for t in times]
    local = _formatter(opts["timestamp_format"], _iso_local)
    if opts["midnight_label"]:
        local = _midnight_labels(local, opts["timestamp_format"])
    stamps = _times_text(times, [list(c) for c in cells], ctx, local)
    comma = opts["decimal_comma"]
    rows = [[stamp, *(_cell(row.get(c), comma) for c in columns)] for stamp, row in zip(stamps, cells, strict=True)]
    return _csv_bytes([opts["timestamp_column"] or "timestamp", *columns], rows, opts)


def _midnight_labels(local: Callable[[dt.datetime], str], fmt: str | None) -> Callable[[dt.datetime], str]:
    """A logger that labels the reading ending at midnight with the date that ends (`01/01 23:45`, `01/01 00:00`)."""
    previous: list[dt.datetime] = []

    def text(naive: dt.datetime) -> str:
        last = previous[-1] if previous else None
        previous.append(naive)
        day_before = naive - dt.timedelta(days=1)
        if naive.time() == dt.time(0) and last is not None and last.date() == day_before.date() and last > day_before:
            return day_before.strftime(fmt) if fmt else _iso_local(day_before)
        return local(naive)

    return text


def _sensor_parquet(points: list[Point], ctx: _Context) -> bytes:
    """Parquet dump, long: tag, ts (UTC timestamp, or epoch numbers), value, quality."""
    opts = ctx.options
    if opts["layout"] == "wide":
        raise ValueError("the sensor_parquet writer makes long files; use layout long or auto")
    if ctx.epoch:
        ts = pa.array([_epoch(p.ts, opts["epoch_unit"], _shown(p)) for p in points], pa.int64())
    else:
        ts = pa.array([p.ts for p in points], pa.timestamp("us", tz="UTC"))
    if any(p.text is not None for p in points):
        value = pa.array([p.text if p.text is not None else _cell(p) or None for p in points], pa.string())
    else:
        value = pa.array([p.value for p in points], pa.float64())
    table = pa.table(
        {
            opts["tag_column"]: pa.array([p.tag for p in points], pa.string()),
            opts["timestamp_column"]: ts,
            opts["value_column"]: value,
            opts["quality_column"]: pa.array([p.quality for p in points], pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


# One writer per format of the registry (assets/readers/registry.py FORMATS); the check below fails at import
# naming a format without one. The source options: a European data logger writes `;` and a decimal comma;
# Proficy writes month-first dates, which no reader assumes (3/2 could be 3 February), so its source names
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
    "sensor_jsonl": DemoFormat(_sensor_jsonl, ".jsonl", local_time=False, quality=True, text=True),
    "sensor_csv": DemoFormat(
        _sensor_csv,
        ".csv",
        local_time=True,
        quality=False,
        text=False,
        source_options={"delimiter": ";", "decimal_comma": True},
    ),
    "sensor_parquet": DemoFormat(_sensor_parquet, ".parquet", local_time=False, quality=True, text=True),
}
check_registered("demo writer", FORMATS)
