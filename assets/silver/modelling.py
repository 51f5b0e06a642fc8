"""Silver modelling: historian points to machine-state intervals and counter and meter increments.

Historians store on change: a value holds until the next point of that tag. So a production day's
first interval starts from the last state before the day began (carried across the partition edge),
and a day's first counter increment is measured from the last reading before it. Each model takes a
DuckDB connection on which a `points` relation (bronze columns) is registered with the tags and span
its `*_points` selection names, and returns Arrow. One module per model: `states`, `counts`, `energy`,
`sensors`, `tag_quality`; this one holds what they share.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.storage.schemas import UTC_TS
from assets.storage.sql_files import sql_file


def day_params(config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]) -> dict:
    return {"day": day, "day_start": window[0], "day_end": window[1]}


def run_model(con: duckdb.DuckDBPyConnection, sql: str, params: dict, relations: dict[str, pa.Table]) -> pa.Table:
    for name, table in relations.items():
        con.register(name, table)
    try:
        return con.sql(sql_file(sql), params=params).to_arrow_table()
    finally:
        for name in relations:
            con.unregister(name)


def as_utc(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    for name in columns:
        idx = table.column_names.index(name)
        table = table.set_column(idx, name, table[name].cast(UTC_TS))
    return table
