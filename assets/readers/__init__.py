"""Readers turn one export format into batches of points and rejected rows.

Every reader streams (Arrow batches, or one JSON line/document at a time), makes every input row a
point or a reject with a reason, and raises `FileRejected` for a file it cannot read at all. The rules
they share (time zones, values, quality) live in `rows.py`; each format's options model, reader and line
handling are bound in `registry.py`, and its options are checked by assets/plant/source_formats.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from assets.plant.config import Source
from assets.plant.source_formats import SourceOptionsError, validate_source_options
from assets.plant.timestamps import TimestampBounds

from .archives import iter_members
from .aveva_historian import stage_file as stage_aveva_historian_file
from .aveva_historian import staged_rows
from .csv_stream import FileRejected
from .parsed import ParsedBatch
from .registry import READERS

__all__ = [
    "READERS",
    "FileRejected",
    "ParsedBatch",
    "iter_members",
    "read_source_file",
    "source_options",
    "stage_source_file",
    "staged_rows",
]


def source_options(source: Source) -> dict:
    """The source's options with defaults; an unusable option rejects the file with the option's name."""
    try:
        return validate_source_options(source.format, source.options, f"source {source.name}: options")
    except SourceOptionsError as exc:
        raise FileRejected(str(exc)) from None


def read_source_file(source: Source, stream_opener: Callable) -> Iterator[ParsedBatch]:
    """Dispatch to the reader of the source's format, with its options.

    Options are checked before anything is read (a bad option raises `FileRejected` here, not later).
    """
    reader = READERS.get(source.format)
    if reader is None:
        raise FileRejected(f"no reader for format {source.format!r}")
    options = source_options(source)
    return reader(stream_opener, source, options)


def stage_source_file(
    source: Source,
    stream_opener: Callable,
    out: Path,
    line_count: Callable[[], int] | None = None,
    max_line_bytes: int | None = None,
) -> int | None:
    """Stage a whole plain file into one Parquet file of rows, where the format has a whole-file stager.

    The file holds every row with source_line, tag, ts, value, value_text, quality, reason and raw: the
    points (reason null) and the rejected rows the streaming reader would give for the same file. Returns
    the number of rows, or None when the file is read by `read_source_file` instead (another format, a
    compressed file or archive member, or a file the stager leaves to the streaming reader).
    `line_count` gives the file's physical lines where the caller counts them anyway; a file with a line
    longer than `max_line_bytes` is left to the streaming reader, which quarantines that line.
    """
    path = getattr(stream_opener, "path", None)
    if path is None or source.format != "aveva_historian_csv":
        return None
    try:
        options = source_options(source)
    except FileRejected:
        return None  # the streaming reader rejects the file with the option's reason
    return stage_aveva_historian_file(
        Path(path),
        source.timezone,
        options.get("encoding", "utf-8"),
        options.get("delimiter", ","),
        out,
        line_count,
        timestamp_format=options.get("timestamp_format"),
        bounds=TimestampBounds.from_options(options),
        max_line_bytes=max_line_bytes,
    )
