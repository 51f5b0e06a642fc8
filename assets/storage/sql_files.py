"""The SQL files under sql/: read once per process, by their path relative to that folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def sql_file(relative: str) -> str:
    """The text of `sql/<relative>` (e.g. "bronze/rows_finish.sql")."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def register_macros(con: duckdb.DuckDBPyConnection, relative: str) -> None:
    """Run a file of `create or replace temp macro` statements on the connection."""
    con.execute(sql_file(relative)).fetchall()
