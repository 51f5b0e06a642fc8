"""Silver count increments: the counter tags' readings turned into increments inside the day, through
wraps, resets and jitter.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.silver.modelling import as_utc, day_params, run_model
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_COUNT_INCREMENTS


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


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def count_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The counter tags, over the look-back (the last reading before the day) and the day's end."""
    return PointSelection(
        tags=tuple(tag for m in config.oee_machines for tag in m.counter_tags.values()), aliases=aliases.pairs
    )


def model_count_increments(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Counter increments inside the day, each at the time of the reading that showed it."""
    table = run_model(con, _INCREMENTS_SQL, day_params(config, day, window), {"meter_tags": counter_tags_table(config)})
    return SILVER_COUNT_INCREMENTS.conform(as_utc(table, ("ts",)))
