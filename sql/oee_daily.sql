-- oee_daily: one row per machine per production day.
--
-- Every second and every count belongs to the production day in which it happens.
-- scheduled time   = shift time inside the day (shifts started on working days)
-- planned prod.    = scheduled time - breaks - time the machine was `not_scheduled`
-- run time         = `running` time inside planned production time
-- counts           = increments inside planned production time (the same window as run time)
-- availability = run / planned production; performance = ideal cycle time x total / run;
-- quality = good / total; oee = availability x performance x quality; NULL where a denominator is 0.
with
calendar_days as (
    select day, duration_s as calendar_time_s
    from silver__plant_calendar
    where kind = 'day'
),

scheduled as (
    select day, sum(duration_s) as scheduled_time_s
    from silver__plant_calendar
    where kind = 'shift'
    group by day
),

-- planned windows are the shifts less their breaks (overlapping breaks counted once)
planned_time as (
    select day, sum(duration_s) as planned_window_s
    from silver__plant_calendar
    where kind = 'planned'
    group by day
),

planned_windows as (
    select day, start, "end"
    from silver__plant_calendar
    where kind = 'planned'
),

-- machine states cut to the planned windows (shift time less breaks)
states_in_plan as (
    select
        s.day,
        s.line,
        s.machine,
        s.category,
        greatest(s.start, w.start) as start,
        least(s."end", w."end") as "end"
    from silver__machine_states as s
    join planned_windows as w
        on w.day = s.day and s.start < w."end" and s."end" > w.start
),

state_time as (
    select
        day,
        line,
        machine,
        sum(seconds) filter (where category = 'running') as run_time_s,
        sum(seconds) filter (where category = 'planned_stop') as planned_stop_time_s,
        sum(seconds) filter (where category = 'unplanned_stop') as unplanned_stop_time_s,
        sum(seconds) filter (where category = 'not_scheduled') as not_scheduled_time_s
    from (
        select *, (epoch_us("end") - epoch_us(start)) / 1e6 as seconds
        from states_in_plan
    )
    group by day, line, machine
),

-- increments counted while the machine was in planned production time
counted as (
    select
        c.day,
        c.line,
        c.machine,
        sum(c.increment) filter (where c.kind = 'total') as total_raw,
        sum(c.increment) filter (where c.kind = 'good') as good_raw,
        sum(c.increment) filter (where c.kind = 'reject') as reject_raw
    from silver__count_increments as c
    join states_in_plan as p
        on p.day = c.day
        and p.line = c.line
        and p.machine = c.machine
        and c.ts >= p.start
        and c.ts < p."end"
        and p.category <> 'not_scheduled'
    group by c.day, c.line, c.machine
),

machine_days as (
    select m.*, d.day, d.calendar_time_s
    from dim_machine as m
    cross join calendar_days as d
),

times as (
    select
        md.site,
        md.area,
        md.line,
        md.machine,
        md.day,
        md.ideal_cycle_time_s,
        md.calendar_time_s,
        coalesce(sc.scheduled_time_s, 0) as scheduled_time_s,
        coalesce(sc.scheduled_time_s, 0) - coalesce(pt.planned_window_s, 0) as break_time_s,
        coalesce(pt.planned_window_s, 0) - coalesce(st.not_scheduled_time_s, 0) as planned_production_time_s,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_stop_time_s, 0) as planned_stop_time_s,
        coalesce(st.unplanned_stop_time_s, 0) as unplanned_stop_time_s,
        coalesce(st.not_scheduled_time_s, 0) as not_scheduled_time_s,
        -- any two of total, good and reject give the third
        coalesce(c.total_raw, c.good_raw + c.reject_raw, 0) as total_count,
        coalesce(c.good_raw, c.total_raw - c.reject_raw, 0) as good_count,
        coalesce(c.reject_raw, c.total_raw - c.good_raw, 0) as reject_count
    from machine_days as md
    left join scheduled as sc on sc.day = md.day
    left join planned_time as pt on pt.day = md.day
    left join state_time as st on st.day = md.day and st.line = md.line and st.machine = md.machine
    left join counted as c on c.day = md.day and c.line = md.line and c.machine = md.machine
),

ratios as (
    select
        *,
        run_time_s / nullif(planned_production_time_s, 0) as availability,
        ideal_cycle_time_s * total_count / nullif(run_time_s, 0) as performance,
        good_count / nullif(total_count, 0) as quality
    from times
),

final as (
    select
        site,
        area,
        line,
        machine,
        day,
        calendar_time_s,
        scheduled_time_s,
        break_time_s,
        not_scheduled_time_s,
        planned_production_time_s,
        run_time_s,
        planned_stop_time_s,
        unplanned_stop_time_s,
        ideal_cycle_time_s,
        total_count,
        good_count,
        reject_count,
        availability,
        performance,
        quality,
        availability * performance * quality as oee
    from ratios
)

select * from final
order by line, machine, day
