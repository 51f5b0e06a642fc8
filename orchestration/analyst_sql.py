"""Analyst SQL on the published marts: read-only, no file system, bounded memory and time, settings locked.

`iiot-lakehouse sql "select ..."` (or the SQL on stdin) opens `$LAKEHOUSE_ROOT/marts.duckdb` read-only
with DuckDB's external access disabled, so a query can read the marts and nothing else: no
`read_csv('/etc/passwd')`, no `COPY ... TO`, no `ATTACH`, no extension install or load. The
configuration is locked once the connection is open, so a query cannot `SET` its way back out or raise
its memory limit. The result is streamed: rows are fetched and written a batch at a time, so the memory
limit bounds the process and not only DuckDB. A statement running longer than its timeout is
interrupted. Spilling goes to a private temporary folder that is removed when the query ends, also when
the process is stopped with SIGTERM or SIGINT.
"""

from __future__ import annotations

import csv
import io
import itertools
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT_SECONDS = 60.0
FORMATS = ("table", "csv")
# Rows fetched from DuckDB at a time; the table format also sets its column widths from the first batch.
FETCH_ROWS = 1_000
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class AnalystSqlError(Exception):
    """A query that failed, was refused or was stopped, with the reason."""


def locked_config(memory_limit: str, temp_directory: str) -> dict[str, object]:
    """DuckDB settings of an analyst connection (option names as in DuckDB 2.0); the configuration is
    locked by `_open` once the session's time zone is set."""
    return {
        "enable_external_access": False,  # no file, network or database outside the marts
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit,
        "temp_directory": temp_directory,
        "max_temp_directory_size": "4GB",
        "threads": 4,
    }


def _open(marts: Path, memory_limit: str, temp_directory: str, timezone: str) -> duckdb.DuckDBPyConnection:
    """The read-only connection, its timestamps shown in `timezone`, its configuration locked."""
    con = duckdb.connect(str(marts), read_only=True, config=locked_config(memory_limit, temp_directory))
    try:
        # TimeZone needs the ICU extension, loaded with the connection: it cannot be set in the connect config
        con.execute("SET TimeZone = " + "'" + timezone.replace("'", "''") + "'").fetchall()
        con.execute("SET lock_configuration = true").fetchall()  # last: nothing above can be changed by a query
    except BaseException:
        con.close()
        raise
    return con


