"""Reading the tables a test wrote back: the published marts, a Delta table through DuckDB, whole tables
for comparing two lakehouses, and a table's history."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from deltalake import DeltaTable

from assets.bronze.landing import Lakehouse
from assets.storage import delta


def mart(plant, sql: str, params=None) -> list[tuple]:
    """Rows of a query on the plant's published marts file, read-only, timestamps in UTC."""
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def silver(plant, name: str, sql: str) -> list[tuple]:
    """Rows of a query on one of the plant's silver Delta tables, registered as `t`, in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", DeltaTable(str(plant.root / name)).to_pyarrow_dataset())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def query(lake: Path | str, table: str, sql: str = "select * from t", params=None) -> list[tuple]:
    """Rows of a Delta table through DuckDB over its pyarrow dataset (never materialised in Python)."""
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    if table_obj is None:
        return []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        con.register("t", table_obj.to_pyarrow_dataset())
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def columns(lake: Path | str, table: str) -> list[str]:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return [] if table_obj is None else list(table_obj.schema().to_arrow().names)


def sorted_rows(lake: Path | str, table: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of a table without the excluded columns, in a stable order, for comparing whole tables."""
    names = [c for c in columns(lake, table) if c not in exclude]
    if not names:
        return []
    select = ", ".join(f'"{c}"' for c in names)
    return query(lake, table, f"select {select} from t order by all")


def version(lake: Path | str, table: str) -> int | None:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return None if table_obj is None else table_obj.version()


def history(lake: Path | str, table: str) -> list[dict]:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return [] if table_obj is None else sorted(table_obj.history(), key=lambda h: h["version"])


def marts_rows(marts_file: Path) -> dict[str, list[tuple]]:
    """Every mart table's rows, sorted, from a published marts file (read-only)."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
        ]
        return {name: con.execute(f'select * from "{name}" order by all').fetchall() for name in names}
    finally:
        con.close()


def table_rows(lakehouse: Lakehouse, name: str, sql: str) -> list[tuple]:
    """Rows of `sql` on the table `name` (registered as `t`, timestamps in UTC); [] for a table not written."""
    if not os.path.isdir(lakehouse.uri(name)):
        return []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        con.register("t", DeltaTable(lakehouse.uri(name)).to_pyarrow_dataset())
        return con.execute(sql).fetchall()
    finally:
        con.close()
