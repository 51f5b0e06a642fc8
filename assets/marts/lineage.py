"""What each mart reads, from its SQL as DuckDB parses it: the silver tables (through the staging views of
sql/staging/, followed to the tables they read) and the marts built before it. The Dagster asset graph
draws a mart's dependencies from this, so a mart whose SQL starts reading a table gains the edge without
a list kept by hand."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from assets.marts.inputs import SILVER_INPUTS, SQL_DIR, STAGING, register_macros
from assets.storage.schemas import SILVER_PLANT_CALENDAR

# tables the marts' connection registers under another name than the silver table they are
ALIASES = {"silver__plant_calendar_every_day": SILVER_PLANT_CALENDAR.name}
# the plant YAML as tables (inputs.register_dimensions): read from the plant's config, not an asset
PLANT_PREFIX = "plant__"
# bind parameters ($days, ...): the parser takes a literal in their place
_PARAMETER = re.compile(r"\$[a-z_]+")


class LineageError(ValueError):
    """A mart's or staging view's SQL reads a table that is neither silver, a staging view, the plant's
    dimensions nor a mart built before it."""


def tables_read(con: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    """The tables and views a query reads (its own CTEs aside), as DuckDB's parser finds them."""
    return set(con.get_table_names(_PARAMETER.sub("NULL", query), qualified=False))


def mart_reads(mart_sql: dict[str, str], sql_dir: Path = SQL_DIR) -> dict[str, tuple[str, ...]]:
    """Per mart (name to its SQL, in build order), the silver tables and earlier marts it reads, sorted;
    a staging view stands for what it reads in turn."""
    con = duckdb.connect(":memory:")
    try:
        # the marts' macros: the parser looks their calls up, and expands the weekly and monthly marts' table
        # macro to the daily mart it reads
        register_macros(con, sql_dir)
        staging = {v: (sql_dir / "staging" / f"{v}.sql").read_text(encoding="utf-8") for v in STAGING}
        silver = {spec.name for spec in SILVER_INPUTS}
        resolved: dict[str, set[str]] = {}

        def resolve(name: str, query: str, marts_before: set[str], seen: tuple[str, ...]) -> set[str]:
            reads: set[str] = set()
            for table in tables_read(con, query):
                table = ALIASES.get(table, table)
                if table in silver or table in marts_before:
                    reads.add(table)
                elif table in staging:
                    if table in seen:
                        raise LineageError(f"{name}: staging views read each other in a circle: {seen}")
                    reads |= resolve(table, staging[table], set(), (*seen, table))
                elif not table.startswith(PLANT_PREFIX):
                    raise LineageError(f"{name}: reads {table}, which is no silver table, staging view or mart")
            return reads

        for mart, query in mart_sql.items():
            resolved[mart] = resolve(mart, query, set(resolved), (mart,))
        return {mart: tuple(sorted(reads)) for mart, reads in resolved.items()}
    finally:
        con.close()
