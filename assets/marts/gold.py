"""Gold: every mart also published as a Delta table under `$LAKEHOUSE_ROOT/gold/<mart>`.

Spark, Databricks, Power BI or Trino read the same numbers as DuckDB users, without DuckDB. Each
publish replaces the rebuilt scope of each mart (its days, weeks or months) in one commit per table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import write_deltalake

from assets.marts.inputs import checked_name
from assets.marts.registry import SCOPES, Mart
from assets.storage import delta


def gold_uri(lakehouse_root: str, mart: str) -> str:
    if not mart.replace("_", "").isalnum() or not mart.islower():
        raise ValueError(f"not a mart name: {mart!r}")
    return f"{delta.normalise_root(lakehouse_root)}/gold/{mart}"


def _portable(table: pa.Table) -> pa.Table:
    """Whole-number sums come out of DuckDB as 128-bit decimals; BI tools read 64-bit integers better."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_decimal(kind) and kind.scale == 0:
            kind = pa.int64()
        fields.append(pa.field(field.name, kind, nullable=True))
    return table.cast(pa.schema(fields))


def publish_gold(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    mart: str,
    scope_sql: str,
    params: dict,
    storage_options: dict[str, str] | None = None,
) -> int:
    """Replace the scope's rows of one mart's gold table with those of the built marts file."""
    rows = _portable(con.sql(f"select * from {mart} where {scope_sql}", params=params).to_arrow_table())
    uri = gold_uri(lakehouse_root, mart)
    if delta.open_table(uri, storage_options) is None:
        write_deltalake(
            uri,
            rows,
            mode="overwrite",
            storage_options=storage_options,
            schema_mode="overwrite",
            commit_properties=delta.commit_properties(),
        )
        return rows.num_rows
    # the scope as a Delta predicate: a list of dates only, made from real dates
    predicate = gold_predicate(mart, rows, params["days"], scope_sql)
    write_deltalake(
        uri,
        rows,
        mode="overwrite",
        predicate=predicate,
        storage_options=storage_options,
        schema_mode="merge",
        commit_properties=delta.commit_properties(),
    )
    return rows.num_rows


def gold_predicate(mart: str, rows: pa.Table, days: list, scope_sql: str) -> str:
    """The Delta predicate that selects a publish's scope in a gold table."""
    one_day = dt.timedelta(days=1)
    if scope_sql.startswith("$days"):  # scope "all": a table of the plant YAML, replaced whole
        return "true"
    if scope_sql.startswith("week"):
        weeks = sorted({d - d.weekday() * one_day for d in days})
        return f"week IN ({', '.join(delta.date_literal(w) for w in weeks)})"
    if scope_sql.startswith("month"):
        months = sorted({d.replace(day=1) for d in days})
        return f"month IN ({', '.join(delta.date_literal(m) for m in months)})"
    if scope_sql.startswith("(period"):
        weeks = sorted({d - d.weekday() * one_day for d in days})
        day_list = ", ".join(delta.date_literal(d) for d in days)
        week_list = ", ".join(delta.date_literal(w) for w in weeks)
        return (
            f"(period = 'day' AND period_start IN ({day_list})) OR (period = 'week' AND period_start IN ({week_list}))"
        )
    return f"day IN ({', '.join(delta.date_literal(d) for d in days)})"


def publish_all_gold(
    marts_file: Path,
    lakehouse_root: str,
    marts: Sequence[Mart],
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
) -> None:
    """Publish the rebuilt scope of every mart as Delta tables under gold/ (still under the publish lock)."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        for mart in marts:
            publish_gold(
                con, lakehouse_root, checked_name(mart.name), SCOPES[mart.scope], {"days": list(days)}, storage_options
            )
    finally:
        con.close()
