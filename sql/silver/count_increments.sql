-- count_increments: the day's counter readings as increments, and the readings that are no count.
--
-- A reading shows the pieces made since the reading before it, i.e. in (previous reading, this reading].
-- So a reading belongs to the window it closes: one exactly at the day's start is the previous day's
-- last, one exactly at day end is this day's. A day takes the readings in (day start, day end].
--
-- A counter's increment is measured from its high: the largest reading since it last reset or wrapped.
-- A reading at most `tolerance` counts below the high is jitter (a 'backstep'): it counts nothing, and
-- nothing counts until the counter passes the high again, so 19688, 19687, 19690 is +2, not +19690.
-- A reading further below the high is a reset or a wrap (told apart as before by the rate a wrap
-- implies), after which its value is the new high. A reading that is no count (negative, fractional,
-- not finite, text) is 'bad': listed with increment 0 and left out of the sequence.
--
-- The high in force when the day begins comes from the look-back, which must supply the high since the
-- last reset, not just the last reading. The high is never more than the tolerance above the latest
-- reading, so after a reading more than twice the tolerance below the last one before the day, the next
-- reading is a new high: the sequence starts there (two aggregates find it, without ordering the whole
-- look-back), else at the look-back's first reading. A fall of more than the tolerance below the
-- reading just before (a 'drop') is always a reset or wrap, as the high is never below that reading.
-- Inside the run from one drop to the next, a reading may still fall more than the tolerance below the
-- run's high one small step at a time; `breaks` finds those, one per pass, and needs no pass beyond
-- the drops themselves unless a counter creeps back like that.
with recursive valid as (
    select p.tag, p.ts, p.value, t.backstep_tolerance as tolerance
    from points as p
    join meter_tags as t on t.tag = p.tag
    where p.quality <> 'bad' and p.ts <= $day_end and not (p.value is null or not isfinite(p.value) or p.value < 0 or p.value <> floor(p.value))
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
    where p.quality <> 'bad' and p.ts > $day_start and p.ts <= $day_end and (p.value is null or not isfinite(p.value) or p.value < 0 or p.value <> floor(p.value))
),
final as (
    select $day as day, * from counted
    union all
    select $day as day, * from bad
)
select * from final order by line, machine, kind, ts
