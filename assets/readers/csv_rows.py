"""What the CSV readers share on top of the row rules: finding columns, joining a row's fields for the
quarantine, reading a tall (one point per line) export and unpivoting a wide one."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from assets.storage.schemas import UTC_TS

from .csv_stream import stream_text_batches
from .parsed import ParsedBatch, invalid_rows_table
from .rows import RowFinisher


def find_column(header: list[str], wanted: str | None, aliases: tuple[str, ...], option: str) -> int | None:
    """The index of a column by its configured name or, when none is configured, by the usual names."""
    lower = [h.strip().lower() for h in header]
    names = (wanted,) if wanted else aliases
    for name in names:
        if name.lower() in lower:
            return lower.index(name.lower())
    return None


def raw_lines(table: pa.Table, delimiter: str) -> pa.Array:
    """The fields of each row joined again, for the quarantine's raw text."""
    columns = [c.combine_chunks() for c in table.columns]
    if not columns:
        return pa.nulls(table.num_rows, pa.string())
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, delimiter, null_handling="replace", null_replacement="")


def positional_names(header: list[str]) -> list[str]:
    """Unique positional column names for the CSV parser (headers may repeat or be empty)."""
    return [f"c{i}" for i in range(len(header))]


def read_tall_csv(
    stream_opener,
    finisher: RowFinisher,
    header: list[str],
    columns: dict[str, int],
    quality_of,
    encoding: str,
    delimiter: str,
    header_line: int = 1,
) -> Iterator[ParsedBatch]:
    """One point per line: `columns` maps tag, timestamp, value (and optional others) to positions.

    `quality_of(text_table) -> (quality, reason)` grades each row from its own columns.
    """
    names = positional_names(header)
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(
                stream, names, encoding=encoding, delimiter=delimiter, header_line=header_line
            ):
                table = text.table
                quality, reason = quality_of(table)
                staged = pa.table(
                    {
                        "source_line": text.lines,
                        "tag": pc.utf8_trim_whitespace(table[names[columns["tag"]]]),
                        "ts_text": table[names[columns["timestamp"]]],
                        "value_str": table[names[columns["value"]]],
                        "quality": quality,
                        "reason": reason,
                        "raw": raw_lines(table, delimiter),
                    }
                )
                batch = finisher.finish(staged)
                if text.invalid:
                    batch = ParsedBatch(
                        points=batch.points, rejects=pa.concat_tables([batch.rejects, invalid_rows_table(text.invalid)])
                    )
                yield batch
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()


def unpivot_wide(
    finisher: RowFinisher,
    lines: pa.Array,
    times: pa.Table,
    channels: list[tuple[str, pa.Array]],
    ts_raw: pa.Array,
) -> pa.Table:
    """Wide rows (one time, one value per channel) to staged rows: one per non-empty cell, line kept.

    `times` holds local_ts / utc_ts / ts_reason per line, already parsed (and corrected).
    """
    parts = []
    for tag, values in channels:
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            present = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(values), ""), False)
            value_cols = {"value_str": values.cast(pa.string()).filter(present)}
        else:
            present = pc.is_valid(values)
            value_cols = {"value_num": values.cast(pa.float64()).filter(present)}
        n = pc.sum(present).as_py() or 0
        if not n:
            continue
        shown = next(iter(value_cols.values())).cast(pa.string())
        part = {
            "source_line": lines.filter(present),
            "tag": pa.array([tag] * n, pa.string()),
            "local_ts": times["local_ts"].filter(present),
            "utc_ts": times["utc_ts"].filter(present),
            "ts_reason": times["ts_reason"].filter(present),
            "value_str": pa.nulls(n, pa.string()),
            "value_num": pa.nulls(n, pa.float64()),
            "raw": pc.binary_join_element_wise(
                ts_raw.filter(present).cast(pa.string()),
                pc.binary_join_element_wise(pa.array([tag] * n, pa.string()), shown, "="),
                ",",
                null_handling="replace",
                null_replacement="",
            ),
        }
        part.update(value_cols)
        parts.append(pa.table(part))
    if not parts:
        return pa.table(
            {
                "source_line": pa.array([], pa.int64()),
                "tag": pa.array([], pa.string()),
                "local_ts": pa.array([], pa.timestamp("us")),
                "utc_ts": pa.array([], UTC_TS),
                "ts_reason": pa.array([], pa.string()),
                "value_str": pa.array([], pa.string()),
                "value_num": pa.array([], pa.float64()),
                "raw": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts, promote_options="default")
