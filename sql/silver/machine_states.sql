-- machine_states: the day's state points of every machine with OEE (`points`, `state_tags`) as state intervals.
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
