-- downtime_events: one row per stop (planned or unplanned, minor stops flagged). A stop that
-- crosses a day or shift edge stays one event; it belongs to the production day and the shift in
-- which it starts. `end` is NULL while the stop lasts (no later state seen yet).
-- A stop is taken as the production day in which it starts saw it: a stop already under way before
-- the earliest point a later day looks back to has a later apparent start in that day's silver, which
-- must not make a new stop (and a failure) appear on a day on which it did not begin.
-- Every second of a stop lies in exactly one of: planned production time (in_planned_time_s), a break
-- (in_breaks_s), outside every shift (outside_shifts_s), or a production day not modelled yet
-- (not_modelled_yet_s). A stop state is never a not-scheduled state, so a stop has no time in
-- not-scheduled time: its time in the planned windows is its time in planned production time. The
-- Pareto and the reliability marts count only in_planned_time_s: a jam shown through a break is no
-- failure, and time without a state at night is no stop of the Pareto.
-- The split reads the calendar of every modelled day (silver__plant_calendar_every_day), not only the
-- days being rebuilt: a week-long stop rebuilt with the day it ended spans days no rebuild registers.
-- States come through stg_machine_states: a stop inside a changeover is a planned stop of reason 'changeover'.
with
pieces as (
    select day, line, machine, event_start, event_end, category, reason, is_minor_stop, "end"
    from stg_machine_states
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

spans as (
    select *, coalesce(event_end, seen_until) as span_end
    from with_shift
),

-- microseconds of each stop in the day, shift, break and planned windows of every day it spans;
-- whole microseconds, so the parts add up to the duration exactly
calendar_parts as (
    select
        e.line,
        e.machine,
        e.start,
        e.category,
        e.reason,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'day')
            as in_days_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'shift')
            as in_shifts_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'break')
            as in_breaks_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start)))
            filter (where c.kind = 'planned') as in_planned_us
    from spans as e
    join silver__plant_calendar_every_day as c
        on c.start < e.span_end and c."end" > e.start
    group by e.line, e.machine, e.start, e.category, e.reason
),

split as (
    select
        e.*,
        epoch_us(e.span_end) - epoch_us(e.start) as duration_us,
        coalesce(p.in_planned_us, 0) as in_planned_us,
        coalesce(p.in_breaks_us, 0) as in_breaks_us,
        coalesce(p.in_days_us, 0) - coalesce(p.in_shifts_us, 0) as outside_shifts_us,
        epoch_us(e.span_end) - epoch_us(e.start) - coalesce(p.in_days_us, 0) as not_modelled_yet_us
    from spans as e
    left join calendar_parts as p
        on p.line = e.line and p.machine = e.machine and p.start = e.start and p.category = e.category
            and p.reason is not distinct from e.reason
),

final as (
    select
        m.site,
        m.area,
        e.line,
        e.machine,
        e.start,
        e.event_end as "end",
        e.duration_us / 1e6 as duration_s,
        e.in_planned_us / 1e6 as in_planned_time_s,
        e.in_breaks_us / 1e6 as in_breaks_s,
        e.outside_shifts_us / 1e6 as outside_shifts_s,
        e.not_modelled_yet_us / 1e6 as not_modelled_yet_s,
        e.event_end is null as ongoing,
        case when e.is_minor_stop then 'minor_stop' else e.category end as category,
        e.reason,
        e.is_minor_stop,
        e.reason = 'unknown' as is_data_gap,
        e.shift_name,
        e.day
    from split as e
    join plant__machine as m on m.line = e.line and m.machine = e.machine
)

select * from final
order by line, machine, start
