"""Building the DuckDB marts from silver and publishing them atomically.

The published file `$LAKEHOUSE_ROOT/marts.duckdb` is never written in place: a copy is built aside,
the days being rebuilt are replaced in it, audited (sql/audit/marts_audit.sql), and only if they pass
is the copy renamed over the published file and are the days published to gold. An
analyst who holds the old file open keeps reading a complete version and never blocks the pipeline.
Publishers take a lock so that two runs never build from the same old copy and lose each other's days.

A lakehouse in object storage publishes `$LAKEHOUSE_ROOT/marts/marts.duckdb`: the file is built the same
way in a local cache folder (starting from the published copy) and then stored with one upload, which
readers see whole or not at all, never half-written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from . import delta, object_store, watermarks
from .locks import exclusive_lock
from .plant import PlantConfig
from .schemas import SILVER_DAY_TABLES, SILVER_PLANT_CALENDAR

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
AUDIT_SQL = Path("audit") / "marts_audit.sql"
# The audit's upper bound for performance. Up to 1.0 is physics; a little above it means the ideal cycle
# time or a counter is a little wrong, which the marts publish and data quality flags for the plant
# engineer. Half as fast again as the ideal machine cannot be a slightly wrong setting: such a day is not
# published.
PERFORMANCE_TOLERANCE = 1.5
MARTS_FILE = "marts.duckdb"
# The marts file is written in the storage format of DuckDB 1.4 (the long-term-support line many
# analysts still run), so DuckDB 1.4, 1.5 and newer (the duckdb command-line client on PyPI) open it.
STORAGE_VERSION = "v1.4.0"
SILVER_INPUTS = SILVER_DAY_TABLES  # the marts read every silver table


@dataclass(frozen=True)
class Mart:
    """A mart: its table name, the SQL file that builds it, what a rebuild replaces, and its description.

    scope "day" replaces the rows of the days being rebuilt, "month" the months they fall in, and
    "period" the day rows of those days and the week rows of their ISO weeks.
    """

    name: str
    sql_file: str
    description: str
    scope: str = "day"


STAGING: tuple[str, ...] = (
    "stg_planned_windows",
    "stg_states_in_plan",
    "stg_counts_in_plan",
    "stg_energy_by_state",
    "stg_oee_windows",
    "stg_oee_rollups",
)

# In build order: a mart may read the marts before it.
MARTS: tuple[Mart, ...] = (
    Mart(
        "oee_daily", "oee_daily.sql", "OEE per machine per production day, with the times, counts and losses behind it."
    ),
    Mart(
        "oee_shift",
        "oee_shift.sql",
        "OEE per machine per shift occurrence (a shift across midnight is one row).",
    ),
    Mart(
        "oee_line_daily",
        "oee_line_daily.sql",
        "OEE per line per production day: machine times summed, ratios recomputed through ideal time, the output "
        "machine's counts.",
    ),
    Mart(
        "oee_site_daily",
        "oee_site_daily.sql",
        "OEE per site per production day: machine times summed, ratios recomputed through ideal time, the lines' "
        "outputs summed.",
    ),
    Mart(
        "oee_line_shift",
        "oee_line_shift.sql",
        "OEE per line per shift occurrence: machine times summed, ratios recomputed through ideal time, the output "
        "machine's counts.",
    ),
    Mart(
        "downtime_events",
        "downtime_events.sql",
        "One row per stop; a stop across a day or shift edge is one event.",
    ),
    Mart(
        "downtime_pareto",
        "downtime_pareto.sql",
        "Stop seconds and events per reason per line and machine, per day and ISO week, ranked.",
        scope="period",
    ),
    Mart(
        "reliability_daily",
        "reliability_daily.sql",
        "Failures, MTBF and MTTR per machine per production day.",
    ),
    Mart(
        "reliability_monthly",
        "reliability_monthly.sql",
        "Failures, MTBF and MTTR per machine per calendar month.",
        scope="month",
    ),
    Mart(
        "energy_daily",
        "energy_daily.sql",
        "kWh per machine, line and site per day: running, stopped, idle, outside shifts.",
    ),
    Mart(
        "energy_shift",
        "energy_shift.sql",
        "kWh per machine, line and site per shift occurrence.",
    ),
    Mart(
        "sensor_hourly",
        "sensor_hourly.sql",
        "Condition-monitoring tags per hour: time-weighted mean, min, max, good share.",
    ),
    Mart(
        "data_quality_daily",
        "data_quality_daily.sql",
        "Per tag and day: points, bad share, longest gap, coverage.",
    ),
)

# Column descriptions written into the DuckDB file (COMMENT ON); "table.column" entries override.
COLUMN_DOCS: dict[str, str] = {
    "site": "Site name from the plant config.",
    "area": "Area of the line.",
    "line": "Production line.",
    "machine": "Machine name within the line (NULL on line and site roll-up rows).",
    "machines": "Machines summed into the row.",
    "level": "Roll-up level of the row: machine, line or site.",
    "day": "Production day: the plant-local date on which it starts (at calendar.day_start).",
    "shift_name": "Shift name from the plant config.",
    "shift_start": "Start of the shift occurrence (timestamp with time zone).",
    "shift_end": "End of the shift occurrence (timestamp with time zone).",
    "calendar_time_s": "Length of the production day (82800 or 90000 on DST days), or of the shift, in seconds.",
    "scheduled_time_s": "Shift time inside the window, seconds (shifts run on the working days they start on).",
    "break_time_s": "Planned breaks inside the shifts, seconds.",
    "not_scheduled_time_s": "Time in shifts, outside breaks, when the machine was not scheduled (no orders, ...).",
    "planned_production_time_s": "Scheduled time less breaks less not-scheduled time, seconds.",
    "run_time_s": "Running time inside planned production time, minor stops included, seconds.",
    "planned_stop_time_s": "Planned stops (changeover, cleaning) inside planned production time, seconds.",
    "unplanned_stop_time_s": "Unplanned stops that are not minor stops, inside planned production time, including "
    "time with no valid state (reason 'unknown'), seconds.",
    "minor_stop_time_s": "Unplanned stops shorter than the machine's microstop_threshold_s, seconds (in run time).",
    "unknown_state_time_s": "Time with no valid machine state (no data, bad quality, unmapped code), seconds.",
    "ideal_cycle_time_s": "Ideal cycle time of the machine, seconds per unit.",
    "total_count": "Units counted inside planned production time.",
    "good_count": "Good units counted inside planned production time.",
    "reject_count": "Rejected units counted inside planned production time.",
    "ideal_time_s": "Net run time: ideal cycle time x total count, seconds.",
    "availability": "run_time_s / planned_production_time_s.",
    "performance": "ideal_time_s / run_time_s (NULL where run time is 0).",
    "quality": "good_count / total_count (NULL where nothing was counted).",
    "oee": "fully_productive_time_s / planned_production_time_s, NULL only where planned production time is 0 "
    "(a machine stopped through planned time: 0); = availability x performance x quality where all three are defined.",
    "availability_loss_s": "planned_production_time_s - run_time_s.",
    "performance_loss_s": "run_time_s - ideal_time_s (minor stops and speed loss).",
    "quality_loss_s": "reject_count x ideal cycle time, seconds.",
    "fully_productive_time_s": "good_count x ideal cycle time, seconds.",
    "breakdown_loss_s": "Six big losses: unplanned stops (not minor), seconds.",
    "setup_loss_s": "Six big losses: planned stops (setup, changeover), seconds.",
    "minor_stop_loss_s": "Six big losses: minor stops, seconds.",
    "speed_loss_s": "Six big losses: performance loss less minor stops, seconds.",
    "teep": "fully_productive_time_s / calendar_time_s (= oee x utilization).",
    "utilization": "planned_production_time_s / calendar_time_s.",
    "data_quality_ok": "False when a number of the row rests on poor data (see data_quality_reason).",
    "data_quality_reason": "Why the data behind the row is poor: no valid state, silent counter, bad readings, "
    "a counter reset more than once, counter readings that are no count (negative, fractional), or performance "
    "above 1.01 (the ideal cycle time or the counts are wrong).",
    "start": "Start of the stop (timestamp with time zone).",
    "end": "End of the stop; NULL while it lasts.",
    "duration_s": "Length of the stop, seconds (until the last state seen while it lasts).",
    "in_planned_time_s": "Seconds of the stop in planned production time (shifts less breaks); the Pareto and "
    "the failures count only these.",
    "in_breaks_s": "Seconds of the stop in planned breaks.",
    "outside_shifts_s": "Seconds of the stop outside every shift (nights, weekends).",
    "not_modelled_yet_s": "Seconds of the stop on production days not modelled yet (its end was seen in the "
    "look-ahead); in_planned_time_s + in_breaks_s + outside_shifts_s + not_modelled_yet_s = duration_s.",
    "ongoing": "True while the stop has no end yet.",
    "category": "planned_stop, unplanned_stop or minor_stop.",
    "reason": "Reason from the plant config's state map; 'unknown' for time with no valid state.",
    "is_minor_stop": "An unplanned stop shorter than the machine's microstop_threshold_s.",
    "is_data_gap": "A stop recorded because there was no valid state (reason 'unknown'), not a failure.",
    "period": "day or week.",
    "period_start": "The production day, or the Monday of the ISO week.",
    "seconds": "Stop seconds of the reason in planned production time, of the stops starting in the period.",
    "events": "Stops of the reason with time in planned production time, starting in the period.",
    "share": "The reason's share of the period's stop seconds.",
    "cumulative_share": "Share of the period's stop seconds of this reason and every reason ranked above it.",
    "rank": "1 = the reason with the most stop seconds.",
    "failures": "Unplanned stops with time in planned production time that are neither minor stops nor data "
    "gaps, counted where they start; a stop through breaks or time outside shifts in one state is one failure.",
    "failure_time_s": "Seconds of those failures in planned production time.",
    "mtbf_s": "Mean time between failures: run_time_s / failures (NULL without a failure).",
    "mttr_s": "Mean time to repair: failure_time_s / failures (NULL without a failure).",
    "month": "First day of the calendar month of the production days.",
    "days": "Production days in the month.",
    "kwh_total": "Energy in kWh: the sum of the parts below (kwh_running, kwh_stopped, kwh_idle_scheduled, "
    "kwh_scheduled_no_state and, on day rows, kwh_outside_scheduled; a NULL part counts 0).",
    "kwh_running": "kWh while running (minor stops included) in planned production time. NULL on a monitoring "
    "asset (no state tag and counters), whose running and stopped times are unknown; on a line or site row the "
    "sum over its machines with OEE.",
    "kwh_stopped": "kWh during planned and unplanned stops in planned production time. NULL on a monitoring asset.",
    "kwh_idle_scheduled": "kWh inside shifts during breaks and not-scheduled time. NULL on a monitoring asset.",
    "kwh_scheduled_no_state": "kWh inside shifts of monitoring assets (no state tag and counters: a compressor, "
    "a meter), which no machine state splits into running, stopped and idle; 0 on a machine with OEE, the sum "
    "over its monitoring assets on a line or site row.",
    "kwh_outside_scheduled": "kWh outside every shift: nights, weekends.",
    "kwh_per_good_unit": "kwh_total / good_count (NULL without a good unit, and on a monitoring asset's row).",
    "energy_daily.good_count": "Good units: a machine row's own; a line row's, those of the line's output machine "
    "(plant YAML output_machine, default its last machine with OEE), never the sum over its machines; a site "
    "row's, the sum of its lines' outputs. NULL on a monitoring asset and on a line without a machine with OEE.",
    "energy_shift.good_count": "Good units: a machine row's own; a line row's, those of the line's output machine "
    "(plant YAML output_machine, default its last machine with OEE), never the sum over its machines; a site "
    "row's, the sum of its lines' outputs. NULL on a monitoring asset and on a line without a machine with OEE.",
    "tag": "Historian tag.",
    "source": "Source name from the plant config.",
    "hour": "The UTC hour (timestamp with time zone).",
    "mean": "Time-weighted mean of the valid values.",
    "min": "Smallest valid value.",
    "max": "Largest valid value.",
    "valid_s": "Seconds of the hour inside the day with a valid value in force.",
    "good_share": "Share of the hour with a good-quality value in force.",
    "points": "Points of the tag in the day.",
    "bad_share": "Share of the points with bad quality.",
    "uncertain_share": "Share of the points with uncertain quality.",
    "longest_gap_s": "Longest time without a point, day edges included, seconds.",
    "coverage": "Share of the day with a valid value in force.",
    "used_in_oee": "True when an OEE or energy number rests on the tag.",
    "role": "What the tag is for the machine: state, total_count, reject_count, energy_meter, ...",
    "energy_unknown_s": "Energy tags: seconds of the day whose energy is unknown: no reading stands for them (a "
    "power reading stands until the next, at most the max gap, the last of a series for one typical interval; "
    "an interval reading for its interval; a meter between two readings). NULL for other tags.",
    "energy_spread_s": "Energy tags: seconds of the day covered by a meter step across more than the max gap, "
    "whose kWh is known in total but not where it fell (spread evenly over the gap). NULL for other tags.",
    "energy_max_gap_s": "Energy tags: the longest a reading stood for that day: energy_max_gap_s from the plant "
    "config, else three typical reading intervals (the lower median spacing of the tag's readings in the day, "
    "its look-back and look-ahead). NULL for interval energy and a tag with fewer than two readings.",
    "energy_daily.data_quality_ok": "False when a kWh figure of the row rests on energy nobody measured: time "
    "with no reading standing for it (unknown, not counted) or a meter step spread over a gap (see "
    "data_quality_reason and data_quality_daily.energy_unknown_s).",
    "energy_daily.data_quality_reason": "Why the energy of the row is uncertain: minutes of unknown energy, kWh "
    "of a meter step spread over a gap; on line and site rows per machine.",
    "counter_resets": "Counter tags: readings more than counter_backstep_tolerance below the counter's high that "
    "the rate shows are no wrap (the reading's value counts). NULL on other tags.",
    "counter_wraps": "Counter tags: wraps at counter_rollover. NULL on other tags.",
    "counter_backsteps": "Counter tags: readings at most counter_backstep_tolerance below the counter's high: "
    "jitter, counting nothing until the counter passes its high again. NULL on other tags.",
    "bad_counter_readings": "Counter tags: readings of good or uncertain quality that are no count (negative, "
    "fractional, text), not counted. NULL on other tags.",
}

# Line and site rows sum machine times (machine-seconds) and recompute the ratios through ideal time; their
# counts are the output machine's, since a filler's bottles and a packer's packs do not add up.
_ROLLUP_DOCS: dict[str, str] = {
    "calendar_time_s": "Length of the window itself: the production day (86400; 82800 or 90000 on DST days) or "
    "the shift, seconds. Not a sum over machines (that is machine_calendar_time_s).",
    "machine_calendar_time_s": "calendar_time_s summed over the row's machines (machine-seconds): the denominator "
    "of teep and utilization.",
    "machine_scheduled_time_s": "Scheduled time summed over the row's machines (machine-seconds).",
    "planned_production_time_s": "Planned production time summed over the row's machines (machine-seconds).",
    "run_time_s": "Run time summed over the row's machines (machine-seconds).",
    "planned_stop_time_s": "Planned stop time summed over the row's machines (machine-seconds).",
    "unplanned_stop_time_s": "Unplanned stop time (not minor) summed over the row's machines (machine-seconds).",
    "minor_stop_time_s": "Minor stop time summed over the row's machines (machine-seconds).",
    "unknown_state_time_s": "Time with no valid state summed over the row's machines (machine-seconds).",
    "ideal_time_s": "Sum over the row's machines of total count x ideal cycle time, seconds.",
    "fully_productive_time_s": "Sum over the row's machines of good count x ideal cycle time, seconds.",
    "quality_loss_s": "Sum over the row's machines of reject count x ideal cycle time, seconds.",
    "output_total_count": "Units counted by the line's output machine (plant YAML output_machine, default the "
    "line's last machine); on a site row, the sum of its lines' outputs. Never the sum over all machines.",
    "output_good_count": "Good units of the line's output machine: the line's output (on a site row, the sum of "
    "its lines' outputs). The report's good units and energy_daily's line good_count.",
    "output_reject_count": "Rejected units of the line's output machine (on a site row, the sum over its lines).",
    "availability": "run_time_s / planned_production_time_s (NULL where nothing was planned).",
    "performance": "ideal_time_s / run_time_s: ideal time over run time summed over the machines (NULL where no "
    "machine ran).",
    "quality": "fully_productive_time_s / ideal_time_s: good units weighted by their ideal cycle time, so machines "
    "counting different things roll up (NULL where nothing was counted).",
    "oee": "fully_productive_time_s / planned_production_time_s, NULL only where nothing was planned; "
    "= availability x performance x quality where all three are defined.",
    "teep": "fully_productive_time_s / machine_calendar_time_s (= oee x utilization).",
    "utilization": "planned_production_time_s / machine_calendar_time_s.",
}
for _table in ("oee_line_daily", "oee_line_shift", "oee_site_daily"):
    COLUMN_DOCS.update({f"{_table}.{column}": doc for column, doc in _ROLLUP_DOCS.items()})


def marts_path(lakehouse_root: str) -> Path:
    """The local marts file: the published one beside the tables of a local lakehouse, or this
    machine's cached copy of a lakehouse in object storage (see `fetch_published_marts`)."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return marts_cache_dir(root) / MARTS_FILE
    return Path(root.removeprefix("file://")) / MARTS_FILE


