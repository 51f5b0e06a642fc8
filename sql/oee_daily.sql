-- oee_daily: one row per machine per production day.
--
-- Every second and every count belongs to the production day in which it happens.
-- scheduled time   = shift time inside the day (shifts started on working days)
-- planned prod.    = scheduled time - breaks - time the machine was `not_scheduled`
-- run time         = `running` time plus minor stops, inside planned production time
-- counts           = increments inside planned production time (the same window as run time)
-- availability = run / planned production; performance = ideal cycle time x total / run;
-- quality = good / total; oee = availability x performance x quality; NULL where a denominator is 0.
with
calendar_days as (
    select day, start as day_start, "end" as day_end, duration_s as calendar_time_s
    from silver__plant_calendar
    where kind = 'day' and day in (select unnest($days::date[]))
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

state_time as (
    select
        day,
        line,
        machine,
        sum(seconds) filter (where category = 'running' or is_minor_stop) as run_time_s,
        sum(seconds) filter (where is_minor_stop) as minor_stop_time_s,
        sum(seconds) filter (where category = 'planned_stop') as planned_stop_time_s,
        sum(seconds) filter (where category = 'unplanned_stop' and not is_minor_stop) as unplanned_stop_time_s,
        sum(seconds) filter (where reason = 'unknown') as unknown_state_time_s,
        sum(seconds) filter (where category = 'not_scheduled') as not_scheduled_time_s
    from stg_states_in_plan
    group by day, line, machine
),

counted as (
    select
        day,
        line,
        machine,
        sum(increment) filter (where kind = 'total') as total_raw,
        sum(increment) filter (where kind = 'good') as good_raw,
        sum(increment) filter (where kind = 'reject') as reject_raw
    from stg_counts_in_plan
    group by day, line, machine
),

-- data quality: the longest stretch of running (in planned production time) without a counter reading
counter_readings as (
    select day, line, machine, ts from silver__count_increments
    union
    select d.day, m.line, m.machine, d.day_start from calendar_days as d cross join dim_machine as m
    union
    select d.day, m.line, m.machine, d.day_end from calendar_days as d cross join dim_machine as m
),

counter_gaps as (
    select day, line, machine, lag(ts) over (partition by day, line, machine order by ts) as gap_start, ts as gap_end
    from counter_readings
),

silent_running as (
    select
        g.day,
        g.line,
        g.machine,
        max(g.running_s) as longest_silent_running_s
    from (
        select
            g.day, g.line, g.machine, g.gap_start,
            sum((epoch_us(least(g.gap_end, s."end")) - epoch_us(greatest(g.gap_start, s.start))) / 1e6) as running_s
        from counter_gaps as g
        join stg_states_in_plan as s
            on s.day = g.day and s.line = g.line and s.machine = g.machine
            and s.category = 'running' and s.start < g.gap_end and s."end" > g.gap_start
        where g.gap_start is not null
        group by g.day, g.line, g.machine, g.gap_start
    ) as g
    group by g.day, g.line, g.machine
),

counter_quality as (
    select
        q.day,
        t.line,
        t.machine,
        sum(q.bad_points) as bad_counter_points,
        sum(q.points) as counter_points
    from silver__tag_quality as q
    join dim_tag as t on t.tag = q.tag and t.role like '%_count'
    group by q.day, t.line, t.machine
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
        coalesce(st.not_scheduled_time_s, 0) as not_scheduled_time_s,
        coalesce(pt.planned_window_s, 0) - coalesce(st.not_scheduled_time_s, 0) as planned_production_time_s,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_stop_time_s, 0) as planned_stop_time_s,
        coalesce(st.unplanned_stop_time_s, 0) as unplanned_stop_time_s,
        coalesce(st.minor_stop_time_s, 0) as minor_stop_time_s,
        coalesce(st.unknown_state_time_s, 0) as unknown_state_time_s,
        -- any two of total, good and reject give the third; a configured counter without increments counted 0
        case when md.has_total then coalesce(c.total_raw, 0)
            else coalesce(c.good_raw, 0) + coalesce(c.reject_raw, 0) end as total_count,
        case when md.has_good then coalesce(c.good_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.reject_raw, 0) end as good_count,
        case when md.has_reject then coalesce(c.reject_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.good_raw, 0) end as reject_count,
        coalesce(sr.longest_silent_running_s, 0) as longest_silent_running_s,
        coalesce(cq.bad_counter_points, 0) as bad_counter_points,
        coalesce(cq.counter_points, 0) as counter_points
    from machine_days as md
    left join scheduled as sc on sc.day = md.day
    left join planned_time as pt on pt.day = md.day
    left join state_time as st on st.day = md.day and st.line = md.line and st.machine = md.machine
    left join counted as c on c.day = md.day and c.line = md.line and c.machine = md.machine
    left join silent_running as sr on sr.day = md.day and sr.line = md.line and sr.machine = md.machine
    left join counter_quality as cq on cq.day = md.day and cq.line = md.line and cq.machine = md.machine
),

ratios as (
    select
        *,
        ideal_cycle_time_s * total_count as ideal_time_s,
        run_time_s / nullif(planned_production_time_s, 0) as availability,
        ideal_cycle_time_s * total_count / nullif(run_time_s, 0) as performance,
        good_count / nullif(total_count, 0) as quality
    from times
),

flagged as (
    select
        *,
        concat_ws(
            '; ',
            case when unknown_state_time_s > greatest(60, 0.01 * planned_production_time_s)
                then 'no valid machine state for ' || round(unknown_state_time_s / 60, 1) || ' min' end,
            case when longest_silent_running_s > 1800
                then 'no counter reading for ' || round(longest_silent_running_s / 60, 1) || ' min while running' end,
            case when bad_counter_points > 0.05 * counter_points
                then bad_counter_points || ' of ' || counter_points || ' counter readings bad' end
        ) as quality_reasons
    from ratios
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
        minor_stop_time_s,
        unknown_state_time_s,
        ideal_cycle_time_s,
        total_count,
        good_count,
        reject_count,
        ideal_time_s,
        availability,
        performance,
        quality,
        availability * performance * quality as oee,
        planned_production_time_s - run_time_s as availability_loss_s,
        run_time_s - ideal_time_s as performance_loss_s,
        reject_count * ideal_cycle_time_s as quality_loss_s,
        good_count * ideal_cycle_time_s as fully_productive_time_s,
        unplanned_stop_time_s as breakdown_loss_s,
        planned_stop_time_s as setup_loss_s,
        minor_stop_time_s as minor_stop_loss_s,
        run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
        availability * performance * quality * planned_production_time_s / nullif(calendar_time_s, 0) as teep,
        planned_production_time_s / nullif(calendar_time_s, 0) as utilization,
        quality_reasons = '' as data_quality_ok,
        nullif(quality_reasons, '') as data_quality_reason
    from flagged
)

select * from final
order by line, machine, day
