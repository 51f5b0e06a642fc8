"""What the quick commands (`check-config`, `tags`, `quarantine`, `status`) share: the lakehouse's locations
and plant config from the environment, and its Delta tables read through DuckDB, all without Dagster."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from assets.plant.config import PlantConfig, load_plant_config
from assets.plant.tags import model_tags_table
from assets.storage import delta, delta_read
from assets.storage.schemas import TAG_CATALOG, TableSpec
from assets.storage.settings import Locations, locations_from_env
from assets.storage.sql_files import sql_file


def locations_and_plant() -> tuple[Locations, PlantConfig]:
    where = locations_from_env()
    return where, load_plant_config(where.plant_config)


def query(where: Locations, tables: dict[str, TableSpec], sql: str, params: dict | None = None) -> list[dict]:
    """Rows of `sql` over the given Delta tables (view name -> table), as dicts; a missing table reads empty."""
    with delta_read.duckdb_session() as con:
        for view, spec in tables.items():
            uri = delta.table_uri(where.lakehouse_root, spec.name)
            delta_read.register_table(con, view, uri, spec, storage_options=where.storage_options)
        cursor = con.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def tag_catalog(where: Locations, config: PlantConfig, where_sql: str = "true", params: dict | None = None):
    """The tag catalog's rows with each tag's place in the plant config as it is now (sql/ops/tag_catalog.sql,
    as the marts' ops.tag_catalog), filtered by `where_sql`."""
    with delta_read.duckdb_session() as con:
        uri = delta.table_uri(where.lakehouse_root, TAG_CATALOG.name)
        delta_read.register_table(con, "catalog", uri, TAG_CATALOG, storage_options=where.storage_options)
        con.register("model_tags", model_tags_table(config))
        cursor = con.execute(
            f"select * from ({sql_file('ops/tag_catalog.sql')}) where {where_sql} order by tag", params or {}
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def local(instant: dt.datetime | None, tz: ZoneInfo) -> str:
    """A UTC instant as the plant's wall-clock time, to the second."""
    return "-" if instant is None else instant.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def mapped_to(row: dict) -> str:
    if row.get("role") == "order":  # a work order's point (orders_csv): mapped by the orders, to no machine
        return "orders"
    return f"{row['line']}/{row['machine']}/{row['role']}" if row.get("role") else "-"
