"""The per-day watermark: which production days are built, and which are stale.

Every silver build of a production day appends one row per table it wrote to `lakehouse__day_builds`,
after its commit, and every marts publish one row per day it published, after the publish. So:

- a day whose silver tables are not all recorded was killed or failed mid-build: its marts are not
  rebuilt beside a neighbour (they would read half a day), and `run` rebuilds it;
- a day whose inputs (bronze points feeding it) were landed after its silver build began, or whose
  silver was rebuilt after its marts were published, is stale: `run` and the landing sensor rebuild it.

A row is written only after what it records is committed, so a kill between the two leaves the day
looking stale, and the worst it costs is a rebuild that gives the same tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from assets.plant.calendar import production_day_of, production_day_window
from assets.plant.config import PlantConfig
from assets.storage import delta, delta_read
from assets.storage.schemas import BRONZE_POINTS, DAY_BUILDS, SILVER_DAY_TABLES

# the silver tables a production day's marts read: a day is built when each of them is
SILVER_TABLES: tuple[str, ...] = tuple(spec.name for spec in SILVER_DAY_TABLES)
MARTS_TABLE = "marts.duckdb"
# A publish whose audit failed records the failing days under this layer: their silver may be no newer than
# their last published marts (a plant edit, a changed mart), so without it a failed day would look built and
# no run would try it again. A later publish of the day, passing, clears it (its marts row is newer).
MARTS_FAILED_LAYER = "marts_failed"
_ONE_DAY = dt.timedelta(days=1)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record_builds(
    lakehouse_root: str,
    layer: str,
    table_name: str,
    days: Iterable[dt.date],
    started_at: dt.datetime,
    run_id: str | None = None,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Append the watermark rows of a finished build (one commit; concurrent builds append side by side)."""
    days = sorted(set(days))
    if not days:
        return
    built_at = now()
    table = pa.table(
        {
            "day": pa.array(days, pa.date32()),
            "layer": pa.array([layer] * len(days), pa.string()),
            "table_name": pa.array([table_name] * len(days), pa.string()),
            "run_id": pa.array([run_id] * len(days), pa.string()),
            "started_at": pa.array([started_at] * len(days), DAY_BUILDS.arrow_schema.field("started_at").type),
            "built_at": pa.array([built_at] * len(days), DAY_BUILDS.arrow_schema.field("built_at").type),
        },
        schema=DAY_BUILDS.arrow_schema,
    )
    delta.append(delta.table_uri(lakehouse_root, DAY_BUILDS.name), DAY_BUILDS, table, storage_options)


@dataclass
class DayBuilds:
    """A production day's latest build of each silver table and of its marts: (started_at, built_at)."""

    silver: dict[str, tuple[dt.datetime, dt.datetime]]
    marts: tuple[dt.datetime, dt.datetime] | None = None
    # the latest publish of the day that failed its audit
    failed: tuple[dt.datetime, dt.datetime] | None = None

    @property
    def failing(self) -> bool:
        """Whether the day's latest publish attempt failed its audit (no passing publish since)."""
        return self.failed is not None and (self.marts is None or self.failed[1] > self.marts[1])

    @property
    def missing(self) -> list[str]:
        return [t for t in SILVER_TABLES if t not in self.silver]