class _Stop:
    """Why a statement was stopped (its timeout, or a signal), and the connection to interrupt.

    The timer thread and the signal handlers only record the reason and call `interrupt()`: DuckDB then
    raises in the main thread, which cleans up on its way out. The lock keeps the timer from interrupting
    a connection the main thread is closing; the signal handlers run in the main thread, between two
    Python instructions, so they never race with the close and must not take the lock.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self.by_signal = False
        self.con: duckdb.DuckDBPyConnection | None = None
        self.lock = threading.Lock()

    def _interrupt(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        con = self.con
        if con is not None:
            try:
                con.interrupt()
            except duckdb.Error:  # closed meanwhile: nothing left to interrupt
                pass

    def expire(self, timeout: float) -> None:
        with self.lock:
            self._interrupt(f"the statement exceeded {timeout:g} s (--timeout) and was interrupted")

    def on_signal(self, signum: int, _frame: object) -> None:
        self.by_signal = True
        self._interrupt(f"stopped by {signal.Signals(signum).name}; the query was interrupted")

    def check(self) -> None:
        if self.reason is not None:
            raise AnalystSqlError(self.reason)

    def detach(self) -> duckdb.DuckDBPyConnection | None:
        with self.lock:
            con, self.con = self.con, None
        return con


@contextmanager
def _signals_stop(stop: _Stop) -> Iterator[None]:
    """SIGTERM and SIGINT interrupt the query instead of killing the process, so the spill folder goes too."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread can set handlers
        yield
        return
    previous = {signum: signal.signal(signum, stop.on_signal) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class QueryResult:
    """The columns of a running statement and its rows, fetched batch by batch as they are read."""

    def __init__(self, names: list[str], con: duckdb.DuckDBPyConnection | None, stop: _Stop):
        self.names = names
        self._con = con
        self._stop = stop

    def batches(self) -> Iterator[list[tuple]]:
        """Lists of at most FETCH_ROWS rows until the result ends; raises if the statement is stopped."""
        if self._con is None:
            return
        while True:
            self._stop.check()
            try:
                rows = self._con.fetchmany(FETCH_ROWS)
            except duckdb.Error as exc:
                self._stop.check()
                raise AnalystSqlError(str(exc).strip()) from None
            if not rows:
                return
            yield rows

    def rows(self) -> Iterator[tuple]:
        return itertools.chain.from_iterable(self.batches())


@contextmanager
def analyst_query(
    marts: Path,
    sql: str,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
    timezone: str = "UTC",
) -> Iterator[QueryResult]:
    """Run one analyst statement on a read-only, locked-down connection; its rows are read while open.

    Timestamps with a time zone are shown in `timezone` (an IANA name; the CLI gives the plant's).
    `timeout` (seconds, None or 0 for none) bounds the whole statement, the reading of its rows included.
    Leaving the block stops the statement if it still runs, closes the connection and removes the spill
    folder, whether it ends normally, on an error, on its timeout or on SIGTERM/SIGINT.
    """
    if not sql.strip():
        raise AnalystSqlError("no SQL given (pass a query, or pipe it on stdin)")
    if timeout is not None and not timeout >= 0:  # `not >=` also refuses NaN
        raise AnalystSqlError(f"--timeout must be a number of seconds, 0 for none (got {timeout})")
    if not marts.is_file():
        raise AnalystSqlError(f"no published marts at {marts}; run `iiot-lakehouse run` first")
    stop = _Stop()
    # the handlers are in place before the spill folder exists, so no signal can leave it behind
    with _signals_stop(stop):
        spill = tempfile.mkdtemp(prefix="iiot-analyst-")
        timer = None
        try:
            try:
                stop.con = _open(marts, memory_limit, spill, timezone)
            except duckdb.Error as exc:
                raise AnalystSqlError(f"cannot open {marts} read-only: {exc}") from None
            stop.check()
            if timeout:
                timer = threading.Timer(timeout, stop.expire, args=(timeout,))
                timer.daemon = True
                timer.start()
            con = stop.con
            try:
                con.execute(sql)
                names = [d[0] for d in con.description] if con.description is not None else []
                if not names:  # a statement without a result set: run it to its end
                    con.fetchall()
            except duckdb.Error as exc:
                stop.check()
                raise AnalystSqlError(str(exc).strip()) from None
            yield QueryResult(names, con if names else None, stop)
            if stop.by_signal:  # a signal that came while the last rows were written still fails the command
                stop.check()
        finally:
            if timer is not None:
                timer.cancel()
            con = stop.detach()
            if con is not None:
                con.close()
            shutil.rmtree(spill, ignore_errors=True)


def run_query(
    marts: Path,
    sql: str,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
) -> tuple[list[str], list[tuple], bool]:
    """Run one analyst query: column names, up to `max_rows` rows, and whether rows were left off."""
    with analyst_query(marts, sql, memory_limit, timeout) as result:
        rows = list(itertools.islice(result.rows(), max_rows + 1))
    return result.names, rows[:max_rows], len(rows) > max_rows


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table_lines(names: Sequence[str], rows: Iterable[tuple]) -> Iterator[str]:
    """The lines of an aligned text table, numbers right-aligned; widths are set by the first FETCH_ROWS rows.

    Later rows are written as they come: a wider value there makes its line longer, it is never cut.
    """
    rows = iter(rows)
    first = list(itertools.islice(rows, FETCH_ROWS))
    cells = [[_text(v) for v in row] for row in first]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [
        bool(first) and all(isinstance(r[i], int | float) or r[i] is None for r in first) for i, _ in enumerate(names)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    yield line(names)
    yield "  ".join("-" * w for w in widths)
    yield from (line(r) for r in cells)
    yield from (line([_text(v) for v in row]) for row in rows)


def format_table(names: Sequence[str], rows: Sequence[tuple]) -> str:
    """Rows as an aligned text table, numbers right-aligned."""
    return "\n".join(_table_lines(names, rows))


def _csv_row(row: Sequence[object]) -> list[object]:
    return ["" if v is None else v for v in row]


def format_csv(names: Sequence[str], rows: Sequence[tuple]) -> str:
    """Rows as CSV with a header line; NULL is an empty field."""
    return "\n".join(_csv_lines(names, rows))


def _csv_lines(names: Sequence[str], rows: Iterable[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")
    for row in itertools.chain([names], map(_csv_row, rows)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def write_result(names: Sequence[str], rows: Iterable[tuple], fmt: str, out: TextIO) -> None:
    """Write rows as they come, in `fmt` ("table" or "csv"), a batch of lines at a time."""
    lines = _csv_lines(names, rows) if fmt == "csv" else _table_lines(names, rows)
    while batch := list(itertools.islice(lines, FETCH_ROWS)):
        out.write("\n".join(batch) + "\n")
    out.flush()


def main(
    marts: Path,
    query: str | None,
    fmt: str = "table",
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    max_rows: int = DEFAULT_MAX_ROWS,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
    out: TextIO | None = None,
    timezone: str = "UTC",
) -> int:
    """The `sql` subcommand: run the query (or stdin) and stream the result; errors go to stderr."""
    sql = query if query is not None else sys.stdin.read()
    with analyst_query(marts, sql, memory_limit, timeout, timezone) as result:
        if not result.names:
            return 0
        rows = result.rows()
        write_result(result.names, itertools.islice(rows, max_rows), fmt, out or sys.stdout)
        more = next(rows, None) is not None
    if more:
        print(f"(only the first {max_rows} rows; use --max-rows or a LIMIT)", file=sys.stderr)
    return 0
