"""Reading a landing test's Delta tables back: rows of a query on one table, or none if it was never written."""

from __future__ import annotations

import os

import duckdb
from deltalake import DeltaTable

from assets.bronze.landing import Lakehouse


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
