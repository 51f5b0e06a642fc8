-- silver__energy_increments: a production day's energy per energy tag, as spans of time with a uniform
-- rate that tile the day: spans of known kWh, and spans where the energy is unknown (event 'unknown',
-- 0 kWh), so that an energy number never rests on energy that was invented, and the gaps show.
--
-- Reads `points` (the energy tags' bronze points over the look-back, the day and the look-ahead),
-- `tag_last_seen` (each energy tag's last point ever landed, from the tag catalog) and `energy_tags` (every configured energy tag: kind, meter rollover, interval length and label, the
-- configured max gap). Binds $day, $day_start, $day_end.
--
-- The rule (never extrapolate):
-- * A tag's typical reading interval is the lower median of the spacings between its consecutive
--   readings of any quality (a bad reading still shows when the logger read) among the points the day
--   reads; NULL with fewer than two readings. The lower median is a spacing that occurred, and a few
--   holes or bursts do not move it.
-- * Its max gap is energy_max_gap_s (the machine's, else modelling's), else three typical intervals.
-- * Power (kW): a valid reading stands until the tag's next reading, but at most the max gap: a reading
--   before a hole stands for the max gap, and the rest of the hole is unknown. The last reading of a
--   series, which no later reading closes yet (none has landed), stands for one typical
--   interval, never more than the max gap. A bad reading stands for nothing: its span is unknown. When a
--   later export continues the series and the day is rebuilt, the reading is closed by the next one.
-- * Interval energy: each valid reading covers its interval; time that no interval covers is unknown.
-- * Meter (kWh): a step between two valid readings is spread evenly between them. A step across more
--   than the max gap is known in total, not where it fell: it is still spread evenly over the gap (so
--   that sums over days are exact) but marked `spread`, and every day it touches is flagged in the marts.
--   A step of 0 kWh is known to be 0 throughout and is not marked. Time before the first and after the
--   last valid reading is unknown.
with
readings as (
    select
        p.tag,
        t.kind,
        p.ts,
        p.value,
        p.quality,
        lead(p.ts) over (partition by p.tag order by p.ts) as next_ts
    from points as p
    join energy_tags as t on t.tag = p.tag
),

typical_spacing as (
    select tag, quantile_disc(epoch_us(next_ts) - epoch_us(ts), 0.5) as typical_us
    from readings
    where next_ts > ts
    group by tag
),

tag_gaps as (
    select
        t.tag,
        t.kind,
        t.rollover,
        t.interval_s,
        t.label,
        s.typical_us,
        case
            when t.kind = 'interval' then null
            when t.max_gap_s is not null then cast(round(t.max_gap_s * 1e6) as bigint)
            else 3 * s.typical_us
        end as max_gap_us
    from energy_tags as t
    left join typical_spacing as s on s.tag = t.tag
),

power_segments as (
    select
        r.tag,
        'power' as kind,
        r.ts as start,
        case
            when epoch_us(r.next_ts) - epoch_us(r.ts) <= g.max_gap_us then r.next_ts
            -- a reading before a hole (the next reading is late, or lies beyond the look-ahead): the max gap
            when (r.next_ts is not null or r.ts < l.last_seen) and g.max_gap_us is not null
                then r.ts + to_microseconds(g.max_gap_us)
            -- least() skips NULLs: without a typical interval the reading stands for nothing
            when g.typical_us is null then r.ts
            -- the last reading of the series: one typical interval
            else r.ts + to_microseconds(least(g.typical_us, g.max_gap_us))
        end as "end",
        'count' as event,
        greatest(r.value, 0) as kw,
        false as spread
    from readings as r
    join tag_gaps as g on g.tag = r.tag
    left join tag_last_seen as l on l.tag = r.tag
    where r.kind = 'power' and r.quality <> 'bad' and r.value is not null
),

meter_steps as (
    select
        r.tag,
        lag(r.ts) over w as start,
        r.ts as "end",
        r.value,
        lag(r.value) over w as prev
    from readings as r
    where r.kind = 'meter' and r.quality <> 'bad' and r.value is not null
    window w as (partition by r.tag order by r.ts)
),

meter_events as (
    select
        s.tag,
        s.start,
        s."end",
        case
            when s.value >= s.prev then 'count'
            when g.rollover is not null and s.prev < g.rollover and s.value < g.rollover
                and s.value + g.rollover - s.prev < g.rollover / 2 then 'rollover'
            else 'reset'
        end as event,
        s.value,
        s.prev,
        g.rollover,
        epoch_us(s."end") - epoch_us(s.start) > g.max_gap_us as over_gap
    from meter_steps as s
    join tag_gaps as g on g.tag = s.tag
    where s.prev is not null
),

meter_segments as (
    select
        tag,
        'meter' as kind,
        start,
        "end",
        event,
        kwh,
        coalesce(over_gap and kwh > 0, false) as spread
    from (
        select
            *,
            case event
                when 'count' then value - prev
                when 'rollover' then value + rollover - prev
                else value
            end as kwh
        from meter_events
    )
),

interval_segments as (
    select
        r.tag,
        'interval' as kind,
        case g.label when 'end' then r.ts - to_microseconds(cast(g.interval_s * 1e6 as bigint)) else r.ts end
            as start,
        case g.label when 'end' then r.ts else r.ts + to_microseconds(cast(g.interval_s * 1e6 as bigint)) end
            as "end",
        'count' as event,
        greatest(r.value, 0) as kwh,
        false as spread
    from readings as r
    join tag_gaps as g on g.tag = r.tag
    where r.kind = 'interval' and r.quality <> 'bad' and r.value is not null
),

known as (
    select tag, kind, start, "end", event, kwh, spread from meter_segments
    union all
    select tag, kind, start, "end", event, kw * (epoch_us("end") - epoch_us(start)) / 3.6e9 as kwh, spread
    from power_segments
    union all
    select tag, kind, start, "end", event, kwh, spread from interval_segments
),

-- the unknown spans: the day's time that no known span covers. The day's edges are marks of no length,
-- so that a tag without a single reading is unknown all day, and the time before its first known span
-- and after its last is found like any gap between two spans.
marks as (
    select tag, start, "end" from known where "end" > start
    union all
    select tag, $day_start, $day_start from energy_tags
    union all
    select tag, $day_end, $day_end from energy_tags
),

reach as (
    select
        tag,
        start,
        max("end") over (
            partition by tag order by start, "end" rows between unbounded preceding and 1 preceding
        ) as covered_until
    from marks
),

unknown as (
    select
        r.tag,
        g.kind,
        greatest(r.covered_until, $day_start) as start,
        least(r.start, $day_end) as "end",
        'unknown' as event,
        0.0 as kwh,
        false as spread
    from reach as r
    join tag_gaps as g on g.tag = r.tag
    where r.start > r.covered_until
),

clipped as (
    -- a span over the day's edge keeps the share of its energy that falls inside the day
    select
        tag,
        kind,
        greatest(start, $day_start) as start,
        least("end", $day_end) as "end",
        kwh * (epoch_us(least("end", $day_end)) - epoch_us(greatest(start, $day_start)))
            / (epoch_us("end") - epoch_us(start)) as kwh,
        event,
        spread
    from known
    where "end" > start and start < $day_end and "end" > $day_start
    union all
    select tag, kind, start, "end", kwh, event, spread
    from unknown
    where "end" > start
),

final as (
    select
        $day as day,
        t.line,
        t.machine,
        c.tag,
        c.kind,
        c.start,
        c."end",
        c.kwh,
        c.event,
        c.spread,
        g.max_gap_us / 1e6 as max_gap_s
    from clipped as c
    join energy_tags as t on t.tag = c.tag
    join tag_gaps as g on g.tag = c.tag
)

select * from final
order by line, machine, tag, start
