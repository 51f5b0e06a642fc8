"""Silver modelling: historian points to machine-state intervals and counter and meter increments.

Historians store on change: a value holds until the next point of that tag. So a production day's
first interval starts from the last state before the day began (carried across the partition edge),
and a day's first counter increment is measured from the last reading before it. Each function takes
a DuckDB connection on which a `points` relation (bronze columns) is registered, and returns Arrow.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from .plant import PlantConfig
from .schemas import SILVER_COUNT_INCREMENTS, SILVER_ENERGY_INCREMENTS, SILVER_MACHINE_STATES, UTC_TS

# Time with no valid state (no data, bad quality, a code not in the map) is an unplanned stop for
# reason "unknown": never running, so missing data can only make OEE look worse, not better.
UNKNOWN_REASON = "unknown"


def state_map_table(config: PlantConfig) -> pa.Table:
    """One row per machine and configured state code: the category and reason it means."""
    rows = [
        (m.line, m.name, m.state_tag, code, mapping.category, mapping.reason)
        for m in config.machines
        for code, mapping in m.states.items()
    ]
    names = ["line", "machine", "tag", "code", "category", "reason"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def state_tags_table(config: PlantConfig) -> pa.Table:
    machines = config.machines
    return pa.table(
        {
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "tag": pa.array([m.state_tag for m in machines], pa.string()),
        }
    )


def counter_tags_table(config: PlantConfig, energy: bool) -> pa.Table:
    """Counter (or energy meter) tags with their rollover and the fastest plausible rate per second.

    The rate tells a wrap from a reset: a wrap implies the counter advanced (rollover - prev + value)
    since the last reading, which must be physically possible in the time that passed.
    """
    rows = []
    for m in config.machines:
        if energy:
            if m.energy_kwh_tag:
                rows.append((m.line, m.name, "energy", m.energy_kwh_tag, m.energy_rollover, None))
        else:
            for kind, tag in m.counter_tags.items():
                rows.append((m.line, m.name, kind, tag, m.counter_rollover, 2.0 / m.ideal_cycle_time_s))
    return pa.table(
        {
            "line": pa.array([r[0] for r in rows], pa.string()),
            "machine": pa.array([r[1] for r in rows], pa.string()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
            "tag": pa.array([r[3] for r in rows], pa.string()),
            "rollover": pa.array([r[4] for r in rows], pa.float64()),
            "max_rate": pa.array([r[5] for r in rows], pa.float64()),
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
    where p.tag in (select tag from state_tags) and p.ts < $day_end
),
carried as (
    -- the state each machine was in when the day began
    select tag, $day_start as start, quality, code, 0 as ord
    from pts
    where ts < $day_start
    qualify row_number() over (partition by tag order by ts desc) = 1
),
no_history as (
    select t.tag, $day_start as start, 'bad' as quality, null as code, 0 as ord
    from state_tags as t
    where t.tag not in (select tag from carried)
),
changes as (
    select tag, ts as start, quality, code, 1 as ord from pts where ts >= $day_start
),
sequenced as (
    select * from carried
    union all select * from no_history
    union all select * from changes
),
intervals as (
    select
        tag, start, quality, code,
        coalesce(lead(start) over (partition by tag order by start, ord), $day_end) as "end"
    from sequenced
),
mapped as (
    select
        t.line,
        t.machine,
        i.start,
        i."end",
        case when i.quality = 'bad' or m.category is null then 'unplanned_stop' else m.category end as category,
        case when i.quality = 'bad' or m.category is null then $unknown else m.reason end as reason,
        case when i.quality = 'bad' then null else i.code end as state_code
    from intervals as i
    join state_tags as t on t.tag = i.tag
    left join state_map as m on m.tag = i.tag and m.code = i.code
    where i."end" > i.start
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
final as (
    select
        $day as day,
        line,
        machine,
        min(start) as start,
        max("end") as "end",
        (epoch_us(max("end")) - epoch_us(min(start))) / 1e6 as duration_s,
        category,
        reason,
        state_code
    from grouped
    group by line, machine, run_id, category, reason, state_code
)
select * from final order by line, machine, start
"""


_INCREMENTS_SQL = """
with pts as (
    select p.tag, p.ts, p.value
    from points as p
    where p.tag in (select tag from meter_tags)
        and p.quality <> 'bad' and p.value is not null and p.ts < $day_end
),
previous as (
    select * from pts where ts < $day_start
    qualify row_number() over (partition by tag order by ts desc) = 1
),
sequenced as (
    select * from previous
    union all select * from pts where ts >= $day_start
),
stepped as (
    select
        tag, ts, value,
        lag(value) over (partition by tag order by ts) as prev,
        lag(ts) over (partition by tag order by ts) as prev_ts
    from sequenced
),
classified as (
    select
        s.*,
        t.line, t.machine, t.kind, t.rollover, t.max_rate,
        s.value + t.rollover - s.prev as wrapped,
        case
            when s.value >= s.prev then 'count'
            when t.rollover is null or s.prev >= t.rollover or s.value >= t.rollover then 'reset'
            when t.max_rate is not null
                and s.value + t.rollover - s.prev
                    <= t.max_rate * (epoch_us(s.ts) - epoch_us(s.prev_ts)) / 1e6 + 1 then 'rollover'
            when t.max_rate is null and s.value + t.rollover - s.prev < t.rollover / 2 then 'rollover'
            else 'reset'
        end as event
    from stepped as s
    join meter_tags as t on t.tag = s.tag
    where s.prev is not null and s.ts >= $day_start
),
final as (
    select
        $day as day,
        line,
        machine,
        kind,
        tag,
        ts,
        case event when 'count' then value - prev when 'rollover' then wrapped else value end as increment,
        event
    from classified
)
select * from final order by line, machine, kind, ts
"""


def _bind(con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]):
    return {"day": day, "day_start": window[0], "day_end": window[1]}


def model_machine_states(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """State intervals of every configured machine that tile the production day exactly."""
    con.register("state_tags", state_tags_table(config))
    con.register("state_map", state_map_table(config))
    try:
        params = _bind(con, config, day, window) | {"unknown": UNKNOWN_REASON}
        table = con.sql(_STATES_SQL, params=params).to_arrow_table()
    finally:
        con.unregister("state_tags")
        con.unregister("state_map")
    return SILVER_MACHINE_STATES.conform(_utc(table, ("start", "end")))


def model_increments(
    con: duckdb.DuckDBPyConnection,
    config: PlantConfig,
    day: dt.date,
    window: tuple[dt.datetime, dt.datetime],
    energy: bool,
) -> pa.Table:
    """Counter or energy-meter increments inside the day, each at the time of the reading that showed it."""
    tags = counter_tags_table(config, energy=energy)
    con.register("meter_tags", tags)
    try:
        table = con.sql(_INCREMENTS_SQL, params=_bind(con, config, day, window)).to_arrow_table()
    finally:
        con.unregister("meter_tags")
    table = _utc(table, ("ts",))
    if energy:
        table = table.rename_columns(["kwh" if n == "increment" else n for n in table.column_names])
        return SILVER_ENERGY_INCREMENTS.conform(table)
    return SILVER_COUNT_INCREMENTS.conform(table)


def _utc(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    for name in columns:
        idx = table.column_names.index(name)
        table = table.set_column(idx, name, table[name].cast(UTC_TS))
    return table
