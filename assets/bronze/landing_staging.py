"""Staging a landing file into two local Parquet files, points and rejects: through its reader (parsed on
a background thread ahead of the writer) or whole by DuckDB; an unreadable file goes to quarantine line
by line.
"""

from __future__ import annotations

import contextvars
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assets.bronze.landing_files import FileChanged
from assets.bronze.landing_ledger import FileReport
from assets.plant.config import Source
from assets.readers import FileRejected, read_source_file, source_options, stage_source_file, staged_rows
from assets.readers.csv_stream import BLOCK_SIZE, large_blocks, line_too_long
from assets.readers.line_limit import limit_lines
from assets.readers.parsed import POINT_COLUMNS, REJECT_COLUMNS
from assets.readers.registry import LINE_LIMITED_FORMATS
from assets.storage import delta, delta_read

STAGING_PREFIX = "iiot-landing-"


@contextmanager
def _staging_dir() -> Iterator[Path]:
    # The pid in the name lets a later run clear what a killed landing left behind (_clear_dead_staging).
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _clear_dead_staging() -> None:
    """Remove staging folders of landing processes that no longer run (killed, or the power cut)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*-*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # a live process of another user


# Batches parsed ahead of the one being written: the reader parses while the Parquet writer writes.
READ_AHEAD = 2


def _read_ahead(batches, depth: int = READ_AHEAD) -> Iterator:
    """The items of `batches`, produced by a background thread at most `depth` ahead of the caller.

    The reader keeps parsing while the caller writes, and memory holds at most `depth` more batches. An
    exception of the reader is raised to the caller at the point the batches ended, as if read in line.
    The thread runs in a copy of the caller's context (the parse block size is a context variable).
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(batches)
        try:
            for batch in iterator:
                if not put(("batch", batch)):
                    break
            else:
                put(("done", None))
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(produce,), name="landing-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _stage_file(
    source: Source,
    opener: Callable,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    line_count: Callable[[], int] | None = None,
) -> None:
    """Stage the file into two local Parquet files: points and rejects.

    A plain file of a format with a whole-file stager is staged by DuckDB in one parallel pass, into a
    points file that holds the rejected rows too (see _register_points); they are copied to the rejects
    file. Any other file streams through its reader, and a line longer than a parse block reads the whole
    file again in larger blocks; a line longer than the source's `max_line_bytes` is quarantined.

    An unexpected error of a reader (a RecursionError, an OverflowError, a MemoryError ...) rejects
    this file alone: its lines go to quarantine with the error's class and message, and landing goes on
    with the next file.
    """
    try:
        _stage_readable_file(source, opener, report, points_path, rejects_path, line_count)
    except FileChanged:
        raise
    except Exception as exc:
        reason = f"unreadable: {type(exc).__name__}: {exc}"[:1000]
        report.status, report.message = "rejected", reason
        report.rows_new = report.rows_changed = report.rows_duplicate = 0
        report.units.clear()
        pq.ParquetWriter(points_path, POINT_COLUMNS).close()
        with pq.ParquetWriter(rejects_path, REJECT_COLUMNS) as rejects_writer:
            report.rows_in = report.lines_in = _quarantine_raw_lines(
                opener, reason, rejects_writer, _has_header(source)
            )


def _line_limit(source: Source) -> int | None:
    """The source's `max_line_bytes`, for a text format whose readers hold a line whole (None: no limit
    applies here; sensor_jsonl applies its own, a JSON document has max_json_mb, Parquet has no lines)."""
    if source.format not in LINE_LIMITED_FORMATS:
        return None
    try:
        return int(source_options(source)["max_line_bytes"])
    except FileRejected:
        return None  # the reader rejects the file with the option's reason


def _stage_readable_file(
    source: Source,
    opener: Callable,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    line_count: Callable[[], int] | None,
) -> None:
    limit = _line_limit(source)
    rows = stage_source_file(source, opener, points_path, line_count, max_line_bytes=limit)
    if rows is not None:
        report.rows_in = report.lines_in = rows  # the whole-file stager reads long exports: a value per line
        with delta_read.duckdb_session(memory_limit="256MB") as con:
            # COPY ... TO takes no bind parameter for its target: the paths (ours, a staging folder) as literals
            con.execute(
                f"copy (select source_line as line, reason, raw from {staged_rows(points_path)} "
                f"where reason is not null) to {delta.string_literal(str(rejects_path))} (format parquet)"
            ).fetchall()
        return
    # Every CSV reader parses in blocks of BLOCK_SIZE (csv_stream.py), and a longer line fails the first
    # pass: below that the limit need not be looked for (filtering every line cost 4 ms per MB).
    limited = limit is not None and limit < BLOCK_SIZE
    if limited:
        opener = limit_lines(opener, limit)
    _stream(source, opener, report, points_path, rejects_path)
    if report.message and line_too_long(report.message):
        report.rows_in, report.lines_in, report.status, report.message = 0, 0, "landed", None
        if limit is not None and not limited:
            opener, limited = limit_lines(opener, limit), True
        with large_blocks():
            _stream(source, opener, report, points_path, rejects_path)
    if limited and opener.overlong:
        _quarantine_overlong(report, rejects_path, opener.overlong, limit)
        if report.status == "rejected" and 1 in opener.overlong:
            # the reader was given an empty first line: the reason is the header's length
            report.message = f"line 1 (the header) is longer than {limit} bytes (source option max_line_bytes)"