def marts_uri(lakehouse_root: str) -> str:
    """Where the marts are published: the local file, or `$LAKEHOUSE_ROOT/marts/marts.duckdb`."""
    root = delta.normalise_root(lakehouse_root)
    if not delta.is_local(root):
        return f"{root}/marts/{MARTS_FILE}"
    return str(marts_path(root))


def marts_cache_dir(lakehouse_root: str) -> Path:
    """This machine's folder for the marts of a remote lakehouse ($XDG_CACHE_HOME/iiot-lakehouse/<root>)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iiot-lakehouse"
    digest = hashlib.sha256(delta.normalise_root(lakehouse_root).encode()).hexdigest()[:16]
    return base / f"marts-{digest}"


def fetch_published_marts(lakehouse_root: str, storage_options: dict[str, str] | None = None) -> Path:
    """The published marts as a local file: a remote lakehouse's file is downloaded into the cache
    (replacing the cached copy atomically), a local one is returned where it is."""
    target = marts_path(lakehouse_root)
    uri = marts_uri(lakehouse_root)
    if object_store.is_remote(uri) and object_store.exists(uri, storage_options or {}):
        object_store.download(uri, target, storage_options or {})
    return target


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


def read_sql(mart: Mart, sql_dir: Path = SQL_DIR) -> str:
    return (sql_dir / mart.sql_file).read_text(encoding="utf-8")


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
    """Every production day whose silver build finished: each silver table recorded it in the day's
    watermark. A day another run is building right now, or whose build was killed, is not one: marts
    built from it would read half a day. A lakehouse that keeps no watermark yet gives the days its
    silver holds a calendar for."""
    built = watermarks.built_silver_days(lakehouse_root, storage_options)
    if built is not None:
        return built
    with delta.duckdb_session() as con:
        register_silver(con, lakehouse_root, None, storage_options)
        rows = con.sql("select distinct day from silver__plant_calendar order by 1").fetchall()
    return [r[0] for r in rows]


def stale_days(
    lakehouse_root: str, config: PlantConfig, storage_options: dict[str, str] | None = None
) -> list[watermarks.StaleDay]:
    """The production days to rebuild by the day watermark, and why (`watermarks.stale_days`), with the
    published marts file itself checked: a file lost or deleted makes every built day stale."""
    uri = marts_uri(lakehouse_root)
    exists = object_store.exists(uri, storage_options or {}) if object_store.is_remote(uri) else Path(uri).is_file()
    return watermarks.stale_days(lakehouse_root, config, storage_options, marts_file_exists=exists)


def publish_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    marts: Sequence[Mart] = MARTS,
    sql_dir: Path = SQL_DIR,
) -> dict[str, int]:
    """Rebuild the given production days of every mart aside, audit them, and publish the file atomically.

    Silver is read for the days and their neighbours, so a shift or a stop across a day's edge is
    whole. Returns the rows of the rebuilt scope per mart. When a mart's columns changed since the
    last publish, every mart is rebuilt over every day silver holds, so no old day is left half-filled.

    The rebuilt days are audited in the copy built aside (`audit_marts`): only if every check passes does
    the copy replace the published file and gold take the days. Otherwise the copy is deleted, the
    published file and gold keep their previous numbers, and MartsAuditError names each problem.
    """
    target = marts_path(lakehouse_root)
    remote = object_store.is_remote(marts_uri(lakehouse_root))
    days = sorted(set(days))
    written: dict[str, int] = {}
    started_at = watermarks.now()  # silver written after this is not in these marts
    # The lock is a local file: for a remote lakehouse it orders the publishers of this machine, and the
    # Dagster pool `marts_publish` those of one instance.
    with exclusive_lock(target.with_suffix(".lock")):
        if remote:
            # build from what is published now, not from what this machine cached earlier
            target.unlink(missing_ok=True)
            fetch_published_marts(lakehouse_root, storage_options)
        building = target.with_name(f".{target.name}.building-{os.getpid()}")
        building.unlink(missing_ok=True)
        fresh = not (target.exists() and storage_version(target) == STORAGE_VERSION)
        if not fresh:
            shutil.copyfile(target, building)
        con = duckdb.connect(str(building), config={"storage_compatibility_version": STORAGE_VERSION})
        try:
            con.execute("SET TimeZone = 'UTC'").fetchall()
            con.execute("SET enable_progress_bar = false").fetchall()
            # one thread: floating-point sums then add in one order, so a rebuild is bit for bit the same
            con.execute("SET threads = 1").fetchall()
            _register_inputs(con, lakehouse_root, config, _with_neighbours(days), storage_options, sql_dir)
            if fresh or _definitions_changed(con, marts, sql_dir):
                # a new file (or one in an older storage format, or with changed marts): every day
                days = silver_days(lakehouse_root, storage_options)
                _register_inputs(con, lakehouse_root, config, None, storage_options, sql_dir)
                for mart in marts:
                    con.execute(f"drop table if exists {_checked(mart.name)}").fetchall()
            for mart in marts:
                written[mart.name] = _rebuild_mart(con, mart, days, sql_dir)
            # write, audit, publish: the copy aside replaces the published file only if its days pass
            problems = audit_marts(con, days, sql_dir)
            if not problems:
                con.execute("CHECKPOINT").fetchall()
        except BaseException:
            con.close()
            _discard(building)
            raise
        con.close()
        if problems:
            _discard(building)
            raise MartsAuditError(problems, days)
        with open(building, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(building, target)
        _fsync_dir(target.parent)
        if remote:
            object_store.upload(target, marts_uri(lakehouse_root), storage_options or {})
        publish_all_gold(target, lakehouse_root, marts, days, storage_options)
        watermarks.record_builds(
            lakehouse_root, "marts", watermarks.MARTS_TABLE, days, started_at, storage_options=storage_options
        )
    return written


@dataclass(frozen=True)
class AuditProblem:
    """One row of the marts audit (sql/audit/marts_audit.sql): what failed where, with the values."""

    day: dt.date
    level: str
    site: str | None
    line: str | None
    machine: str | None
    check: str
    detail: str

    @property
    def where(self) -> str:
        """The machine as `line/machine`, or `line <line>`, or `site <site>`."""
        if self.level == "machine":
            return f"{self.line}/{self.machine}"
        return f"line {self.line}" if self.level == "line" else f"site {self.site}"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.where}: {self.check}: {self.detail}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "day": self.day.isoformat(),
            "level": self.level,
            "site": self.site,
            "line": self.line,
            "machine": self.machine,
            "check": self.check,
            "detail": self.detail,
        }


class MartsAuditError(Exception):
    """The marts built for some days failed the audit and were not published; the published file and gold
    keep their previous numbers. The message's last line names the first problem's day, machine, check
    and values."""

    def __init__(self, problems: Sequence[AuditProblem], days: Sequence[dt.date]):
        self.problems = list(problems)
        self.days = list(days)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        failed_days = sorted({p.day for p in self.problems})
        head = (
            f"marts not published: {len(self.problems)} audit problem(s) on "
            f"{', '.join(d.isoformat() for d in failed_days)}"
            + (f" ({more} more not shown)" if more else "")
            + "; the published marts keep their previous numbers"
        )
        # the first problem comes last, where a one-line summary (the CLI, a log line) picks it up
        super().__init__("\n".join([head, *(str(p) for p in reversed(shown))]))


MAX_PROBLEMS_SHOWN = 20


def audit_marts(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[dt.date],
    sql_dir: Path = SQL_DIR,
    performance_tolerance: float = PERFORMANCE_TOLERANCE,
) -> list[AuditProblem]:
    """The audit's problems in the built marts (and their silver machine states) for the given days.

    An empty list means the days may be published."""
    query = (sql_dir / AUDIT_SQL).read_text(encoding="utf-8")
    rows = con.execute(query, {"days": list(days), "performance_tolerance": performance_tolerance}).fetchall()
    return [AuditProblem(*row) for row in rows]


def audit_published_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    sql_dir: Path = SQL_DIR,
) -> list[AuditProblem]:
    """The audit of the published marts (opened read-only) for the given days, against silver as it is now."""
    con = duckdb.connect(str(fetch_published_marts(lakehouse_root, storage_options)), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        register_silver(con, lakehouse_root, _with_neighbours(days), storage_options)
        return audit_marts(con, days, sql_dir)
    finally:
        con.close()


def _discard(building: Path) -> None:
    """Remove a copy built aside that is not to be published (and DuckDB's write-ahead log of it)."""
    building.unlink(missing_ok=True)
    building.with_name(building.name + ".wal").unlink(missing_ok=True)


def storage_version(marts_file: Path) -> str | None:
    """The storage format a DuckDB file was written with (e.g. 'v1.5.0')."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        rows = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    version = rows[0][0] if rows else None
    return version.rstrip("+") if version else None


def publish_all_gold(
    marts_file: Path,
    lakehouse_root: str,
    marts: Sequence[Mart],
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
) -> None:
    """Publish the rebuilt scope of every mart as Delta tables under gold/ (still under the publish lock)."""
    from .gold import publish_gold

    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        for mart in marts:
            publish_gold(
                con, lakehouse_root, _checked(mart.name), _SCOPES[mart.scope], {"days": list(days)}, storage_options
            )
    finally:
        con.close()


def _with_neighbours(days: Sequence[dt.date]) -> list[dt.date]:
    one = dt.timedelta(days=1)
    return sorted({d + k * one for d in days for k in (-1, 0, 1)})


def _checked(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a mart name: {name!r}")
    return name


def _register_inputs(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date] | None,
    storage_options: dict[str, str] | None,
    sql_dir: Path,
) -> None:
    """Silver (some days or all), the plant's dimensions, and the staging views the marts share."""
    from .modelling import model_tags_table

    register_silver(con, lakehouse_root, days, storage_options)
    # A stop may span days that neither the days rebuilt nor their neighbours cover (a week-long breakdown
    # rebuilt with the day it ended): downtime_events splits it on the calendar of every day, a few rows each.
    delta.register_table(
        con,
        "silver__plant_calendar_every_day",
        delta.table_uri(lakehouse_root, SILVER_PLANT_CALENDAR.name),
        SILVER_PLANT_CALENDAR,
        storage_options=storage_options,
    )
    con.register("dim_machine", dim_machine(config))
    con.register("dim_asset", dim_asset(config))
    con.register("dim_tag", model_tags_table(config))
    for view in STAGING:
        query = (sql_dir / "staging" / f"{view}.sql").read_text(encoding="utf-8")
        con.execute(f"create or replace temp view {_checked(view)} as {query}").fetchall()


def _definitions_changed(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], sql_dir: Path) -> bool:
    """Whether any existing mart table's columns differ from what its SQL now produces."""
    for mart in marts:
        existing = con.execute(
            "select column_name from information_schema.columns where table_name = ? and table_schema = 'main' "
            "order by ordinal_position",
            [mart.name],
        ).fetchall()
        if not existing:
            continue
        query = read_sql(mart, sql_dir)
        wanted = [d[0] for d in con.sql(f"select * from ({query}) limit 0", params={"days": []}).description]
        if [r[0] for r in existing] != wanted:
            return True
    return False


