"""Silver modelling: historian points to machine-state intervals and counter and meter increments.

Historians store on change: a value holds until the next point of that tag. So a production day's
first interval starts from the last state before the day began (carried across the partition edge),
and a day's first counter increment is measured from the last reading before it. Each model takes a
DuckDB connection on which a `points` relation (bronze columns) is registered with the tags and span
its `*_points` selection names, and returns Arrow.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.machines import Machine
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


_STATES_SQL = """
with pts as (
    select
        p.tag,
        p.ts,
        p.quality,
        case
            when p.value is not null and p.value = floor(p.value) and abs(p.value) < 1e15
                then cast(cast(p.value as bigint) as varchar)
            when p.value is not null then cast(p.value as varchar)
            else nullif(trim(p.value_text), '')
        end as code
    from points as p
    where p.tag in (select tag from state_tags)
),
no_history as (
    -- a machine with no state at or before the day's start is in an unknown state until its first point
    select t.tag, $day_start as ts, 'bad' as quality, null::varchar as code
    from state_tags as t
    where not exists (select 1 from pts where pts.tag = t.tag and pts.ts <= $day_start)
),
sequenced as (
    select * from pts
    union all select * from no_history
),
intervals as (
    select
        tag, ts as start, lead(ts) over (partition by tag order by ts) as "end", quality, code,
        min(ts) over (partition by tag) as first_ts
    from sequenced
),
mapped as (
    select
        t.line,
        t.machine,
        t.microstop_threshold_s,
        i.first_ts,
        i.start,
        i."end",
        case when i.quality = 'bad' or m.category is null then 'unplanned_stop' else m.category end as category,
        case when i.quality = 'bad' or m.category is null then $unknown else m.reason end as reason,
        case when i.quality = 'bad' then null else i.code end as state_code
    from intervals as i
    join state_tags as t on t.tag = i.tag
    left join state_map as m on m.tag = i.tag and m.code = i.code
),
marked as (
    select
        *,
        case
            when category = lag(category) over w
                and reason is not distinct from lag(reason) over w
                and state_code is not distinct from lag(state_code) over w
            then 0 else 1
        end as is_new
    from mapped
    window w as (partition by line, machine order by start)
),
grouped as (
    select *, sum(is_new) over (partition by line, machine order by start rows unbounded preceding) as run_id
    from marked
),
-- a run of the same state is one event, however many day edges and repeated points it spans. A run
-- that holds the tag's first point in the look-back, before the day began, started at an unknown
-- time before it (its event_start is only the earliest point seen): it is never a minor stop.
runs as (
    select
        line,
        machine,
        run_id,
        any_value(microstop_threshold_s) as threshold_s,
        category,
        reason,
        state_code,
        min(start) as event_start,
        case when bool_or("end" is null) then null else max("end") end as event_end,
        bool_or(start = first_ts and start < $day_start) as start_unseen
    from grouped
    group by line, machine, run_id, category, reason, state_code
),
final as (
    select
        $day as day,
        line,
        machine,
        greatest(event_start, $day_start) as start,
        least(coalesce(event_end, $day_end), $day_end) as "end",
        category,
        reason,
        state_code,
        event_start,
        event_end,
        coalesce(
            category = 'unplanned_stop'
            and not start_unseen
            and reason is distinct from $unknown
            and (epoch_us(event_end) - epoch_us(event_start)) / 1e6 < threshold_s,
            false
        ) as is_minor_stop
    from runs
    where event_start < $day_end and coalesce(event_end, $day_end) > $day_start
)
select *, (epoch_us("end") - epoch_us(start)) / 1e6 as duration_s
from final
where "end" > start
order by line, machine, start
"""


# A reading shows the pieces made since the reading before it, i.e. in (previous reading, this reading].
# So a reading belongs to the window it closes: one exactly at the day's start is the previous day's
# last, one exactly at day end is this day's. A day takes the readings in (day start, day end].
#
# A counter's increment is measured from its high: the largest reading since it last reset or wrapped.
# A reading at most `tolerance` counts below the high is jitter (a 'backstep'): it counts nothing, and
# nothing counts until the counter passes the high again, so 19688, 19687, 19690 is +2, not +19690.
# A reading further below the high is a reset or a wrap (told apart as before by the rate a wrap
# implies), after which its value is the new high. A reading that is no count (negative, fractional,
# not finite, text) is 'bad': listed with increment 0 and left out of the sequence.
#
# The high in force when the day begins comes from the look-back, which must supply the high since the
# last reset, not just the last reading. The high is never more than the tolerance above the latest
# reading, so after a reading more than twice the tolerance below the last one before the day, the next
# reading is a new high: the sequence starts there (two aggregates find it, without ordering the whole
# look-back), else at the look-back's first reading. A fall of more than the tolerance below the
# reading just before (a 'drop') is always a reset or wrap, as the high is never below that reading.
# Inside the run from one drop to the next, a reading may still fall more than the tolerance below the
# run's high one small step at a time; `breaks` finds those, one per pass, and needs no pass beyond
# the drops themselves unless a counter creeps back like that.
_INCREMENTS_SQL = """
with recursive valid as (
    select p.tag, p.ts, p.value, t.backstep_tolerance as tolerance
    from points as p
    join meter_tags as t on t.tag = p.tag
    where p.quality <> 'bad' and p.ts <= $day_end and not ({no_count})
),
last_before_day as (
    select tag, arg_max(value, ts) as value, any_value(tolerance) as tolerance
    from valid
    where ts <= $day_start
    group by tag
),
origin as (
    select l.tag, max(v.ts) as ts
    from last_before_day as l
    left join valid as v on v.tag = l.tag and v.ts <= $day_start and v.value < l.value - 2 * l.tolerance
    group by l.tag
),
sequence as (
    select
        v.*,
        row_number() over w as rn,
        coalesce(v.value < lag(v.value) over w - v.tolerance, true) as is_drop
    from valid as v
    left join origin as o on o.tag = v.tag
    where o.ts is null or v.ts > o.ts
    window w as (partition by v.tag order by v.ts)
),
drops as (
    select tag, rn, coalesce(lead(rn) over (partition by tag order by rn), 9223372036854775807) as run_end
    from sequence
    where is_drop
),
breaks(tag, rn, run_end) as (
    select tag, rn, run_end from drops
    union all
    select tag, min(rn), run_end
    from (
        select
            b.tag,
            b.rn as run_start,
            b.run_end,
            s.rn,
            s.value,
            s.tolerance,
            max(s.value) over (
                partition by b.tag, b.rn order by s.rn rows between unbounded preceding and 1 preceding
            ) as high
        from breaks as b
        join sequence as s on s.tag = b.tag and s.rn >= b.rn and s.rn < b.run_end
    )
    where value < high - tolerance
    group by tag, run_start, run_end
),
segmented as (
    -- a reading's segment: the breaks at or before it
    select
        s.*,
        b.rn is not null as is_break,
        count(b.rn) over (partition by s.tag order by s.rn rows unbounded preceding) as segment
    from sequence as s
    left join (select distinct tag, rn from breaks) as b on b.tag = s.tag and b.rn = s.rn
),
highs as (
    select *, max(value) over (partition by tag, segment order by rn rows unbounded preceding) as high
    from segmented
),
stepped as (
    -- a reading is measured from the high after the reading before it
    select tag, ts, value, is_break, lag(high) over w as prev, lag(ts) over w as prev_ts
    from highs
    window w as (partition by tag order by rn)
),
classified as (
    select
        s.*,
        t.line, t.machine, t.kind, t.rollover, t.max_rate,
        s.value + t.rollover - s.prev as wrapped,
        case
            when not s.is_break and s.value >= s.prev then 'count'
            when not s.is_break then 'backstep'
            when t.rollover is null or s.prev >= t.rollover or s.value >= t.rollover then 'reset'
            when t.max_rate is not null
                and s.value + t.rollover - s.prev
                    <= t.max_rate * (epoch_us(s.ts) - epoch_us(s.prev_ts)) / 1e6 + 1 then 'rollover'
            when t.max_rate is null and s.value + t.rollover - s.prev < t.rollover / 2 then 'rollover'
            else 'reset'
        end as event
    from stepped as s
    join meter_tags as t on t.tag = s.tag
    where s.prev is not null and s.ts > $day_start
),
counted as (
    select
        line,
        machine,
        kind,
        tag,
        ts,
        case event
            when 'count' then value - prev when 'backstep' then 0 when 'rollover' then wrapped else value
        end as increment,
        event
    from classified
),
bad as (
    select t.line, t.machine, t.kind, p.tag, p.ts, 0 as increment, 'bad' as event
    from points as p
    join meter_tags as t on t.tag = p.tag
    where p.quality <> 'bad' and p.ts > $day_start and p.ts <= $day_end and ({no_count})
),
final as (
    select $day as day, * from counted
    union all
    select $day as day, * from bad
)
select * from final order by line, machine, kind, ts
""".format(no_count="p.value is null or not isfinite(p.value) or p.value < 0 or p.value <> floor(p.value)")


# Energy: one SQL for the known kWh and the unknown spans, so that the marts read both from one rule.
_ENERGY_SQL = (Path(__file__).resolve().parents[2] / "sql" / "silver" / "energy_increments.sql").read_text(
    encoding="utf-8"
)


_SENSOR_SQL = """
with pts as (
    select tag, source, ts, value, quality
    from points
    where tag not in (select tag from model_tags) and (value is not null or quality = 'bad')
),
intervals as (
    select
        tag,
        source,
        ts as start,
        least(
            coalesce(lead(ts) over (partition by tag order by ts), $day_end),
            ts + to_microseconds(cast($max_gap_s * 1e6 as bigint))
        ) as "end",
        case when quality = 'bad' then null else value end as value,
        quality
    from pts
)
select
    $day as day,
    tag,
    source,
    greatest(start, $day_start) as start,
    least("end", $day_end) as "end",
    value,
    quality
