"""Writing the demo's simulated tag streams as export files: the AVEVA Historian CSV itself, or any
other format through the format writers; and dating the files back past the landing settle time."""

from __future__ import annotations

import bisect
import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from assets.demo.clock import SECOND_MS
from assets.demo.formats import FORMATS, Point, write_points
from assets.demo.point_text import is_number_text
from assets.demo.streams import BAD, DOUBTFUL, GOOD, Stream
from assets.plant.config import Source

HEADER = "DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode"
# Quality, QualityDetail, OPCQuality as the AVEVA History table reports them.
_QUALITY_TEXT = {GOOD: "0,192,192", BAD: "1,249,0", DOUBTFUL: "16,64,64"}

# How long ago the demo's exports are dated: beyond the landing settle time (30 s by default), so that
# `run` right after `demo` lands them, as it would an exporter's finished files.
DEMO_EXPORT_AGE = dt.timedelta(minutes=5)


def date_back(paths: list[Path]) -> None:
    """Date the files DEMO_EXPORT_AGE back, a second apart in the order written (a later export stays later)."""
    first = dt.datetime.now(dt.UTC) - DEMO_EXPORT_AGE
    for i, path in enumerate(paths):
        stamp = (first + dt.timedelta(seconds=i)).timestamp()
        os.utime(path, (stamp, stamp))


def _offset_ms(tz: ZoneInfo, t_ms: int) -> int:
    offset = dt.datetime.fromtimestamp(t_ms / SECOND_MS, tz).utcoffset()
    return int(offset.total_seconds() * SECOND_MS) if offset is not None else 0


def _local_text(t_ms: np.ndarray, tz: ZoneInfo) -> list[str]:
    """UTC ms to plant-local 'YYYY-MM-DD HH:MM:SS.mmm' (no offset, as the historian exports it).

    The offset is looked up once per quarter hour (zone changes happen on quarter hours in
    practice); a quarter hour whose two ends disagree is converted row by row.
    """
    t_ms = np.asarray(t_ms, dtype=np.int64)
    if len(t_ms) == 0:
        return []
    block_ms = 900_000
    blocks, inverse = np.unique(t_ms // block_ms, return_inverse=True)
    first = np.array([_offset_ms(tz, int(b) * block_ms) for b in blocks], dtype=np.int64)
    last = np.array([_offset_ms(tz, int(b) * block_ms + block_ms - 1) for b in blocks], dtype=np.int64)
    offsets = first[inverse]
    for k in np.nonzero((first != last)[inverse])[0]:
        offsets[k] = _offset_ms(tz, int(t_ms[k]))
    text = np.datetime_as_string((t_ms + offsets).astype("datetime64[ms]"), unit="ms")
    return [s.replace("T", " ") for s in text.tolist()]


def _tag_text(tag: str) -> str:
    # Tag names cannot hold quotes (validated), but a comma would need CSV quoting.
    return f'"{tag}"' if "," in tag else tag


def _line(when: str, tag: str, value: str | None, quality: int, text: bool = False) -> str:
    v = "" if value is None else value
    # A string tag's Value is empty and its text in vValue, as the History table exports it.
    return f"{when},{tag},{'' if text else v},{v},{_QUALITY_TEXT[quality]},Delta"


def write_aveva_files(
    folder: Path, tz: ZoneInfo, streams: list[Stream], exports: list[tuple[str, int, int]]
) -> list[Path]:
    """Each export: one initial row per tag at its start (delta retrieval), then the stored rows
    strictly after the start and before the end, in true chronological order, then by tag name."""
    tag_text = [_tag_text(s.tag) for s in streams]
    times = np.concatenate([np.asarray(s.times, dtype=np.int64) for s in streams])
    rank = np.concatenate([np.full(len(s.times), k, dtype=np.int64) for k, s in enumerate(streams)])
    values = [v for s in streams for v in s.values]
    quality = [q for s in streams for q in s.quality]
    order = np.lexsort((rank, times))
    sorted_times = times[order]
    local = _local_text(sorted_times, tz)
    text = [s.text for s in streams]
    lines = [
        _line(when, tag_text[r], values[i], quality[i], text[r])
        for when, r, i in zip(local, rank[order].tolist(), order.tolist(), strict=True)
    ]

    paths = []
    for name, a, b in exports:
        start_text = _local_text(np.array([a]), tz)[0]
        out = [HEADER]
        for k, stream in enumerate(streams):
            value, q = stream.value_at(a)
            out.append(_line(start_text, tag_text[k], value, q, stream.text))
        lo = int(np.searchsorted(sorted_times, a, side="right"))
        hi = int(np.searchsorted(sorted_times, b, side="left"))
        out.extend(lines[lo:hi])
        path = folder / name
        path.write_bytes(("\n".join(out) + "\n").encode("utf-8"))
        paths.append(path)
    return paths


_POINT_QUALITY = {GOOD: "good", DOUBTFUL: "uncertain", BAD: "bad"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _stream_points(stream: Stream, a: int, b: int) -> list[Point]:
    """The rows of one export of a tag as points: the value in force at ``a``, then the rows in (a, b)."""
    value, q = stream.value_at(a)
    rows = [(a, value, q)]
    lo = bisect.bisect_right(stream.times, a)
    hi = bisect.bisect_left(stream.times, b)
    rows += zip(stream.times[lo:hi], stream.values[lo:hi], stream.quality[lo:hi], strict=True)
    return [
        Point(
            stream.tag,
            _EPOCH + dt.timedelta(milliseconds=t),
            None if v is None or (stream.text and not is_number_text(v)) else float(v),
            # A numeric product id ("033") goes as the number 33, which a product tag matches as well.
            text=v if v is not None and stream.text and not is_number_text(v) else None,
            quality=_POINT_QUALITY[q],
        )
        for t, v, q in rows
    ]


def write_format_files(
    folder: Path, source: Source, streams: list[Stream], exports: list[tuple[str, int, int]]
) -> list[Path]:
    """The same exports as ``write_aveva_files`` in another format, as its system would write them."""
    extension = FORMATS[source.format].extension
    paths = []
    for name, a, b in exports:
        points = [p for stream in streams for p in _stream_points(stream, a, b)]
        path = folder / (Path(name).stem + extension)
        paths.append(write_points(path, source.format, points, source.timezone, source.options, lossy=True))
    return paths
