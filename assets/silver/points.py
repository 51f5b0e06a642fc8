"""Reading the bronze points a production day needs, with the look-back for carried-in state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from assets.plant.config import PlantConfig
from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, TAG_CATALOG

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
    # (earlier name, current tag) of the machine roles' renamed tags (see tag_aliases), per current tag
    # the most recently used name first: an earlier name is read with its tag, under the current name
    aliases: tuple[tuple[str, str], ...] = ()
    # also every tag that starts with one of these (the orders' `order:<id>` points), or none of them
    tag_prefixes: tuple[str, ...] = ()
    except_prefixes: tuple[str, ...] = ()
    # also each point's source_file and exported_at (a model that keeps an export's latest version)
    with_export: bool = False


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
    delta_read.register_table(
        con,
        name,
        lakehouse.uri(BRONZE_POINTS.name),
        BRONZE_POINTS,
        partitions=delta_read.date_partitions("ts_date", dates),
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
    aliases = _selected_aliases(selection)
    # Literals, not bind parameters: a view takes none. The times are timestamps we made; the tags
    # come from the validated plant config and are quoted as SQL string literals.
    where = f"ts >= {_timestamp(since)} and ts < {_timestamp(until)}"
    if selection.tags is not None:
        # a list tested while DuckDB scans, before anything is held
        listed = f"list_contains({_string_list(selection.tags + tuple(a for a, _ in aliases))}, tag)"
        prefixed = "".join(f" or starts_with(tag, {delta.string_literal(p)})" for p in selection.tag_prefixes)
        where += f" and ({listed}{prefixed})"
    for prefix in selection.except_prefixes:
        where += f" and not starts_with(tag, {delta.string_literal(prefix)})"
    if selection.except_tags:
        # an excepted tag's earlier names are excepted with it (a renamed state tag is no sensor)
        excepted = set(selection.except_tags)
        names = selection.except_tags + tuple(a for a, tag in selection.aliases if tag in excepted)
        where += f" and not list_contains({_string_list(names)}, tag)"
    columns = "tag, ts, value, value_text, quality, source" + (
        ", source_file, exported_at" if selection.with_export else ""
    )
    select = f"select {columns} from bronze_points_scan where {where}"
    if aliases:
        family = _string_list(tuple(sorted({name for pair in aliases for name in pair})))
        # The renamed tags' points, earlier names read as the current one, held (the machine roles' few
        # points). Where the current name and an earlier one both have a point at the same time, the
        # current name's wins (rank 0), then the most recently used earlier name's: one point per time.
        con.execute(
            "create or replace temp table aliased_points as "
            "select coalesce(a.tag, s.tag) as tag, s.* exclude (tag) "
            f"from ({select} and list_contains({family}, tag)) as s "
            f"left join {_alias_values(aliases)} on a.alias = s.tag "
            "qualify row_number() over (partition by coalesce(a.tag, s.tag), s.ts order by coalesce(a.rank, 0)) = 1"
        ).fetchall()
        select = f"{select} and not list_contains({family}, tag) union all select {columns} from aliased_points"
    kind = "table" if selection.held else "view"
    con.execute(f"create or replace temp {kind} points as {select}").fetchall()
    if selection.held:
        con.unregister("bronze_points_scan")
    if selection.before_day:
        _register_points_before_day(con, lakehouse, config, window, aliases, selection.except_prefixes)
    if selection.last_seen:
        _register_last_seen(con, lakehouse, selection.tags or (), aliases)


def _selected_aliases(selection: PointSelection) -> tuple[tuple[str, str], ...]:
    """The aliases of the tags the selection reads."""
    if selection.tags is not None:
        return tuple((a, tag) for a, tag in selection.aliases if tag in set(selection.tags))
    return tuple((a, tag) for a, tag in selection.aliases if tag not in set(selection.except_tags))


def _alias_values(aliases: tuple[tuple[str, str], ...]) -> str:
    """(alias, tag, rank) as an inline table: per tag, the earlier names in the order given, from rank 1."""
    rank: dict[str, int] = {}
    rows = []
    for alias, tag in aliases:
        rank[tag] = rank.get(tag, 0) + 1
        rows.append(f"({delta.string_literal(alias)}, {delta.string_literal(tag)}, {rank[tag]})")
    return f"(values {', '.join(rows)}) as a(alias, tag, rank)"


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
    aliases: tuple[tuple[str, str], ...] = (),
    except_prefixes: tuple[str, ...] = (),
) -> None:
    """Register `points_before_day`: per tag seen in the look-back, its first source and its last point
    before the day began (time and quality); a tag's earlier names count as the tag.

    That is all a day's tag-quality figures take from the look-back, so the look-back is read by one
    streaming aggregate instead of being held point by point.
    """
    since = window[0] - dt.timedelta(days=config.state_lookback_days)
    _register_scan(con, "bronze_before_day_scan", lakehouse, since, window[0])
    # at the same time, the current name's point is the last one (rank 0), as in `points`
    # (with no aliases, the plain aggregate: the look-back of every tag is millions of points)
    aliased = f"left join {_alias_values(aliases)} on a.alias = s.tag" if aliases else ""
    tag, last = ("coalesce(a.tag, s.tag)", "(s.ts, -coalesce(a.rank, 0))") if aliases else ("s.tag", "s.ts")
    excepted = "".join(f" and not starts_with(s.tag, {delta.string_literal(p)})" for p in except_prefixes)
    con.execute(
        f"""
        create or replace temp table points_before_day as
        select {tag} as tag, min(s.source) as source, max(s.ts) as ts, arg_max(s.quality, {last}) as quality
        from bronze_before_day_scan as s {aliased}
        where s.ts >= $since and s.ts < $day_start {excepted}
        group by 1
        """,
        {"since": since, "day_start": window[0]},
    ).fetchall()
    con.unregister("bronze_before_day_scan")


def _register_last_seen(
    con: duckdb.DuckDBPyConnection,
    lakehouse: Lakehouse,
    tags: tuple[str, ...],
    aliases: tuple[tuple[str, str], ...] = (),
) -> None:
    """Register `tag_last_seen` (tag, last_seen): the tag catalog's last point of each of `tags`, under
    any of its names."""
    delta_read.register_table(
        con,
        "tag_catalog_scan",
        lakehouse.uri(TAG_CATALOG.name),
        TAG_CATALOG,
        storage_options=lakehouse.storage_options,
    )
    names = {alias: tag for alias, tag in aliases}
    con.execute(
        "create or replace temp table tag_last_seen as "
        "select coalesce(map_extract_value($names::map(varchar, varchar), tag), tag) as tag, "
        "max(last_seen) as last_seen from tag_catalog_scan where list_contains($tags::varchar[], tag) group by 1",
        {"tags": [*tags, *names], "names": names},
    ).fetchall()
    con.unregister("tag_catalog_scan")
