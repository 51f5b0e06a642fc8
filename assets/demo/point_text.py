"""The demo's points and the text forms the export writers share: times (ISO, local wall clock, epoch,
a format's own pattern), numbers, and CSV bytes. The writers and their registry are in formats.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

UTC = dt.UTC


class Point(NamedTuple):
    """One historian point: tag, instant (timezone-aware), a number or a text (or neither), and quality."""

    tag: str
    ts: dt.datetime
    value: float | None = None
    text: str | None = None
    quality: str = "good"


@dataclass(frozen=True)
class WriteContext:
    tz: ZoneInfo
    options: dict[str, Any]
    epoch: bool
    lossy: bool
    fmt: str

    def refuse(self, point: Point, why: str) -> None:
        raise ValueError(f"{self.fmt} cannot carry {shown(point)}: {why}")


def shown(point: Point) -> str:
    what = point.text if point.text is not None else point.value
    return f"{point.tag} at {point.ts.isoformat()} ({what!r}, {point.quality})"


def is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------- time


def fraction_text(ts: dt.datetime, sep: str = ".") -> str:
    us = ts.microsecond
    if us == 0:
        return ""
    return f"{sep}{us // 1000:03d}" if us % 1000 == 0 else f"{sep}{us:06d}"


def iso_local(naive: dt.datetime, sep: str = " ") -> str:
    return naive.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + fraction_text(naive)


def iso_utc(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S") + fraction_text(ts) + "Z"


def iso_offset(ts: dt.datetime, tz: ZoneInfo) -> str:
    local = ts.astimezone(tz)
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{iso_local(local.replace(tzinfo=None), 'T')}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def epoch_number(ts: dt.datetime, unit: str, point_text: str) -> int:
    us = (ts - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    per = {"s": 1_000_000, "ms": 1_000, "us": 1, "auto": 1_000}[unit]
    if us % per:
        raise ValueError(f"{point_text}: the time has more precision than epoch unit {unit} can carry")
    return us // per


def time_formatter(fmt: str | None, default: Callable[[dt.datetime], str]) -> Callable[[dt.datetime], str]:
    """Wall-clock text in the source's `timestamp_format`, refusing a form that would lose precision."""
    if fmt is None:
        return default

    def text(naive: dt.datetime) -> str:
        out = naive.strftime(fmt)
        if dt.datetime.strptime(out, fmt) != naive:
            raise ValueError(f"timestamp_format {fmt!r} cannot carry the time {naive} exactly")
        return out

    return text


def wall_clock(times: list[dt.datetime], tags: list[list[str]], tz: ZoneInfo) -> tuple[list[dt.datetime], set[int]]:
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


def times_text(
    times: list[dt.datetime], tags: list[list[str]], ctx: WriteContext, local: Callable[[dt.datetime], str]
) -> list[str]:
    """Wall-clock text per row (an ISO time with offset where the repeated hour needs it)."""
    naive, explicit = wall_clock(times, tags, ctx.tz)
    return [iso_offset(ts, ctx.tz) if i in explicit else local(naive[i]) for i, ts in enumerate(times)]


def epoch_or_local(times: list[dt.datetime], tags: list[list[str]], ctx: WriteContext, local) -> list[str | int]:
    if ctx.epoch:
        return [epoch_number(ts, ctx.options["epoch_unit"], f"{tags[i]} at {ts}") for i, ts in enumerate(times)]
    return times_text(times, tags, ctx, local)


# ---------------------------------------------------------------------------------------- values


def number_text(value: float, decimal_comma: bool = False) -> str:
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return text.replace(".", ",") if decimal_comma else text


def csv_bytes(header: list[str], rows: Iterable[list[Any]], options: dict[str, Any], preamble: str = "") -> bytes:
    buffer = io.StringIO()
    buffer.write(preamble)
    writer = csv.writer(buffer, delimiter=options["delimiter"], lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(options["encoding"])


def tag_rows(points: list[Point]) -> list[list[str]]:
    return [[p.tag] for p in points]


def wide_rows(points: list[Point], ctx: WriteContext, prefix: str) -> tuple[list[str], list[dt.datetime], list[dict]]:
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


def cell_text(p: Point | None, decimal_comma: bool = False) -> str:
    if p is None or (p.value is None and p.text is None):
        return ""
    return p.text if p.text is not None else number_text(p.value, decimal_comma)
