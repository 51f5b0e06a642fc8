"""Building the DuckDB marts from silver and publishing them atomically.

The published file `$LAKEHOUSE_ROOT/marts.duckdb` is never written in place: a copy is built aside,
the days being rebuilt are replaced in it, and the copy is renamed over the published file. An
analyst who holds the old file open keeps reading a complete version and never blocks the pipeline.
Publishers take a lock so that two runs never build from the same old copy and lose each other's days.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from . import delta
from .plant import PlantConfig
from .schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_PLANT_CALENDAR,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
    TableSpec,
)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MARTS_FILE = "marts.duckdb"
SILVER_INPUTS: tuple[TableSpec, ...] = (
    SILVER_PLANT_CALENDAR,
    SILVER_MACHINE_STATES,
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
)


@dataclass(frozen=True)
class Mart:
    """A mart: its table name, the SQL file that builds it, and its descriptions for analysts."""

    name: str
    sql_file: str
    description: str


MARTS: tuple[Mart, ...] = (
    Mart(
        name="oee_daily",
        sql_file="oee_daily.sql",
        description="OEE per machine per production day: times in seconds, counts, availability, "
        "performance, quality and oee (NULL where a denominator is 0).",
    ),
)

COLUMN_DOCS: dict[str, str] = {
    "site": "Site name from the plant config.",
    "area": "Area of the line.",
    "line": "Production line.",
    "machine": "Machine name within the line.",
    "day": "Production day: the plant-local date on which it starts (at calendar.day_start).",
    "calendar_time_s": "Length of the production day in seconds (82800 or 90000 on DST days).",
    "scheduled_time_s": "Shift time inside the day, seconds (shifts run on the working days they start on).",
    "break_time_s": "Planned breaks inside the shifts, seconds.",
    "not_scheduled_time_s": "Time outside breaks in shifts when the machine was not scheduled (no orders, ...).",
    "planned_production_time_s": "Scheduled time less breaks less not-scheduled time, seconds.",
    "run_time_s": "Running time inside planned production time, seconds.",
    "planned_stop_time_s": "Planned stops (changeover, cleaning) inside planned production time, seconds.",
    "unplanned_stop_time_s": "Unplanned stops inside planned production time, including time with no valid "
    "state (reason 'unknown'), seconds.",
    "ideal_cycle_time_s": "Ideal cycle time of the machine, seconds per unit.",
    "total_count": "Units counted inside planned production time.",
    "good_count": "Good units counted inside planned production time.",
    "reject_count": "Rejected units counted inside planned production time.",
    "availability": "run_time_s / planned_production_time_s.",
    "performance": "ideal_cycle_time_s * total_count / run_time_s.",
    "quality": "good_count / total_count.",
    "oee": "availability * performance * quality.",
}


def marts_path(lakehouse_root: str) -> Path:
    """Where the published marts file lives (a local lakehouse keeps it beside the tables)."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        raise NotImplementedError("publishing marts for a remote lakehouse is not supported yet")
    return Path(root.removeprefix("file://")) / MARTS_FILE


def dim_machine(config: PlantConfig) -> pa.Table:
    machines = config.machines
    return pa.table(
        {
            "site": pa.array([config.site] * len(machines), pa.string()),
            "area": pa.array([m.area for m in machines], pa.string()),
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "ideal_cycle_time_s": pa.array([m.ideal_cycle_time_s for m in machines], pa.float64()),
            "microstop_threshold_s": pa.array([m.microstop_threshold_s for m in machines], pa.float64()),
        }
    )


def read_sql(mart: Mart, sql_dir: Path = SQL_DIR) -> str:
    return (sql_dir / mart.sql_file).read_text(encoding="utf-8")


