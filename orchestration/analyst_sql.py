"""Analyst SQL on the published marts: read-only, no file system, bounded memory, settings locked.

`iiot-lakehouse sql "select ..."` (or the SQL on stdin) opens `$LAKEHOUSE_ROOT/marts.duckdb` read-only
with DuckDB's external access disabled, so a query can read the marts and nothing else: no
`read_csv('/etc/passwd')`, no `COPY ... TO`, no `ATTACH`, no extension install or load. The
configuration is locked once the connection is open, so a query cannot `SET` its way back out or raise
its memory limit. Spilling goes to a private temporary folder that is removed when the query ends.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_MAX_ROWS = 10_000
FORMATS = ("table", "csv")


class AnalystSqlError(Exception):
    """A query that failed or was refused, with DuckDB's message."""


def locked_config(memory_limit: str, temp_directory: str) -> dict[str, object]:
    """DuckDB settings of an analyst connection (option names as in DuckDB 2.0)."""
    return {
        "enable_external_access": False,  # no file, network or database outside the marts
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit,
        "temp_directory": temp_directory,
        "max_temp_directory_size": "4GB",
        "threads": 4,
        "lock_configuration": True,  # last: nothing above can be changed by a query
    }


@contextmanager
def analyst_connection(marts: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, locked-down connection to a published marts file."""
    if not marts.is_file():
        raise AnalystSqlError(f"no published marts at {marts}; run `iiot-lakehouse run` first")
    spill = tempfile.mkdtemp(prefix="iiot-analyst-")
    try:
        try:
            con = duckdb.connect(str(marts), read_only=True, config=locked_config(memory_limit, spill))
        except duckdb.Error as exc:
            raise AnalystSqlError(f"cannot open {marts} read-only: {exc}") from None
        try:
            yield con
        finally:
            con.close()
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def run_query(
    marts: Path, sql: str, memory_limit: str = DEFAULT_MEMORY_LIMIT, max_rows: int = DEFAULT_MAX_ROWS
) -> tuple[list[str], list[tuple], bool]:
    """Run one analyst query: column names, up to `max_rows` rows, and whether rows were left off."""
    if not sql.strip():
        raise AnalystSqlError("no SQL given (pass a query, or pipe it on stdin)")
    with analyst_connection(marts, memory_limit) as con:
        try:
            cursor = con.execute(sql)
            if cursor.description is None:
                cursor.fetchall()
                return [], [], False
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchmany(max_rows + 1)
        except duckdb.Error as exc:
            raise AnalystSqlError(str(exc).strip()) from None
    return names, rows[:max_rows], len(rows) > max_rows


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def format_table(names: Sequence[str], rows: Sequence[tuple]) -> str:
    """Rows as an aligned text table, numbers right-aligned."""
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows) for i, _ in enumerate(names)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def format_csv(names: Sequence[str], rows: Sequence[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue().rstrip("\n")


def main(
    marts: Path,
    query: str | None,
    fmt: str = "table",
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> int:
    """The `sql` subcommand: run the query (or stdin) and print the result; errors go to stderr."""
    sql = query if query is not None else sys.stdin.read()
    names, rows, more = run_query(marts, sql, memory_limit, max_rows)
    if not names:
        return 0
    print(format_csv(names, rows) if fmt == "csv" else format_table(names, rows))
    if more:
        print(f"(only the first {max_rows} rows; use --max-rows or a LIMIT)", file=sys.stderr)
    return 0