def _quarantine_overlong(report: FileReport, rejects_path: Path, overlong: dict[int, bytes], limit: int) -> None:
    """Put each line longer than the limit into quarantine, in place of what the reader made of the empty
    line it was given instead (a row with too few fields, or nothing)."""
    rejects = pq.read_table(rejects_path).cast(REJECT_COLUMNS)
    lines = pa.array(sorted(overlong), pa.int64())
    standing_in = pc.is_in(rejects["line"], value_set=lines)
    replaced = pc.sum(standing_in).as_py() or 0
    uncounted = len(overlong) - len(set(pc.filter(rejects["line"], standing_in).to_pylist()))
    reason = f"line is longer than {limit} bytes (source option max_line_bytes); not read"
    ours = pa.table(
        {
            "line": lines,
            "reason": [reason] * len(overlong),
            "raw": [overlong[n].decode("utf-8", errors="replace") for n in sorted(overlong)],
        },
        schema=REJECT_COLUMNS,
    )
    pq.write_table(pa.concat_tables([rejects.filter(pc.invert(standing_in)), ours]), rejects_path)
    report.rows_in += len(overlong) - replaced
    report.lines_in += uncounted  # a line the reader skipped as empty was not counted as read


def _stream(source: Source, opener: Callable, report: FileReport, points_path: Path, rejects_path: Path) -> None:
    """Stream the file through its reader into the points and rejects files."""
    points_writer = pq.ParquetWriter(points_path, POINT_COLUMNS)
    rejects_writer = pq.ParquetWriter(rejects_path, REJECT_COLUMNS)
    try:
        try:
            for batch in _read_ahead(read_source_file(source, opener)):
                values = batch.points.num_rows + batch.rejects.num_rows
                report.rows_in += values
                report.lines_in += values if batch.lines is None else batch.lines
                report.units.update(batch.units)
                if batch.points.num_rows:
                    points_writer.write_table(batch.points)
                if batch.rejects.num_rows:
                    rejects_writer.write_table(batch.rejects)
        except FileRejected as exc:
            if report.rows_in == 0:
                # Nothing could be read: the whole file goes to quarantine, line by line.
                report.status = "rejected"
                report.message = str(exc)
                report.rows_in = report.lines_in = _quarantine_raw_lines(
                    opener, str(exc), rejects_writer, _has_header(source)
                )
            else:
                # The file broke part-way (truncated, corrupt): keep what was read, record the rest.
                _record_break(report, f"unreadable after {report.rows_in} rows: {exc}", rejects_writer)
        except (OSError, EOFError, UnicodeDecodeError, pa.ArrowInvalid) as exc:
            _record_break(report, f"unreadable after {report.rows_in} rows: {exc}", rejects_writer)
            if report.rows_in == 1:
                report.status = "rejected"
        for problem in getattr(opener, "problems", []):
            # a compressed file that breaks part-way: what came before landed, the break is recorded
            _record_break(report, f"unreadable after {report.rows_in} rows: {problem}", rejects_writer)
    finally:
        points_writer.close()
        rejects_writer.close()


def _record_break(report: FileReport, message: str, rejects_writer: pq.ParquetWriter) -> None:
    """Where a file breaks part-way: one quarantine row without a line, counted as a row in, whose
    reason is the report's message."""
    report.message = message
    rejects_writer.write_table(
        pa.table({"line": pa.array([None], pa.int64()), "reason": [message], "raw": [None]}, schema=REJECT_COLUMNS)
    )
    report.rows_in += 1


def _has_header(source: Source) -> bool:
    """Whether the format's first line names columns (JSON lines and documents have data from line 1)."""
    return source.format not in ("sensor_jsonl", "pi_webapi_json")


def _quarantine_raw_lines(opener: Callable, reason: str, writer: pq.ParquetWriter, header: bool = True) -> int:
    """Put every line of an unreadable file into quarantine so that none is lost without a trace.

    The file is read in blocks, and at most the first 10,000 bytes of a line are kept: a rejected
    multi-GB export, or one line of 2 GB, costs no more memory than a small file.
    """
    count = 0
    lines, raws = [], []
    try:
        with opener() as stream:
            for number, head in _line_heads(stream):
                if (header and number == 1) or not head.strip():
                    continue  # the header (or what stands in its place) and blank lines carry no point
                lines.append(number)
                raws.append(head.decode("utf-8", errors="replace").rstrip("\r\n")[:10_000])
                count += 1
                if len(lines) >= 50_000:
                    writer.write_table(_raw_rejects(lines, raws, reason))
                    lines, raws = [], []
    except (OSError, EOFError, pa.ArrowInvalid, FileRejected) as exc:
        lines.append(None)
        raws.append(None)
        count += 1
        reason = f"{reason}; unreadable after line {count}: {exc}"
    if lines:
        writer.write_table(_raw_rejects(lines, raws, reason))
    # An empty file has no row to quarantine: its ledger row (status rejected, with the reason) tells.
    return count


def _line_heads(stream, keep: int = 10_004) -> Iterator[tuple[int, bytes]]:
    """(line number, its first `keep` bytes) for every line of a binary stream, read in 8 MB blocks."""
    number, head, length = 1, bytearray(), 0
    while block := stream.read(8 << 20):
        start = 0
        while start < len(block):
            end = block.find(b"\n", start)
            stop = len(block) if end < 0 else end
            if length < keep:
                head += block[start : min(stop, start + keep - length)]
            length += stop - start
            if end < 0:
                break
            yield number, bytes(head)
            number, head, length = number + 1, bytearray(), 0
            start = end + 1
    if length:
        yield number, bytes(head)


def _raw_rejects(lines: list, raws: list, reason: str) -> pa.Table:
    return pa.table(
        {"line": pa.array(lines, pa.int64()), "reason": [f"file rejected: {reason}"] * len(lines), "raw": raws},
        schema=REJECT_COLUMNS,
    )
