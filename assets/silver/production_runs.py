"""Silver production runs and orders: which product each OEE machine made when, from its product tag or
the work orders, and the orders that touch each production day.

Performance is ideal time over run time, and the ideal time of a count is the ideal cycle time of the
product running when it was counted (sql/staging/stg_counts_in_plan.sql): these intervals say which.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.products import ORDER_TAG_PREFIX, UNKNOWN_PRODUCT
from assets.silver.modelling import as_utc, day_params, run_model
from assets.silver.points import LOOKAHEAD, PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_ORDERS, SILVER_PRODUCTION_RUNS
from assets.storage.sql_files import sql_file

# The models' SQL, with the rules they follow in their comments.
_ORDERS_LATEST_SQL = "silver/orders_latest.sql"
_RUNS_SQL = "silver/production_runs.sql"
_ORDERS_SQL = "silver/orders.sql"


def _machines(config: PlantConfig) -> pa.Table:
    machines = config.oee_machines
    return pa.table(
        {
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
        }
    )


def _product_tags(config: PlantConfig) -> pa.Table:
    machines = [m for m in config.oee_machines if m.product_tag is not None]
    return pa.table(
        {
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "tag": pa.array([m.product_tag for m in machines], pa.string()),
        }
    )


def production_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The product tags and the orders' points over the look-back: a product, like a state, holds from
    its last point before the day, and an order is found while its planned start lies in the look-back."""
    return PointSelection(
        tags=tuple(m.product_tag for m in config.oee_machines if m.product_tag is not None),
        tag_prefixes=(ORDER_TAG_PREFIX,),
        with_export=True,
        aliases=aliases.pairs,
    )


def _register_orders(con: duckdb.DuckDBPyConnection, config: PlantConfig) -> None:
    con.register("machines", _machines(config))
    con.execute(
        f"create or replace temp table orders_latest as {sql_file(_ORDERS_LATEST_SQL)}",
        {"order_prefix": ORDER_TAG_PREFIX},
    ).fetchall()


def model_production_runs(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Product intervals of every OEE machine that tile the production day exactly."""
    _register_orders(con, config)
    params = day_params(config, day, window) | {
        "unknown": UNKNOWN_PRODUCT,
        "span_start": window[0] - dt.timedelta(days=config.state_lookback_days),
        "span_end": window[1] + LOOKAHEAD,
    }
    catalog = pa.table({"id": pa.array([p.id for p in config.products], pa.string())})
    table = run_model(con, _RUNS_SQL, params, {"product_tags": _product_tags(config), "catalog": catalog})
    return SILVER_PRODUCTION_RUNS.conform(as_utc(table, ("start", "end", "run_start", "run_end")))


def model_orders(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """The orders whose window touches the production day, per machine they run on."""
    _register_orders(con, config)
    table = run_model(con, _ORDERS_SQL, day_params(config, day, window), {})
    columns = ("planned_start", "planned_end", "actual_start", "actual_end", "exported_at")
    return SILVER_ORDERS.conform(as_utc(table, columns))