from intervals
where start < $day_end and "end" > $day_start and least("end", $day_end) > greatest(start, $day_start)
order by tag, start
"""


# Every tag the model uses, and every other tag seen from the look-back to the day's end, is listed:
# a sensor that fell silent before the day shows 0 points and its coverage, not nothing. `points` holds
# the day's points; `points_before_day` each tag's first source and last point in the look-back, which
# is all the look-back adds: the last point before the day is the one whose value is held into it.
# A value holds until the next point (machine tags) or at most sensor_max_gap_s (other tags); the
# day's edges count as points for the gaps. One pass over the day's points, ordered once per tag.
_QUALITY_SQL = """
with stepped as (
    select
        tag,
        source,
        ts,
        quality,
        lead(ts) over (partition by tag order by ts) as next_ts,
        tag in (select tag from model_tags) as is_model_tag
    from points
    where ts >= $day_start and ts < $day_end
),
in_day as (
    select
        tag,
        min(source) as source,
        count(*) as points,
        count(*) filter (where quality = 'bad') as bad_points,
        count(*) filter (where quality = 'uncertain') as uncertain_points,
        epoch_us(min(ts)) - epoch_us($day_start) as lead_in_us,
        epoch_us($day_end) - epoch_us(max(ts)) as lead_out_us,
        max(epoch_us(next_ts) - epoch_us(ts)) as longest_inside_us,
        min(ts) as first_ts,
        coalesce(sum(
            epoch_us(least(
                coalesce(next_ts, $day_end),
                case when is_model_tag then $day_end else ts + to_microseconds($max_gap_us) end
            )) - epoch_us(ts)
        ) filter (where quality <> 'bad'), 0) as covered_us
    from stepped
    group by tag
),
carried_in as (
    -- the last value before the day holds into it until the day's first point, or for at most the gap
    select
        b.tag,
        greatest(
            epoch_us(least(
                coalesce(d.first_ts, $day_end),
                case when b.tag in (select tag from model_tags) then $day_end
                     else b.ts + to_microseconds($max_gap_us) end
            )) - epoch_us($day_start),
            0
        ) as covered_us
    from points_before_day as b
    left join in_day as d on d.tag = b.tag
    where b.quality <> 'bad'
),
seen as (
    select tag, min(source) as source
    from (
        select tag, source from in_day
        union all select tag, source from points_before_day
    )
    group by tag
),
tags as (
    select tag, source from seen
    union
    select tag, null as source from model_tags where tag not in (select tag from seen)
)
select
    $day as day,
    t.tag,
    t.source,
    coalesce(d.points, 0) as points,
    coalesce(d.bad_points, 0) as bad_points,
    coalesce(d.uncertain_points, 0) as uncertain_points,
    case
        when d.tag is null then epoch_us($day_end) - epoch_us($day_start)
        else greatest(d.lead_in_us, d.lead_out_us, coalesce(d.longest_inside_us, 0))
    end / 1e6 as longest_gap_s,
    (coalesce(d.covered_us, 0) + coalesce(c.covered_us, 0)) / 1e6 as covered_s,
    (epoch_us($day_end) - epoch_us($day_start)) / 1e6 as day_s
from tags as t
left join in_day as d on d.tag = t.tag
left join carried_in as c on c.tag = t.tag
order by t.tag
"""


def _bind(config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]) -> dict:
    return {"day": day, "day_start": window[0], "day_end": window[1]}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict, relations: dict[str, pa.Table]) -> pa.Table:
    for name, table in relations.items():
        con.register(name, table)
    try:
        return con.sql(sql, params=params).to_arrow_table()
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
        _SENSOR_SQL, params=_bind(config, day, window) | {"max_gap_s": config.sensor_max_gap_s}
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
