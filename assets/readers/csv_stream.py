"""Streaming a CSV export as Arrow record batches of text, with the line number of every row.

The whole file is never in memory: pyarrow parses it block by block. Every field is read as text so
that typing happens in one place, where a failure becomes a quarantined row with a reason instead
of an exception that takes the whole file down.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# Bytes of text parsed per batch. Each batch is typed in several steps, so memory grows with it:
# 4 MB (about 60,000 historian rows) keeps a landing's peak well under 1 GB whatever the file's size.
# A single line longer than a block cannot be parsed; landing then reads the file again with
# LARGE_BLOCK_SIZE (see `large_blocks`).
BLOCK_SIZE = 4 << 20
LARGE_BLOCK_SIZE = 64 << 20
_block_size: contextvars.ContextVar[int] = contextvars.ContextVar("block_size", default=BLOCK_SIZE)


class large_blocks:
    """Within this context, CSV files are parsed in LARGE_BLOCK_SIZE blocks (for files with huge lines)."""

    def __enter__(self) -> None:
        self._token = _block_size.set(LARGE_BLOCK_SIZE)

    def __exit__(self, *exc: object) -> None:
        _block_size.reset(self._token)


def line_too_long(error: Exception) -> bool:
    """Whether a parse error means a line was longer than a block."""
    return "straddl" in str(error)


class FileRejected(Exception):
    """The file as a whole cannot be read (no header, missing columns, not text)."""


@dataclass
class InvalidRow:
    line: int | None
    reason: str
    raw: str


@dataclass
class TextBatch:
    """Rows as text, the physical line each starts on, and the rows the parser could not split."""

    table: pa.Table
    lines: pa.Array
    invalid: list[InvalidRow]


def read_head_lines(stream: pa.NativeFile, encoding: str, size: int = 64 * 1024) -> list[str]:
    """The first lines of a stream as text (at most `size` bytes; the caller reopens the stream)."""
    head = stream.read(size)
    if not head:
        raise FileRejected("the file is empty")
    if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
        head = head.removeprefix(codecs.BOM_UTF8)
    text = head.decode(encoding, errors="replace")
    lines = text.splitlines()
    if len(head) == size and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return lines


def split_line(text: str, delimiter: str) -> list[str]:
    """The fields of one CSV line, quotes honoured (`"Date Time, GMT+01:00"` is one field), trimmed."""
    fields = next(csv.reader([text], delimiter=delimiter, skipinitialspace=True), [])
    return [field.strip().strip('"') for field in fields]


def read_header(stream: pa.NativeFile, encoding: str, delimiter: str, line: int = 1) -> list[str]:
    """Read line `line` (1-based) as column names (without consuming the stream: the caller reopens it)."""
    return header_fields(read_head_lines(stream, encoding), delimiter, line)


def header_fields(lines: list[str], delimiter: str, line: int = 1) -> list[str]:
    """Line `line` (1-based) of the file's first `lines` as column names; an empty line rejects the file."""
    names = split_line(lines[line - 1], delimiter) if len(lines) >= line else []
    if not any(names):
        where = "the first line" if line == 1 else f"line {line}"
        raise FileRejected(f"{where} is empty; expected a header row")
    return names


def quoted_names(names: list[str], limit: int = 12) -> str:
    """Column names for an error message, each quoted, so that a name with a comma reads as one name."""
    shown = ", ".join(f'"{name}"' for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def stream_text_batches(
    stream: pa.NativeFile,
    column_names: list[str],
    encoding: str = "utf-8",
    delimiter: str = ",",
    block_size: int | None = None,
    header_line: int = 1,
    data_start_line: int | None = None,
) -> Iterator[TextBatch]:
    """Yield the data rows of a CSV stream as text batches with their physical line numbers.

    `header_line` is the physical line of the header; the lines before it (a preamble) are skipped.
    The data starts on `data_start_line` (default: the line after the header); the lines between (units,
    processing) are skipped too, and every line keeps its physical number.

    Rows with the wrong number of fields are not fatal: they come back in `invalid` with the line
    number the parser reports.
    """
    pending: list[InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        pending.append(
            InvalidRow(
                line=row.number,
                reason=f"expected {row.expected_columns} fields, found {row.actual_columns}",
                raw=row.text,
            )
        )
        return "skip"

    next_line = data_start_line or header_line + 1
    try:
        # inside the try: a file that cannot be decoded fails here, and is rejected with a reason
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                block_size=block_size or _block_size.get(),
                encoding=encoding,
                column_names=column_names,
                skip_rows=next_line - 1,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                invalid_row_handler=on_invalid,
                ignore_empty_lines=False,
                newlines_in_values=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in column_names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            invalid, pending[:] = list(pending), []
            n = batch.num_rows
            lines = next_line + np.arange(n, dtype=np.int64)
            # A quoted field with a line break makes the row span several physical lines.
            extra = np.zeros(n, dtype=np.int64)
            for column in batch.columns:
                counts = pc.count_substring(column, "\n")
                if pc.max(counts).as_py():
                    extra += counts.to_numpy(zero_copy_only=False).astype(np.int64)
            if extra.any():
                lines = lines + np.concatenate(([0], np.cumsum(extra)[:-1]))
            # Rows the parser skipped still used up their lines. pyarrow may report a skipped row while
            # it already parses the next block: such a row belongs to the next batch, and waits for it.
            mine: list[InvalidRow] = []
            for row in sorted(invalid, key=lambda r: (r.line is None, r.line or 0)):
                if row.line is not None and n and row.line > lines[-1] + extra[-1]:
                    pending.append(row)
                    continue
                if row.line is not None:
                    lines[lines >= row.line] += 1
                mine.append(row)
            if n:
                next_line = int(lines[-1] + extra[-1] + 1)
            else:
                next_line += len(mine)
            yield TextBatch(table=pa.Table.from_batches([batch]), lines=pa.array(lines), invalid=mine)
        if pending:
            yield TextBatch(
                table=pa.table({name: pa.array([], pa.string()) for name in column_names}),
                lines=pa.array([], pa.int64()),
                invalid=list(pending),
            )
    except pa.ArrowInvalid as exc:
        raise FileRejected(f"cannot parse as CSV after line {next_line - 1}: {exc}") from None
