"""Silver modelling: historian points to machine-state intervals and counter and meter increments.

Historians store on change: a value holds until the next point of that tag. So a production day's
first interval starts from the last state before the day began (carried across the partition edge),
and a day's first counter increment is measured from the last reading before it. Each model takes a
DuckDB connection on which a `points` relation (bronze columns) is registered with the tags and span
its `*_points` selection names, and returns Arrow.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import Machine, PlantConfig
from assets.plant.tags import model_tags_table
from assets.silver.points import LOOKAHEAD, PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_ENERGY_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_SENSOR_INTERVALS,
    SILVER_TAG_QUALITY,
    UTC_TS,
)
from assets.storage.sql_files import sql_file

# Time with no valid state (no data, bad quality, a code not in the map) is an unplanned stop for
# reason "unknown": never running, so missing data can only make OEE look worse, not better.
UNKNOWN_REASON = "unknown"


def state_map_table(config: PlantConfig) -> pa.Table:
    """One row per machine with OEE and configured state code: the category and reason it means."""
    rows = [
        (m.line, m.name, m.state_tag, code, mapping.category, mapping.reason)
        for m in config.oee_machines
        for code, mapping in m.states.items()
    ]
    names = ["line", "machine", "tag", "code", "category", "reason"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def state_tags_table(config: PlantConfig) -> pa.Table:
    """The state tag of every machine with OEE (a monitoring asset has none, and no state intervals)."""
    machines = config.oee_machines
    return pa.table(
        {
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "tag": pa.array([m.state_tag for m in machines], pa.string()),
            "microstop_threshold_s": pa.array([m.microstop_threshold_s for m in machines], pa.float64()),
        }
    )


def energy_tags_table(config: PlantConfig) -> pa.Table:
    """Energy tags by kind: cumulative meter (with rollover), power in kW, or interval energy, with the
    configured max gap (NULL: three typical reading intervals of the tag)."""
    rows = []
    for m in config.machines:
        for kind, tag in m.energy_tags.items():
            rows.append(
                (
                    m.line,
                    m.name,
                    kind,
                    tag,
                    m.energy_rollover,
                    m.energy_interval_s,
                    m.energy_interval_label,
                    energy_max_gap_s(config, m),
                )
            )
    names = ["line", "machine", "kind", "tag", "rollover", "interval_s", "label", "max_gap_s"]
    types = [pa.string()] * 4 + [pa.float64(), pa.float64(), pa.string(), pa.float64()]
    return pa.table({n: pa.array([r[i] for r in rows], types[i]) for i, n in enumerate(names)})


def energy_max_gap_s(config: PlantConfig, machine: Machine) -> float | None:
    """The longest a reading of the machine's energy tag may stand for: the machine's
    energy_max_gap_s, else modelling's; None leaves it to three typical reading intervals of the tag."""
    return machine.energy_max_gap_s if machine.energy_max_gap_s is not None else config.energy_max_gap_s


def counter_tags_table(config: PlantConfig) -> pa.Table:
    """Counter tags with their rollover, the fastest plausible rate per second and the back-step tolerance.

    The rate tells a wrap from a reset: a wrap implies the counter advanced (rollover - prev + value)
    since the last reading, which must be physically possible in the time that passed (twice the
    ideal rate leaves room for an ideal cycle time set a little slow). A step back of at most the
    tolerance is jitter, not a reset.
    """
    rows = [
        (m.line, m.name, kind, tag, m.counter_rollover, 2.0 / m.ideal_cycle_time_s, m.counter_backstep_tolerance)
        for m in config.oee_machines
        for kind, tag in m.counter_tags.items()
    ]
    return pa.table(
        {
            "line": pa.array([r[0] for r in rows], pa.string()),
            "machine": pa.array([r[1] for r in rows], pa.string()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
            "tag": pa.array([r[3] for r in rows], pa.string()),
            "rollover": pa.array([r[4] for r in rows], pa.float64()),
            "max_rate": pa.array([r[5] for r in rows], pa.float64()),
            "backstep_tolerance": pa.array([r[6] for r in rows], pa.float64()),
        }
    )


# The models' SQL (sql/silver/), read once; energy in one file for the known kWh and the unknown spans,
# so that the marts read both from one rule.
_STATES_SQL = "silver/machine_states.sql"
_INCREMENTS_SQL = "silver/count_increments.sql"
_ENERGY_SQL = "silver/energy_increments.sql"
_SENSOR_SQL = "silver/sensor_intervals.sql"
_QUALITY_SQL = "silver/tag_quality.sql"


def _bind(config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]) -> dict:
    return {"day": day, "day_start": window[0], "day_end": window[1]}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict, relations: dict[str, pa.Table]) -> pa.Table:
    for name, table in relations.items():
        con.register(name, table)
    try:
        return con.sql(sql_file(sql), params=params).to_arrow_table()
    finally:
        for name in relations:
            con.unregister(name)


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def machine_state_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The state tags, over the whole look-back: a stop's start may lie days before the day."""
    return PointSelection(tags=tuple(m.state_tag for m in config.oee_machines), aliases=aliases.pairs)


