"""Reading the bronze points a production day needs, with the look-back for carried-in state."""

from __future__ import annotations

import datetime as dt

import duckdb

from . import delta
from .landing import Lakehouse
from .plant import PlantConfig
from .schemas import BRONZE_POINTS

LOOKAHEAD = dt.timedelta(days=1)


def register_points(
    con: duckdb.DuckDBPyConnection,
    lakehouse: Lakehouse,
    config: PlantConfig,
    window: tuple[dt.datetime, dt.datetime],
) -> None:
    """Register `points`: bronze rows from `state_lookback_days` before the day until a day after it.

    The look-back finds the state and readings in force when the day began; the look-ahead finds where
    a stop or a meter interval running over the day's end finishes. Only the UTC-date partitions that
    can hold those rows are scanned, so a day's cost does not grow with the history behind it.
    """
    since = window[0] - dt.timedelta(days=config.state_lookback_days)
    until = window[1] + LOOKAHEAD
    first = since.astimezone(dt.UTC).date()
    last = until.astimezone(dt.UTC).date()
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    delta.register_table(
        con,
        "bronze_points_scan",
        lakehouse.uri(BRONZE_POINTS.name),
        BRONZE_POINTS,
        partitions=delta.date_partitions("ts_date", dates),
        storage_options=lakehouse.storage_options,
    )
    con.execute(
        "create or replace temp table points as "
        "select tag, ts, value, value_text, quality, source from bronze_points_scan where ts >= ? and ts < ?",
        [since, until],
    ).fetchall()
    con.unregister("bronze_points_scan")