_SCOPES = {
    "day": "day in (select unnest($days::date[]))",
    "month": "month in (select distinct cast(date_trunc('month', d) as date) from (select unnest($days::date[]) as d))",
    "period": "(period = 'day' and period_start in (select unnest($days::date[]))) or (period = 'week' and "
    "period_start in (select distinct cast(date_trunc('week', d) as date) from (select unnest($days::date[]) as d)))",
}


def _rebuild_mart(con: duckdb.DuckDBPyConnection, mart: Mart, days: list[dt.date], sql_dir: Path) -> int:
    name = _checked(mart.name)
    query = read_sql(mart, sql_dir)
    params = {"days": days}
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = ? and table_schema = 'main'", [name]
    ).fetchall()[0][0]
    if not exists:
        con.execute(f"create table {name} as select * from ({query}) limit 0", params).fetchall()
    scope = _SCOPES[mart.scope]
    con.execute("begin transaction").fetchall()
    con.execute(f"delete from {name} where {scope}", params).fetchall()
    con.execute(f"insert into {name} by name select * from ({query})", params).fetchall()
    con.execute("commit").fetchall()
    _describe(con, mart)
    return int(con.execute(f"select count(*) from {name} where {scope}", params).fetchall()[0][0])


def _describe(con: duckdb.DuckDBPyConnection, mart: Mart) -> None:
    # COMMENT ON takes no bind parameters; the texts are ours, with quotes doubled.
    name = _checked(mart.name)
    con.execute(f"comment on table {name} is {delta.string_literal(mart.description)}").fetchall()
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_name = ? and table_schema = 'main'",
            [name],
        ).fetchall()
    ]
    for column in columns:
        doc = COLUMN_DOCS.get(f"{name}.{column}") or COLUMN_DOCS.get(column)
        if doc:
            con.execute(f'comment on column {name}."{column}" is {delta.string_literal(doc)}').fetchall()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
