"""AVEVA / Wonderware Historian CSV exports of the History table.

Columns as exported: DateTime, TagName, Value, vValue, Quality, QualityDetail, OPCQuality (trailing
ww* columns are ignored). DateTime is ISO 8601 (or read by the source's timestamp_format alone), local
wall-clock time of the source's time zone unless it carries an explicit offset (`Z`, `+01:00`), which is
honoured. Quality 0 is good, 16 doubtful, 1 bad; OPCQuality
192 and above is good, 64-191 uncertain, below 64 bad; with both columns the worse grade wins. String
tags have an empty Value and their text in vValue.

Times, values and the daylight-saving rules are the shared ones of `rows.py`: a wall-clock time in the
spring-forward gap is rejected (`nonexistent local time ...`); the repeated autumn hour is placed per tag
from the order of its rows, and a point the order cannot place is rejected (`ambiguous local time ...`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.timestamps import TimestampBounds, time_params
from assets.storage.delta import string_literal
from assets.storage.schemas import UTC_TS
from assets.storage.sql_files import register_macros, sql_file

from .csv_stream import FileRejected, TextBatch, read_header, stream_text_batches
from .parsed import ParsedBatch, invalid_rows_table
from .rows import ROW_RULES_SQL, RowFinisher, RowRules, has_control_characters

REQUIRED = ("DateTime", "TagName", "Value")
OPTIONAL = ("vValue", "Quality", "QualityDetail", "OPCQuality")
# The fields a rejected row's raw text joins, in this order.
RAW_FIELDS = ("DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality")

# Stage each row for the shared rules (the AVEVA reasons before the value: line, tag, time, quality).
_STAGE_SQL = "bronze/aveva_stage.sql"
# The whole file in one statement (see `stage_file`).
_FILE_STAGE_SQL = "bronze/aveva_file_stage.sql"


def read_aveva_historian_csv(
    stream_opener,
    timezone: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
    block_size: int | None = None,
    timestamp_format: str | None = None,
    bounds: TimestampBounds | None = None,
) -> Iterator[ParsedBatch]:
    """Parse an AVEVA Historian export into batches of points and of rejected rows.

    `stream_opener` returns a fresh binary stream of the (decompressed) file each time it is called;
    `block_size` is the number of bytes parsed per batch. Points of the repeated autumn hour may come in
    a later batch than their line (once their tag's order decides them), the undecided ones at the end.
    `timestamp_format` and `bounds` are the source's (see core/timestamps.py); by default ISO 8601 only,
    and the default range.
    """
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    by_lower = {name.lower(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name.lower() not in by_lower]
    if missing:
        found = ", ".join(name[:40] for name in header[:12])
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {found[:600]}")
    if "quality" not in by_lower and "opcquality" not in by_lower:
        raise FileRejected("header has neither a Quality nor an OPCQuality column")
    if len(set(n.lower() for n in header)) != len(header):
        raise FileRejected("header names a column twice")
    # Give the columns we know their canonical names; positional placeholders for the rest.
    canonical = {name.lower(): name for name in REQUIRED + OPTIONAL}
    column_names = [canonical.get(name.lower(), f"_extra_{i}") for i, name in enumerate(header)]

    rules = RowRules(
        timezone=timezone,
        time_format=timestamp_format,
        bounds=bounds,
        text_values=False,  # text belongs in vValue; text in Value is not a number
        tag_label="TagName",
        time_label="DateTime",
        value_label="Value",
    )
    finisher = RowFinisher(rules)
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(
                stream, column_names, encoding=encoding, delimiter=delimiter, block_size=block_size
            ):
                staged, raw_of = _stage(finisher, text)
                batch = finisher.finish(staged, raw_of)
                if text.invalid:
                    batch = ParsedBatch(
                        points=batch.points,
                        rejects=pa.concat_tables([batch.rejects, invalid_rows_table(text.invalid)]),
                    )
                yield batch
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()


def _stage(finisher: RowFinisher, text: TextBatch) -> tuple[pa.Table, object]:
    """One text batch as the staged rows `RowFinisher.finish` takes (times parsed by the shared rules).

    Also returns how to build the raw text (the fields joined by commas) of the rows that are rejected.
    """
    table = text.table
    n = table.num_rows
    for name in OPTIONAL:
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * n, pa.string()))
    times = finisher.parse_times(table["DateTime"].combine_chunks())
    table = table.append_column("row_id", pa.array(np.arange(n, dtype=np.int64)))
    table = table.append_column("source_line", text.lines)
    table = table.append_column("ts_reason", times["ts_reason"])
    # trim() in the SQL removes spaces only, so the raw and the trimmed tag hold the same control characters
    table = table.append_column("tag_control", has_control_characters(table["TagName"]))
    con = finisher.con
    con.register("aveva_batch", table)
    try:
        staged = con.sql(sql_file(_STAGE_SQL)).to_arrow_table()
    finally:
        con.unregister("aveva_batch")
    for name in ("local_ts", "utc_ts"):
        staged = staged.append_column(name, times[name])
    # the time's reason is already in `reason`, in its place among the AVEVA checks
    staged = staged.append_column("ts_reason", pa.nulls(n, pa.string()))
    fields = [table[name].combine_chunks() for name in RAW_FIELDS]

    def raw_of(mask: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(*[f.filter(mask) for f in fields], ",", null_handling="skip")

    return staged, raw_of


# ---- the whole file in one DuckDB statement -------------------------------------------------------
#
# The same rules as the streaming reader above (sql/bronze/row_rules.sql, through aveva_file_stage.sql),
# over every row of a plain file at once: DuckDB parses and types it on every core and writes one staged
# Parquet file. Only a file whose rows are one physical line each, in plain UTF-8, and whose wall-clock
# times are all clear of a daylight-saving change, is staged this way; `stage_file` returns None for any
# other file, and the streaming reader above reads it (line numbers, rows the parser cannot split and the
# repeated hour are its business), and so is a file with a control character in a tag name (tested once
# per distinct tag).

# The staged file holds the export's rows in the export's order (DuckDB's COPY keeps the order it read
# them in), one row per line after the header, so a row's line is its position plus the first data
# line. Numbering the rows inside the staging statement (row_number() over ()) made DuckDB parse the
# file on one thread: half of the staging time of a large export.
STAGED_FIRST_LINE = 2
# DuckDB's own default longest line (its read buffers are 16 times as large)
DUCKDB_MAX_LINE = 2 << 20


def staged_rows(out: Path) -> str:
    """A FROM-clause relation of a file written by `stage_file`, with each row's `source_line`.

    The path is a literal, not a bind parameter: the relation goes into views, which take none."""
    return (
        f"(select file_row_number + {STAGED_FIRST_LINE} as source_line, * exclude (file_row_number) "
        f"from read_parquet({string_literal(str(out))}, file_row_number = true))"
    )


def stage_file(
    path: Path,
    timezone: str,
    encoding: str,
    delimiter: str,
    out: Path,
    line_count: Callable[[], int] | None = None,
    timestamp_format: str | None = None,
    bounds: TimestampBounds | None = None,
    max_line_bytes: int | None = None,
) -> int | None:
    """Stage a plain AVEVA export into one Parquet file in a single parallel DuckDB pass.

    The file holds every row, in the export's order: points (`reason` null) with tag, ts (UTC), value,
    value_text and quality, and rejected rows with their reason and raw text, the same as the streaming
    reader gives. Read it through `staged_rows`, which numbers the lines. Returns the number of rows, or
    None when the file needs the streaming reader (see `_FILE_STAGE_SQL`).
    """
    if encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig") or len(delimiter) != 1:
        return None
    try:
        with open(path, "rb") as head:
            header = read_header(pa.PythonFile(head, mode="r"), encoding, delimiter)
    except (OSError, FileRejected, UnicodeDecodeError):
        return None  # the streaming reader rejects the file, or reports why it cannot be read
    by_lower = {name.lower(): i for i, name in enumerate(header)}
    if (
        any(name.lower() not in by_lower for name in REQUIRED)
        or ("quality" not in by_lower and "opcquality" not in by_lower)
        or len(by_lower) != len(header)
    ):
        return None  # the streaming reader rejects the file with the reason
    # The known columns by their canonical names (the SQL reads them by name), the others by position.
    canonical = {name.lower(): name for name in RAW_FIELDS}
    columns = {canonical.get(name.lower(), f"_extra_{i}"): "VARCHAR" for i, name in enumerate(header)}
    con = duckdb.connect(config={"threads": 2, "memory_limit": "256MB"})
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        con.execute("SET enable_progress_bar = false").fetchall()
        con.execute("SET preserve_insertion_order = true").fetchall()
        register_macros(con, ROW_RULES_SQL)
        # COPY ... TO takes no bind parameter for its target: the path (ours, a staging folder) as a literal.
        sql = f"copy ({sql_file(_FILE_STAGE_SQL)}) to {string_literal(str(out))} (format parquet)"
        if line_count is None:
            # the lines are counted on another thread while DuckDB stages (it releases the GIL)
            pool = ThreadPoolExecutor(max_workers=1)
            counted = pool.submit(_physical_lines, path)
            pool.shutdown(wait=False)
            line_count = counted.result
        try:
            rows = con.execute(
                sql,
                {
                    "path": str(path),
                    "header_line": STAGED_FIRST_LINE - 1,
                    "columns": columns,
                    "delimiter": delimiter,
                    "timezone": timezone,
                    # a longer line fails the statement: the streaming reader quarantines it
                    "max_line_size": min(max_line_bytes or DUCKDB_MAX_LINE, DUCKDB_MAX_LINE),
                    **time_params(timestamp_format, (), "DateTime"),
                    **(bounds or TimestampBounds.from_options({})).sql_params(timezone),
                },
            ).fetchall()[0][0]
        except duckdb.Error:
            return None  # rows DuckDB cannot split, or text that is not UTF-8: the streaming reader says which
        try:
            expected = line_count() - (STAGED_FIRST_LINE - 1)
        except OSError:
            return None  # the file cannot be read again: the streaming reader reports why
        if rows != expected:
            return None  # a blank line, or a quoted field across lines: the line numbers need the streaming reader
        first, last, control = con.execute(
            """
            select
                min(ts), max(ts),
                (select coalesce(bool_or(regexp_matches(tag, $control)), false)
                 from (select distinct tag from read_parquet($out)))
            from read_parquet($out)
            """,
            {"out": str(out), "control": "[\\x00-\\x1f\\x7f]"},
        ).fetchall()[0]
        if control:
            return None  # a tag with control characters: rejected row by row by the streaming reader
        if first is not None and _near_clock_changes(con, out, first, last, timezone):
            return None  # the daylight-saving gap or the repeated hour: decided row by row by the streaming reader
    finally:
        con.close()
    return int(rows)


def _near_clock_changes(
    con: duckdb.DuckDBPyConnection, out: Path, first: dt.datetime, last: dt.datetime, timezone: str
) -> bool:
    """Whether a staged time is near a change of the zone's UTC offset: it may be a wall-clock time in the
    gap or the repeated hour. Elsewhere DuckDB's conversion of each time is the one the streaming reader
    makes (the local time minus the one offset in force)."""
    # The offsets are looked at around the hours the file has points in, not over its whole span: two
    # points 9,997 years apart took 2.6 GiB of 15-minute steps.
    hours = con.execute(
        "select distinct epoch_us(date_trunc('hour', ts)) from read_parquet($out) where ts is not null order by 1",
        {"out": str(out)},
    ).fetchnumpy()
    spans = _clock_changes(next(iter(hours.values())).astype(np.int64), timezone)
    if not spans:
        return False
    return any(
        con.execute(
            "select count(*) > 0 from read_parquet($out) where ts between $low and $high",
            {"out": str(out), "low": low, "high": high},
        ).fetchall()[0][0]
        for low, high in spans
    )


def _physical_lines(path: Path) -> int:
    """The physical lines of a file (a last line without a line break counts too)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return lines


# A wall-clock time in a daylight-saving gap, or in the repeated hour, converts to an instant within an
# hour or two of the change (no zone has moved its clocks by more than two hours at once).
CLOCK_CHANGE_MARGIN = dt.timedelta(hours=3)
_OFFSET_STEP = dt.timedelta(minutes=15)


def _clock_changes(hours: np.ndarray, timezone: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """Where the zone's UTC offset changes within CLOCK_CHANGE_MARGIN of an hour in `hours` (UTC hour
    starts, epoch microseconds): for each change, the span of instants within that margin of it (found to
    15 minutes). The work grows with the hours given, whatever the time between them."""
    step = _OFFSET_STEP // dt.timedelta(microseconds=1)
    margin = CLOCK_CHANGE_MARGIN // dt.timedelta(microseconds=1)
    hour = dt.timedelta(hours=1) // dt.timedelta(microseconds=1)
    window = np.arange(-margin, hour + margin + step, step, dtype=np.int64)
    instants = np.unique((np.asarray(hours, dtype=np.int64)[:, None] + window[None, :]).ravel())
    if not len(instants):
        return []
    utc = pa.array(instants).cast(UTC_TS)
    local = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=timezone))).cast(pa.int64()).to_numpy()
    offsets = local - instants
    # a change between two neighbouring steps of a window (not across the gap between two windows)
    changes = np.flatnonzero((offsets[1:] != offsets[:-1]) & (instants[1:] - instants[:-1] == step))
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return [
        (
            epoch + dt.timedelta(microseconds=int(instants[i])) - CLOCK_CHANGE_MARGIN,
            epoch + dt.timedelta(microseconds=int(instants[i + 1])) + CLOCK_CHANGE_MARGIN,
        )
        for i in changes
    ]
