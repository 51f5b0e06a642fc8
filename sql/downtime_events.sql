-- downtime_events: one row per stop (planned or unplanned, minor stops flagged). A stop that
-- crosses a day or shift edge stays one event; it belongs to the production day and the shift in
-- which it starts. `end` is NULL while the stop lasts (no later state seen yet).
-- A stop is taken as the production day in which it starts saw it: a stop already under way before
-- the earliest point a later day looks back to has a later apparent start in that day's silver, which
-- must not make a new stop (and a failure) appear on a day on which it did not begin.
with
pieces as (
    select day, line, machine, event_start, event_end, category, reason, is_minor_stop, "end"
    from silver__machine_states
    where category in ('planned_stop', 'unplanned_stop')
),

events as (
    select
        line,
        machine,
        event_start as start,
        max(event_end) as event_end,  -- a later day may know where a stop ended
        max("end") as seen_until,
        category,
        reason,
        bool_or(is_minor_stop) as is_minor_stop
    from pieces
    group by line, machine, event_start, category, reason
),

with_day as (
    select e.*, d.day
    from events as e
    join silver__plant_calendar as d
        on d.kind = 'day' and e.start >= d.start and e.start < d."end"
    where d.day in (select unnest($days::date[]))
        and exists (
            select 1 from pieces as p
            where p.day = d.day and p.line = e.line and p.machine = e.machine and p.event_start = e.start
                and p.category = e.category and p.reason is not distinct from e.reason
        )
),

with_shift as (
    select
        e.*,
        s.shift_name
    from with_day as e
    left join silver__plant_calendar as s
        on s.kind = 'shift' and e.start >= s.start and e.start < s."end"
),

final as (
    select
        m.site,
        m.area,
        e.line,
        e.machine,
        e.start,
        e.event_end as "end",
        (epoch_us(coalesce(e.event_end, e.seen_until)) - epoch_us(e.start)) / 1e6 as duration_s,
        e.event_end is null as ongoing,
        case when e.is_minor_stop then 'minor_stop' else e.category end as category,
        e.reason,
        e.is_minor_stop,
        e.reason = 'unknown' as is_data_gap,
        e.shift_name,
        e.day
    from with_shift as e
    join dim_machine as m on m.line = e.line and m.machine = e.machine
)

select * from final
order by line, machine, start
