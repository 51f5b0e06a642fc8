"""A mart's SQL run in real DuckDB over silver tables a test writes by hand: the plant's dimension tables and
calendar from a real plant YAML, the staging views and macros of sql/, and each mart rebuilt day by day as
the marts build replaces its scope (a day's rows, or every row)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from assets.marts.inputs import register_dimensions, register_staging
from assets.plant.calendar import calendar_table
from assets.plant.config import load_plant_config
from assets.storage.schemas import (
    SILVER_DAY_TABLES,
    SILVER_ORDERS,
    SILVER_PLANT_CALENDAR,
    SILVER_PRODUCTION_RUNS,
)
from assets.storage.sql_files import SQL_DIR

UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    """'2026-03-29 08:30' as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


class MartSQL:
    """A DuckDB connection with a plant's dimensions, its calendar for `days`, the given silver rows (every
    other silver table empty) and the staging views; `build` runs marts' SQL as the marts build does."""

    def __init__(self, tmp_path: Path, config: dict, days: list[dt.date], silver: dict[str, list[dict]]):
        path = tmp_path / "plant.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.config = load_plant_config(path)
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'").fetchall()
        self.con.execute("SET threads = 1").fetchall()
        self.tables: dict[str, pa.Table] = {}
        for spec in (*SILVER_DAY_TABLES, SILVER_PRODUCTION_RUNS, SILVER_ORDERS):
            rows = silver.get(spec.name)
            if spec is SILVER_PLANT_CALENDAR:
                table = calendar_table(self.config, days).cast(spec.arrow_schema)
            elif rows:
                table = pa.Table.from_pylist(rows, schema=spec.arrow_schema)
            else:
                table = spec.empty()
            self.tables[spec.name] = table
            self.con.register(spec.name, table)
        register_dimensions(self.con, self.config)
        register_staging(self.con, SQL_DIR)

    def build(self, mart: str, days: list[dt.date]) -> None:
        """Replace the mart's rows of `days` (or every row, for a mart of scope all) with what its SQL gives."""
        query = (SQL_DIR / "marts" / f"{mart}.sql").read_text(encoding="utf-8")
        spec = yaml.safe_load((SQL_DIR / "marts" / f"{mart}.yml").read_text(encoding="utf-8"))
        params = {"days": days}
        self.con.execute(f"create table if not exists {mart} as select * from ({query}) limit 0", params).fetchall()
        if spec["scope"] == "all":
            self.con.execute(f"delete from {mart}").fetchall()
        else:
            self.con.execute(f"delete from {mart} where day in (select unnest($days::date[]))", params).fetchall()
        self.con.execute(f"insert into {mart} by name select * from ({query})", params).fetchall()

    def rows(self, sql: str, params=None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
