"""Reading the bronze points a production day needs, with the look-back for carried-in state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from . import delta
from .landing import Lakehouse
from .plant import PlantConfig
from .schemas import BRONZE_POINTS, TAG_CATALOG

LOOKAHEAD = dt.timedelta(days=1)


@dataclass(frozen=True)
class PointSelection:
    """Which bronze points a model reads: its own tags (or every tag but some) over a span around the day.

    A model that reads only the tags it uses, over only the span it needs, scans and holds a small part
    of a day whose 1 Hz condition-monitoring sensors make tens of millions of points.
    """

    tags: tuple[str, ...] | None = None  # only these tags; None: every tag but `except_tags`
    except_tags: tuple[str, ...] = ()
    lookback: dt.timedelta | None = None  # before the day's start; None: the plant's state_lookback_days
    lookahead: dt.timedelta = LOOKAHEAD  # after the day's end
    # held in a temp table for a model that reads `points` several times; a model that reads them
    # once (in one ordered pass) gets a view, and DuckDB streams the scan into it without holding it
    held: bool = True
    # also `points_before_day`: per tag seen in the look-back, its first source and last point before the day
    before_day: bool = False
    # also `tag_last_seen`: per selected tag, its last point ever landed (from the tag catalog), so a model
    # tells the last reading of a series from one whose next reading lies beyond the look-ahead
    last_seen: bool = False


def _span(
    config: PlantConfig, window: tuple[dt.datetime, dt.datetime], selection: PointSelection
) -> tuple[dt.datetime, dt.datetime]:
    lookback = selection.lookback
    if lookback is None:
        lookback = dt.timedelta(days=config.state_lookback_days)
    return window[0] - lookback, window[1] + selection.lookahead


def _register_scan(
    con: duckdb.DuckDBPyConnection, name: str, lakehouse: Lakehouse, since: dt.datetime, until: dt.datetime
) -> None:
    """The bronze partitions that can hold points in [since, until), as the view `name`."""
    first = since.astimezone(dt.UTC).date()
    last = until.astimezone(dt.UTC).date()
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    delta.register_table(
        con,
        name,
        lakehouse.uri(BRONZE_POINTS.name),
        BRONZE_POINTS,
        partitions=delta.date_partitions("ts_date", dates),
        storage_options=lakehouse.storage_options,
        native=True,
    )


def register_points(
    con: duckdb.DuckDBPyConnection,
    lakehouse: Lakehouse,
    config: PlantConfig,
    window: tuple[dt.datetime, dt.datetime],
    selection: PointSelection = PointSelection(),
) -> None:
    """Register `points`: the selected tags' bronze rows from the look-back before the day to the
    look-ahead after it (by default `state_lookback_days` before until a day after).

    The look-back finds the state and readings in force when the day began; the look-ahead finds where
    a stop or a meter interval running over the day's end finishes. Only the UTC-date partitions that
    can hold those rows are scanned, so a day's cost does not grow with the history behind it.
    """
    since, until = _span(config, window, selection)
    # a view of `points` reads this scan for as long as the connection lives
    _register_scan(con, "bronze_points_scan", lakehouse, since, until)
    # Literals, not bind parameters: a view takes none. The times are timestamps we made; the tags
    # come from the validated plant config and are quoted as SQL string literals.
    where = f"ts >= {_timestamp(since)} and ts < {_timestamp(until)}"
    if selection.tags is not None:
        # a list tested while DuckDB scans, before anything is held
        where += f" and list_contains({_string_list(selection.tags)}, tag)"
    if selection.except_tags:
        where += f" and not list_contains({_string_list(selection.except_tags)}, tag)"
    kind = "table" if selection.held else "view"
    con.execute(
        f"create or replace temp {kind} points as "
        f"select tag, ts, value, value_text, quality, source from bronze_points_scan where {where}"
    ).fetchall()
    if selection.held:
        con.unregister("bronze_points_scan")
    if selection.before_day:
        _register_points_before_day(con, lakehouse, config, window)
    if selection.last_seen:
        _register_last_seen(con, lakehouse, selection.tags or ())


def _timestamp(value: dt.datetime) -> str:
    return f"'{value.astimezone(dt.UTC).isoformat()}'::timestamptz"


def _string_list(values: tuple[str, ...]) -> str:
    quoted = ", ".join(delta.string_literal(v) for v in values)
    return f"[{quoted}]::varchar[]"


def _register_points_before_day(
    con: duckdb.DuckDBPyConnection,
    lakehouse: Lakehouse,
    config: PlantConfig,
    window: tuple[dt.datetime, dt.datetime],
) -> None:
    """Register `points_before_day`: per tag seen in the look-back, its first source and its last point
    before the day began (time and quality).

    That is all a day's tag-quality figures take from the look-back, so the look-back is read by one
    streaming aggregate instead of being held point by point.
    """
    since = window[0] - dt.timedelta(days=config.state_lookback_days)
    _register_scan(con, "bronze_before_day_scan", lakehouse, since, window[0])
    con.execute(
        """
        create or replace temp table points_before_day as
        select tag, min(source) as source, max(ts) as ts, arg_max(quality, ts) as quality
        from bronze_before_day_scan
        where ts >= $since and ts < $day_start
        group by tag
        """,
        {"since": since, "day_start": window[0]},
    ).fetchall()
    con.unregister("bronze_before_day_scan")


def _register_last_seen(con: duckdb.DuckDBPyConnection, lakehouse: Lakehouse, tags: tuple[str, ...]) -> None:
    """Register `tag_last_seen` (tag, last_seen): the tag catalog's last point of each of `tags`."""
    delta.register_table(
        con,
        "tag_catalog_scan",
        lakehouse.uri(TAG_CATALOG.name),
        TAG_CATALOG,
        storage_options=lakehouse.storage_options,
    )
    con.execute(
        "create or replace temp table tag_last_seen as "
        "select tag, last_seen from tag_catalog_scan where list_contains($tags::varchar[], tag)",
        {"tags": list(tags)},
    ).fetchall()
    con.unregister("tag_catalog_scan")
