"""What the marts' SQL reads, and where that SQL lives: the silver tables (some days or all), the plant's
dimension tables, the staging views the marts share and the OEE ratio macros, registered on a DuckDB
connection; and the production days silver has finished building."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.marts.plant_tables import (
    plant_changeover_rule,
    plant_changeover_target,
    plant_product,
    plant_shift,
    plant_site,
    plant_target,
)
from assets.plant.config import PlantConfig
from assets.plant.tags import model_tags_table, sensor_tags_table
from assets.silver import watermarks
from assets.storage import delta, delta_read
from assets.storage.schemas import SILVER_DAY_TABLES, SILVER_PLANT_CALENDAR
from assets.storage.sql_files import SQL_DIR

SILVER_INPUTS = SILVER_DAY_TABLES  # the marts read every silver table

STAGING: tuple[str, ...] = (
    "stg_planned_windows",
    "stg_changeovers",
    "stg_machine_states",
    "stg_states_in_plan",
    "stg_production_runs",
    "stg_states_by_product",
    "stg_counts_in_plan",
    "stg_energy_by_state",
    "stg_oee_windows",
    "stg_oee_rollups",
)
OEE_RATIOS_SQL = Path("staging") / "oee_ratios.sql"
# the table macro of the weekly and monthly OEE marts (over the daily marts, so bound when a mart calls it)
OEE_PERIODS_SQL = Path("staging") / "oee_periods.sql"


def checked_name(name: str) -> str:
    """A mart's or view's name, safe to write into SQL (lower-case letters, digits and underscores only)."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a mart name: {name!r}")
    return name


def dim_machine(config: PlantConfig) -> pa.Table:
    """The machines that have OEE (a state tag and counters): every OEE, stop and reliability mart is built
    over these. A monitoring asset (energy and sensors only) is in dim_asset, not here."""
    machines = config.oee_machines
    return pa.table(
        {
            "site": pa.array([config.site] * len(machines), pa.string()),
            "area": pa.array([m.area for m in machines], pa.string()),
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "ideal_cycle_time_s": pa.array([m.ideal_cycle_time_s for m in machines], pa.float64()),
            "microstop_threshold_s": pa.array([m.microstop_threshold_s for m in machines], pa.float64()),
            # which counters the machine has: the third of total, good and reject is derived
            "has_total": pa.array(["total" in m.counter_tags for m in machines], pa.bool_()),
            "has_good": pa.array(["good" in m.counter_tags for m in machines], pa.bool_()),
            "has_reject": pa.array(["reject" in m.counter_tags for m in machines], pa.bool_()),
            # a line's output is the good units of its output machine (plant YAML, default its last machine),
            # never the sum over machines that count different things (bottles, packs)
            "is_output_machine": pa.array([_is_output(config, m) for m in machines], pa.bool_()),
        }
    )


def dim_asset(config: PlantConfig) -> pa.Table:
    """Every machine of the plant, OEE machines and monitoring assets alike: the energy marts are built
    over these. `has_oee` is false for an asset without state and counters (its energy is not split by
    machine state); `has_energy` is false for one without an energy tag."""
    machines = config.machines
    return pa.table(
        {
            "site": pa.array([config.site] * len(machines), pa.string()),
            "area": pa.array([m.area for m in machines], pa.string()),
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "has_oee": pa.array([m.has_oee for m in machines], pa.bool_()),
            "has_energy": pa.array([bool(m.energy_tags) for m in machines], pa.bool_()),
            "is_output_machine": pa.array([_is_output(config, m) for m in machines], pa.bool_()),
        }
    )


def _is_output(config: PlantConfig, machine) -> bool:
    return any(line.name == machine.line and line.output_machine == machine.name for line in config.lines)


