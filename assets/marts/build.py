"""Building the marts in one DuckDB pass over silver: each mart's rows of the days being rebuilt (or of
every day, when the file is new or a mart's columns changed) replaced in the copy built aside, with the
descriptions from the mart's YAML written into the file. Publishing the copy is publish.py's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb

from assets.marts.inputs import checked_name, register_inputs, silver_days, with_neighbours
from assets.marts.registry import SCOPES, Mart, read_sql
from assets.plant.config import PlantConfig
from assets.storage import delta


def build_marts(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    config: PlantConfig,
    days: list[dt.date],
    marts: Sequence[Mart],
    storage_options: dict[str, str] | None,
    sql_dir: Path,
    fresh: bool,
) -> tuple[list[dt.date], dict[str, int]]:
    """Rebuild the given days of every mart on the connection to the copy built aside.

    Silver is read for the days and their neighbours, so a shift or a stop across a day's edge is whole.
    A `fresh` file (new, or in an older storage format), or one whose marts' columns changed, is rebuilt
    over every day silver holds. Returns the days rebuilt and the rows of the rebuilt scope per mart."""
    written: dict[str, int] = {}
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    # one thread: floating-point sums then add in one order, so a rebuild is bit for bit the same
    con.execute("SET threads = 1").fetchall()
    register_inputs(con, lakehouse_root, config, with_neighbours(days), storage_options, sql_dir)
    if fresh or _definitions_changed(con, marts, sql_dir):
        # a new file (or one in an older storage format, or with changed marts): every day
        days = silver_days(lakehouse_root, storage_options)
        register_inputs(con, lakehouse_root, config, None, storage_options, sql_dir)
        for mart in marts:
            con.execute(f"drop table if exists {checked_name(mart.name)}").fetchall()
    for mart in marts:
        written[mart.name] = _rebuild_mart(con, mart, days, sql_dir)
    return days, written


def _definitions_changed(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], sql_dir: Path) -> bool:
    """Whether a mart is new to the file, or an existing mart table's columns or their types differ from what
    its SQL now produces (a new mart, or a count that became BIGINT, is then filled for every day)."""
    for mart in marts:
        existing = con.execute(
            "select column_name, data_type from information_schema.columns where table_name = ? "
            "and table_schema = 'main' order by ordinal_position",
            [mart.name],
        ).fetchall()
        if not existing:
            return True
        query = read_sql(mart, sql_dir)
        relation = con.sql(f"select * from ({query}) limit 0", params={"days": []})
        wanted = [(d[0], str(kind)) for d, kind in zip(relation.description, relation.types, strict=True)]
        if [tuple(r) for r in existing] != wanted:
            return True
    return False


def _rebuild_mart(con: duckdb.DuckDBPyConnection, mart: Mart, days: list[dt.date], sql_dir: Path) -> int:
    name = checked_name(mart.name)
    query = read_sql(mart, sql_dir)
    params = {"days": days}
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'", [name]
    ).fetchall()[0][0]
    if not exists:
        con.execute(f"create table {name} as select * from ({query}) limit 0", params).fetchall()
    scope = SCOPES[mart.scope]
    con.execute("begin transaction").fetchall()
    con.execute(f"delete from {name} where {scope}", params).fetchall()
    con.execute(f"insert into {name} by name select * from ({query})", params).fetchall()
    con.execute("commit").fetchall()
    _describe(con, mart)
    return int(con.execute(f"select count(*) from {name} where {scope}", params).fetchall()[0][0])


def _describe(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    """The mart's descriptions from its YAML on the table and its columns, where the file does not have them
    already (a COMMENT ON each, hundreds of statements, would cost a publish a second)."""
    # COMMENT ON takes no bind parameters; the texts are ours, with quotes doubled.
    name = checked_name(mart.name)
    (table_comment,) = con.execute(
        "select comment from duckdb_tables() where table_name = ? and schema_name = 'main'", [name]
    ).fetchall()[0]
    if table_comment != mart.description:
        con.execute(f"comment on table {name} is {delta.string_literal(mart.description)}").fetchall()
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where table_name = ? and schema_name = 'main'", [name]
    ).fetchall()
    for column, comment in columns:
        doc = mart.doc(column)
        if doc and doc != comment:
            con.execute(f'comment on column {name}."{column}" is {delta.string_literal(doc)}').fetchall()