def count_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The counter tags, over the look-back (the last reading before the day) and the day's end."""
    return PointSelection(
        tags=tuple(tag for m in config.oee_machines for tag in m.counter_tags.values()), aliases=aliases.pairs
    )


def energy_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The energy tags, over the look-back and the look-ahead (a meter interval over the day's end).

    Both reach at least the longest configured energy_max_gap_s, so that a reading the next one closes
    within the max gap is seen closed, and the reading held into the day is found."""
    gaps = [g for m in config.machines if m.energy_tags and (g := energy_max_gap_s(config, m)) is not None]
    widest = dt.timedelta(seconds=max(gaps, default=0.0))
    return PointSelection(
        tags=tuple(tag for m in config.machines for tag in m.energy_tags.values()),
        lookback=max(dt.timedelta(days=config.state_lookback_days), widest),
        lookahead=max(LOOKAHEAD, widest),
        last_seen=True,
        aliases=aliases.pairs,
    )


def sensor_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """Every tag the machine model does not use, nor an earlier name of one, from sensor_max_gap_s
    before the day to its end: a value holds at most that long, so an earlier point cannot reach into
    the day."""
    return PointSelection(
        except_tags=tuple(model_tags_table(config)["tag"].to_pylist()),
        lookback=dt.timedelta(seconds=config.sensor_max_gap_s),
        lookahead=dt.timedelta(0),
        held=False,
        aliases=aliases.pairs,
    )


def tag_quality_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """Every tag, over the day alone, and from the look-back each tag's source and last point
    (`points_before_day`): all that the look-back adds to a day's tag quality."""
    return PointSelection(
        lookback=dt.timedelta(0), lookahead=dt.timedelta(0), held=False, before_day=True, aliases=aliases.pairs
    )


def model_machine_states(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """State intervals of every machine with OEE that tile the production day exactly."""
    table = _run(
        con,
        _STATES_SQL,
        _bind(config, day, window) | {"unknown": UNKNOWN_REASON},
        {"state_tags": state_tags_table(config), "state_map": state_map_table(config)},
    )
    return SILVER_MACHINE_STATES.conform(_utc(table, ("start", "end", "event_start", "event_end")))


def model_count_increments(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Counter increments inside the day, each at the time of the reading that showed it."""
    table = _run(con, _INCREMENTS_SQL, _bind(config, day, window), {"meter_tags": counter_tags_table(config)})
    return SILVER_COUNT_INCREMENTS.conform(_utc(table, ("ts",)))


def model_energy(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Energy segments (kWh over a span of time) that tile the day per energy tag, from meters, power
    readings or intervals, and the spans whose energy is unknown (sql/silver/energy_increments.sql)."""
    table = _run(con, _ENERGY_SQL, _bind(config, day, window), {"energy_tags": energy_tags_table(config)})
    return SILVER_ENERGY_INCREMENTS.conform(_utc(table, ("start", "end")))


# Sensor intervals per batch: a 50-machine plant's 1 Hz sensors make about 17 M intervals a day, which
# stream from DuckDB to the Delta writer instead of being held whole.
SENSOR_BATCH_ROWS = 250_000


def model_sensor_intervals(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.RecordBatchReader:
    """Step-held intervals of every numeric tag the machine model does not use (condition monitoring),
    as a stream of batches in the table's schema, read while the connection is open."""
    # registered for as long as the connection lives: the stream reads it until its last batch
    con.register("model_tags", model_tags_table(config))
    reader = con.sql(
        sql_file(_SENSOR_SQL), params=_bind(config, day, window) | {"max_gap_s": config.sensor_max_gap_s}
    ).to_arrow_reader(batch_size=SENSOR_BATCH_ROWS)
    return pa.RecordBatchReader.from_batches(
        SILVER_SENSOR_INTERVALS.arrow_schema, (SILVER_SENSOR_INTERVALS.conform_batch(b) for b in reader)
    )


def model_tag_quality(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Per tag: points, bad and uncertain points, longest gap and covered seconds of the day.

    Reads the day's `points` (see tag_quality_points) and `points_before_day`."""
    table = _run(
        con,
        _QUALITY_SQL,
        _bind(config, day, window) | {"max_gap_us": round(config.sensor_max_gap_s * 1e6)},
        {"model_tags": model_tags_table(config)},
    )
    return SILVER_TAG_QUALITY.conform(table)


def _utc(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    for name in columns:
        idx = table.column_names.index(name)
        table = table.set_column(idx, name, table[name].cast(UTC_TS))
    return table
