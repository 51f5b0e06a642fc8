"""Ignition tag-history exports (Report / Easy Chart / system.tag.queryTagHistory CSV), wide and tall.

Wide: `t_stamp` (ISO 8601 local date-time text, ISO with offset, or epoch milliseconds; with option
timestamp_format, that format alone reads the text, a number too) then one column per tag path. Every
non-empty cell is one input row: a point, or a reject with its line number (a line whose t_stamp cannot
be read rejects each of its non-empty cells). An empty cell is no value: not a row. A
line the CSV parser cannot split (wrong number of fields) is one reject.

Tall: `Path, Value, Quality, Timestamp`, one point per line. Quality: the OPC code (192-255 good,
64-127 uncertain, other codes bad) or Ignition's quality name (`Good`, `Good_*` good, `Uncertain*`
uncertain, anything else such as `Bad_NotConnected` or `Error_*` bad); an empty quality is good.
Text values (string tags) are good text points.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from assets.plant.config import Source

from .csv_rows import find_column, positional_names, read_tall_csv, unpivot_wide
from .csv_stream import FileRejected, read_header, stream_text_batches
from .parsed import ParsedBatch, invalid_rows_table
from .quality import map_text, opc_quality
from .rows import RowFinisher, RowRules, source_times


def _rules(source: Source, options: dict, **labels) -> RowRules:
    return RowRules(
        timezone=source.timezone,
        **source_times(options),
        epoch_unit=options["epoch_unit"],
        **labels,
    )


def read_ignition_wide_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a wide Ignition export: one point per non-empty cell."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    ts_index = find_column(header, options["timestamp_column"], (), "timestamp_column")
    if ts_index is None:
        raise FileRejected(
            f"header lacks the time column {options['timestamp_column']}; found {', '.join(header[:12])}"
        )
    if len(header) < 2:
        raise FileRejected("the header names no tag column after the time column")
    tags = [(i, options["tag_prefix"] + name) for i, name in enumerate(header) if i != ts_index]
    if any(not name.strip() for _, name in tags):
        raise FileRejected("a column of the header has no name (a tag path is needed for every column)")
    rules = _rules(source, options, time_label=header[ts_index], value_label="value")
    yield from read_wide_csv(stream_opener, RowFinisher(rules), header, ts_index, tags, encoding, delimiter)


def read_wide_csv(
    stream_opener,
    finisher: RowFinisher,
    header: list[str],
    ts_index: int,
    tags: list[tuple[int, str]],
    encoding: str,
    delimiter: str,
    adjust_times=None,
    header_line: int = 1,
    data_start_line: int | None = None,
) -> Iterator[ParsedBatch]:
    """Stream a wide CSV: parse each line's time once, let `adjust_times` correct it, then one row per cell."""
    names = positional_names(header)
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(
                stream,
                names,
                encoding=encoding,
                delimiter=delimiter,
                header_line=header_line,
                data_start_line=data_start_line,
            ):
                ts_raw = text.table[names[ts_index]]
                times = finisher.parse_times(ts_raw.combine_chunks())
                if adjust_times is not None:
                    times = adjust_times(times)
                staged = unpivot_wide(
                    finisher,
                    text.lines,
                    times,
                    [(tag, text.table[names[i]]) for i, tag in tags],
                    ts_raw.combine_chunks(),
                )
                batch = finisher.finish(staged)
                if text.invalid:
                    batch = ParsedBatch(
                        points=batch.points, rejects=pa.concat_tables([batch.rejects, invalid_rows_table(text.invalid)])
                    )
                # every data line the parser gave, with values or not, and every line it could not split
                batch.lines = text.table.num_rows + len(text.invalid)
                yield batch
        tail = finisher.flush()
        if tail is not None:
            tail.lines = 0  # rows held back for the repeated hour: their lines were counted when read
            yield tail
    finally:
        finisher.close()


def read_ignition_tall_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a tall Ignition export: Path, Value, Quality, Timestamp."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    found = {
        role: find_column(header, options[f"{role}_column"], (), f"{role}_column")
        for role in ("tag", "timestamp", "value")
    }
    missing = [options[f"{role}_column"] for role, index in found.items() if index is None]
    if missing:
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {', '.join(header[:12])}")
    quality_index = find_column(header, options["quality_column"], (), "quality_column")
    label = options["quality_column"]

    def quality_of(table: pa.Table) -> tuple[pa.Array, pa.Array]:
        if quality_index is None:
            return pa.nulls(table.num_rows, pa.string()), pa.nulls(table.num_rows, pa.string())
        return map_text(table[f"c{quality_index}"], lambda t: opc_quality(t, label))

    rules = _rules(
        source,
        options,
        tag_label=header[found["tag"]],
        time_label=header[found["timestamp"]],
        value_label=header[found["value"]],
    )
    yield from read_tall_csv(stream_opener, RowFinisher(rules), header, found, quality_of, encoding, delimiter)
