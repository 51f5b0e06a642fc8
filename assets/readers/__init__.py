"""Readers turn one export format into batches of points and rejected rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..core.plant import Source
from .aveva_historian import read_aveva_historian_csv
from .csv_stream import FileRejected
from .parsed import ParsedBatch

__all__ = ["FileRejected", "ParsedBatch", "read_source_file"]


def read_source_file(source: Source, stream_opener: Callable) -> Iterator[ParsedBatch]:
    """Dispatch to the reader of the source's format, with its options."""
    options = source.options
    if source.format == "aveva_historian_csv":
        return read_aveva_historian_csv(
            stream_opener,
            timezone=source.timezone,
            encoding=options.get("encoding", "utf-8"),
            delimiter=options.get("delimiter", ","),
        )
    raise FileRejected(f"no reader for format {source.format!r}")