def read_builds(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> dict[dt.date, DayBuilds] | None:
    """Each day's latest builds, or None for a lakehouse that keeps no watermark yet."""
    uri = delta.table_uri(lakehouse_root, DAY_BUILDS.name)
    if delta.open_table(uri, storage_options) is None:
        return None
    with delta_read.duckdb_session() as con:
        delta_read.register_table(con, DAY_BUILDS.name, uri, DAY_BUILDS, storage_options=storage_options)
        rows = con.sql(
            f"select day, layer, table_name, arg_max(started_at, built_at), max(built_at) from {DAY_BUILDS.name} "
            "group by all order by all"
        ).fetchall()
    builds: dict[dt.date, DayBuilds] = {}
    for day, layer, table_name, started, built in rows:
        entry = builds.setdefault(day, DayBuilds(silver={}))
        if layer == "marts":
            entry.marts = (started, built)
        elif layer == MARTS_FAILED_LAYER:
            entry.failed = (started, built)
        elif table_name in SILVER_TABLES:
            entry.silver[table_name] = (started, built)
    return builds


def built_silver_days(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> list[dt.date] | None:
    """The days every silver table has been built for (None: no watermark kept yet, ask silver itself)."""
    builds = read_builds(lakehouse_root, storage_options)
    if builds is None:
        return None
    return sorted(day for day, b in builds.items() if not b.missing)


def published_without(
    lakehouse_root: str, day: dt.date, neighbour: dt.date, storage_options: dict[str, str] | None = None
) -> bool:
    """Whether `neighbour`'s marts were last published before `day`'s silver was first built whole, so they
    were built without it (days built out of order, as a backfill on several workers builds them)."""
    rows = delta_read.query_table(
        lakehouse_root,
        DAY_BUILDS,
        f"select table_name, min(built_at) as first_built, "
        f"(select max(started_at) from {DAY_BUILDS.name} where day = $2 and layer = 'marts') as published "
        f"from {DAY_BUILDS.name} where day = $1 and layer = 'silver' group by all",
        [day, neighbour],
        storage_options=storage_options,
    )
    built = {r["table_name"]: r["first_built"] for r in rows if r["table_name"] in SILVER_TABLES}
    published = rows[0]["published"] if rows else None
    return published is not None and len(built) == len(SILVER_TABLES) and published < max(built.values())


def bronze_input_days(
    lakehouse_root: str, config: PlantConfig, storage_options: dict[str, str] | None = None
) -> dict[dt.date, dt.datetime]:
    """Each production day that bronze has points for, with the latest time a point feeding it was landed.

    Read from the Delta log's file statistics (min and max `ts`, max `landed_at` per file), not the
    points: a few milliseconds however large bronze is. A day is fed by its own points and its
    neighbours' (a state holds into the next day; an energy reading is closed by the next one), as
    landing's touched days are.
    """
    table = delta.open_table(delta.table_uri(lakehouse_root, BRONZE_POINTS.name), storage_options)
    if table is None:
        return {}
    files = pa.table(table.get_add_actions(flatten=True))
    if files.num_rows == 0:
        return {}
    spans: dict[tuple[dt.datetime, dt.datetime], dt.datetime] = {}
    for low, high, landed, date in zip(
        files["min.ts"].to_pylist() if "min.ts" in files.column_names else [None] * files.num_rows,
        files["max.ts"].to_pylist() if "max.ts" in files.column_names else [None] * files.num_rows,
        files["max.landed_at"].to_pylist() if "max.landed_at" in files.column_names else [None] * files.num_rows,
        files["partition.ts_date"].to_pylist(),
        strict=True,
    ):
        # a file without statistics stands for its whole UTC date, landed at an unknown time (the epoch
        # would never make a day stale; the far future would make it stale forever): now
        low = low or dt.datetime.combine(date, dt.time(), dt.UTC)
        high = high or dt.datetime.combine(date, dt.time(23, 59, 59), dt.UTC)
        landed = landed or now()
        key = (low, high)
        spans[key] = max(spans.get(key, landed), landed)
    own: dict[dt.date, dt.datetime] = {}
    for (low, high), landed in spans.items():
        day, last = production_day_of(config, low), production_day_of(config, high)
        while day <= last:
            own[day] = max(own.get(day, landed), landed)
            day += _ONE_DAY
    first, last = min(own), max(own)
    fed = dict(own)
    for day, landed in own.items():
        for neighbour in (day - _ONE_DAY, day + _ONE_DAY):
            if first <= neighbour <= last:
                fed[neighbour] = max(fed.get(neighbour, landed), landed)
    return fed


AUDIT_FAILED = "its marts failed the audit"


@dataclass(frozen=True)
class StaleDay:
    """A production day to rebuild, and why."""

    day: dt.date
    reason: str

    def __str__(self) -> str:
        return f"{self.day.isoformat()}: {self.reason}"


def _at(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def stale_days(
    lakehouse_root: str,
    config: PlantConfig,
    storage_options: dict[str, str] | None = None,
    marts_file_exists: bool = True,
) -> list[StaleDay]:
    """The days whose inputs are newer than their marts, or whose build never finished, with the reason.
    Without the published marts file, every built day is stale.

    Days not over yet, or before calendar.first_day, are the caller's to leave out (they are not
    partitions)."""
    fed = bronze_input_days(lakehouse_root, config, storage_options)
    builds = read_builds(lakehouse_root, storage_options) or {}
    stale = []
    for day in sorted(set(fed) | set(builds)):
        reason = _why_stale(fed.get(day), builds.get(day), marts_file_exists)
        if reason:
            stale.append(StaleDay(day, reason))
    return stale


def _why_stale(landed: dt.datetime | None, built: DayBuilds | None, marts_file_exists: bool) -> str | None:
    if built is None or not built.silver:
        return None if landed is None else f"points landed ({_at(landed)}) but no build of the day finished"
    if built.missing:
        return f"its last build did not finish: no {', '.join(built.missing)}"
    began = min(started for started, _ in built.silver.values())
    if landed is not None and landed > began:
        return f"points landed at {_at(landed)}, after its silver build began at {_at(began)}"
    if built.failing:
        return f"{AUDIT_FAILED} at {_at(built.failed[1])} (the published marts keep its previous numbers)"
    if built.marts is None:
        return "its marts were never published"
    if not marts_file_exists:
        return "the published marts file is missing"
    silver_done = max(done for _, done in built.silver.values())
    if silver_done > built.marts[0]:
        return f"silver rebuilt at {_at(silver_done)}, after its marts were published at {_at(built.marts[1])}"
    return None


def ended(config: PlantConfig, stale: Sequence[StaleDay], now: dt.datetime) -> list[StaleDay]:
    """The stale days that can be built: from calendar.first_day, and over by `now` (the days that are
    production-day partitions)."""
    return [s for s in stale if s.day >= config.calendar.first_day and production_day_window(config, s.day)[1] <= now]