def register_silver(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Expose the silver tables (only the given days, or all) to DuckDB under their own names."""
    for spec in SILVER_INPUTS:
        delta_read.register_table(
            con,
            spec.name,
            delta.table_uri(lakehouse_root, spec.name),
            spec,
            partitions=delta_read.date_partitions("day", days) if days is not None else None,
            storage_options=storage_options,
        )


def silver_days(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> list[dt.date]:
    """Every production day whose silver build finished: each silver table recorded it in the day's
    watermark. A day another run is building right now, or whose build was killed, is not one: marts
    built from it would read half a day. A lakehouse that keeps no watermark yet gives the days its
    silver holds a calendar for."""
    built = watermarks.built_silver_days(lakehouse_root, storage_options)
    if built is not None:
        return built
    with delta_read.duckdb_session() as con:
        register_silver(con, lakehouse_root, None, storage_options)
        rows = con.sql("select distinct day from silver__plant_calendar order by 1").fetchall()
    return [r[0] for r in rows]


def with_neighbours(days: Sequence[dt.date]) -> list[dt.date]:
    """The days and the day before and after each: a shift or a stop across a day's edge is whole."""
    one = dt.timedelta(days=1)
    return sorted({d + k * one for d in days for k in (-1, 0, 1)})


def register_inputs(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None,
    sql_dir: Path,
) -> None:
    """Silver (some days or all), the plant's dimensions, and the staging views the marts share."""
    register_silver(con, lakehouse_root, days, storage_options)
    # A stop may span days that neither the days rebuilt nor their neighbours cover (a week-long breakdown
    # rebuilt with the day it ended): downtime_events splits it on the calendar of every day, a few rows each.
    delta_read.register_table(
        con,
        "silver__plant_calendar_every_day",
        delta.table_uri(lakehouse_root, SILVER_PLANT_CALENDAR.name),
        SILVER_PLANT_CALENDAR,
        storage_options=storage_options,
    )
    register_dimensions(con, config)
    register_staging(con, sql_dir, materialize=True)


def register_dimensions(con: duckdb.DuckDBPyConnection, config: PlantConfig) -> None:
    # plant__: the plant YAML as the marts read it (the marts dim_machine and dim_shift publish it)
    con.register("plant__machine", dim_machine(config))
    con.register("plant__asset", dim_asset(config))
    con.register("plant__tag", model_tags_table(config))
    con.register("plant__sensor_tag", sensor_tags_table(config))
    con.register("plant__shift", plant_shift(config))
    con.register("plant__site", plant_site(config))
    con.register("plant__target", plant_target(config))
    con.register("plant__product", plant_product(config))
    con.register("plant__changeover_target", plant_changeover_target(config))
    con.register("plant__changeover_rule", plant_changeover_rule(config))


def register_oee_ratios(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """The OEE ratio macros (availability, performance, quality, oee) as temporary macros of the connection:
    never stored in the marts file, and creatable on a read-only connection."""
    con.execute((sql_dir / OEE_RATIOS_SQL).read_text(encoding="utf-8")).fetchall()


def register_macros(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """The macros the marts call: the OEE ratios and the table macro of the weekly and monthly marts."""
    register_oee_ratios(con, sql_dir)
    con.execute((sql_dir / OEE_PERIODS_SQL).read_text(encoding="utf-8")).fetchall()


def register_staging(con: duckdb.DuckDBPyConnection, sql_dir: Path, materialize: bool = False) -> None:
    """The staging relations the marts share, as temporary views, or (`materialize`) as temporary tables
    computed once from the inputs registered now: a build reads each many times, from a dozen marts."""
    register_macros(con, sql_dir)
    kind = "table" if materialize else "view"
    for view in STAGING:
        query = (sql_dir / "staging" / f"{view}.sql").read_text(encoding="utf-8")
        name = checked_name(view)
        for (existing,) in con.execute(
            "select 'view' from duckdb_views() where view_name = $name and temporary "
            "union all select 'table' from duckdb_tables() where table_name = $name and temporary",
            {"name": name},
        ).fetchall():
            con.execute(f"drop {existing} {name}").fetchall()
        con.execute(f"create temp {kind} {name} as {query}").fetchall()
