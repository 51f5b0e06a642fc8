"""GE Proficy (iFIX / Historian) CSV exports: an optional preamble, a `[Data]` line, then the data.

The header after `[Data]` is `Tagname,TimeStamp,Value,DataQuality` (names configurable,
case-insensitive). Without a `[Data]` line the first line must be that header. Line numbers are the
physical lines of the file, preamble included. DataQuality: Good, Bad, Uncertain (also OPC codes);
another word rejects the row. Timestamps: ISO 8601, or the source's `timestamp_format` alone. Proficy
writes the Windows locale's form (`3/2/2026 6:00:00 AM` in the US, `02/03/2026 06:00:00` in the UK):
whether 3/2 is March or February only the plant knows, so such a file needs e.g.
`timestamp_format: "%m/%d/%Y %I:%M:%S %p"`. Text values are good text points.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from assets.plant.config import Source

from .csv_rows import find_column, read_tall_csv
from .csv_stream import FileRejected, read_head_lines, split_line
from .parsed import ParsedBatch
from .quality import map_text, opc_quality
from .rows import RowFinisher, RowRules, source_times

QUALITY_WORDS = {"good": "good", "bad": "bad", "uncertain": "uncertain", "questionable": "uncertain"}


def _quality(text: str | None, label: str) -> tuple[str | None, str | None]:
    t = (text or "").strip()
    if not t:
        return None, f"{label} is empty"
    word = QUALITY_WORDS.get(t.lower())
    if word:
        return word, None
    if t.replace(".", "", 1).isdigit():
        return opc_quality(t, label)
    return None, f"{label} not recognised: {t[:20]}"


def find_data_section(lines: list[str]) -> int:
    """The physical line (1-based) of the header: after `[Data]`, or line 1 when there is no section."""
    for number, line in enumerate(lines, start=1):
        if line.strip().lower().strip('"').rstrip(",;") == "[data]":
            return number + 1
    return 1


def read_proficy_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a Proficy export into batches of points and rejected rows."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        lines = read_head_lines(head, encoding, size=1 << 20)
    header_line = find_data_section(lines)
    if header_line > len(lines):
        raise FileRejected("the [Data] section has no header line")
    header = split_line(lines[header_line - 1], delimiter)
    found = {
        role: find_column(header, options[f"{role}_column"], (), f"{role}_column")
        for role in ("tag", "timestamp", "value")
    }
    missing = [options[f"{role}_column"] for role, index in found.items() if index is None]
    if missing:
        where = f"line {header_line}" if header_line > 1 else "the first line (no [Data] section found)"
        raise FileRejected(f"header on {where} lacks column(s) {', '.join(missing)}; found {', '.join(header[:12])}")
    quality_index = find_column(header, options["quality_column"], (), "quality_column")
    label = header[quality_index] if quality_index is not None else "DataQuality"

    def quality_of(table: pa.Table) -> tuple[pa.Array, pa.Array]:
        if quality_index is None:
            return pa.nulls(table.num_rows, pa.string()), pa.nulls(table.num_rows, pa.string())
        return map_text(table[f"c{quality_index}"], lambda t: _quality(t, label))

    rules = RowRules(
        timezone=source.timezone,
        **source_times(options),
        tag_label=header[found["tag"]],
        time_label=header[found["timestamp"]],
        value_label=header[found["value"]],
    )
    yield from read_tall_csv(
        stream_opener, RowFinisher(rules), header, found, quality_of, encoding, delimiter, header_line=header_line
    )