@contextmanager
def _publish_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def register_silver(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Expose the silver tables (only the given days, or all) to DuckDB under their own names."""
    for spec in SILVER_INPUTS:
        delta.register_table(
            con,
            spec.name,
            delta.table_uri(lakehouse_root, spec.name),
            spec,
            partitions=delta.date_partitions("day", days) if days is not None else None,
            storage_options=storage_options,
        )


def silver_days(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> list[dt.date]:
    """Every production day that silver holds a calendar for."""
    with delta.duckdb_session() as con:
        register_silver(con, lakehouse_root, None, storage_options)
        rows = con.sql("select distinct day from silver__plant_calendar order by 1").fetchall()
    return [r[0] for r in rows]


def publish_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    marts: Sequence[Mart] = MARTS,
    sql_dir: Path = SQL_DIR,
) -> dict[str, int]:
    """Rebuild the given production days of every mart and publish the file atomically.

    Returns the number of rows written per mart. A mart whose columns changed since the last publish
    is rebuilt for every day silver holds, so a new column never leaves old days half-filled.
    """
    target = marts_path(lakehouse_root)
    days = sorted(set(days))
    written: dict[str, int] = {}
    with _publish_lock(target):
        building = target.with_name(f".{target.name}.building-{os.getpid()}")
        building.unlink(missing_ok=True)
        if target.exists():
            shutil.copyfile(target, building)
        con = duckdb.connect(str(building))
        try:
            con.execute("SET TimeZone = 'UTC'").fetchall()
            con.execute("SET enable_progress_bar = false").fetchall()
            for mart in marts:
                written[mart.name] = _rebuild_mart(con, mart, lakehouse_root, config, days, storage_options, sql_dir)
            con.execute("CHECKPOINT").fetchall()
        finally:
            con.close()
        with open(building, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(building, target)
        _fsync_dir(target.parent)
    return written


def _rebuild_mart(
    con: duckdb.DuckDBPyConnection,
    mart: Mart,
    lakehouse_root: str,
    config: PlantConfig,
    days: list[dt.date],
    storage_options: dict[str, str] | None,
    sql_dir: Path,
) -> int:
    if not re.fullmatch(r"[a-z0-9_]+", mart.name):
        raise ValueError(f"not a mart name: {mart.name!r}")
    query = read_sql(mart, sql_dir)
    con.register("dim_machine", dim_machine(config))
    register_silver(con, lakehouse_root, days, storage_options)
    new_columns = [d[0] for d in con.sql(f"select * from ({query}) limit 0").description]
    existing = con.execute(
        "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
        [mart.name],
    ).fetchall()
    if existing and [r[0] for r in existing] != new_columns:
        # The mart's definition changed: rebuild it over every day silver holds.
        con.execute(f"drop table {mart.name}").fetchall()
        days = silver_days(lakehouse_root, storage_options)
        register_silver(con, lakehouse_root, days, storage_options)
        existing = []
    if not existing:
        con.execute(f"create table {mart.name} as select * from ({query}) limit 0").fetchall()
    con.execute("begin transaction").fetchall()
    con.execute(f"delete from {mart.name} where day in (select unnest(?::date[]))", [days]).fetchall()
    con.execute(f"insert into {mart.name} by name select * from ({query})").fetchall()
    con.execute("commit").fetchall()
    _describe(con, mart)
    count = con.execute(f"select count(*) from {mart.name} where day in (select unnest(?::date[]))", [days]).fetchall()[
        0
    ][0]
    for spec in SILVER_INPUTS:
        con.unregister(spec.name)
    con.unregister("dim_machine")
    return int(count)


def _describe(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    # COMMENT ON takes no bind parameters; the texts are ours, with quotes doubled.
    con.execute(f"comment on table {mart.name} is '{_quote(mart.description)}'").fetchall()
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_name = ?", [mart.name]
        ).fetchall()
    ]
    for column in columns:
        if column in COLUMN_DOCS:
            con.execute(f"comment on column {mart.name}.\"{column}\" is '{_quote(COLUMN_DOCS[column])}'").fetchall()


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
