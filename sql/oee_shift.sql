-- oee_shift: one row per machine per shift occurrence. A shift across midnight (or across the
-- production day's edge) is one row; `day` is the production day in which it starts.
-- Same definitions as oee_daily, with the shift occurrence as the window:
-- calendar time = the shift's length, scheduled time = the shift, planned = the shift less breaks.
with
occurrences as (
    select
        shift_name,
        shift_start,
        shift_end,
        min(day) filter (where start = shift_start) as day,
        sum(duration_s) as scheduled_time_s
    from silver__plant_calendar
    where kind = 'shift'
    group by shift_name, shift_start, shift_end
),

wanted as (
    select *, (epoch_us(shift_end) - epoch_us(shift_start)) / 1e6 as calendar_time_s
    from occurrences
    where day in (select unnest($days::date[]))
),

planned_time as (
    select shift_start, sum(duration_s) as planned_window_s
    from silver__plant_calendar
    where kind = 'planned'
    group by shift_start
),

state_time as (
    select
        shift_start,
        line,
        machine,
        sum(seconds) filter (where category = 'running' or is_minor_stop) as run_time_s,
        sum(seconds) filter (where is_minor_stop) as minor_stop_time_s,
        sum(seconds) filter (where category = 'planned_stop') as planned_stop_time_s,
        sum(seconds) filter (where category = 'unplanned_stop' and not is_minor_stop) as unplanned_stop_time_s,
        sum(seconds) filter (where reason = 'unknown') as unknown_state_time_s,
        sum(seconds) filter (where category = 'not_scheduled') as not_scheduled_time_s
    from stg_states_in_plan
    group by shift_start, line, machine
),

counted as (
    select
        shift_start,
        line,
        machine,
        sum(increment) filter (where kind = 'total') as total_raw,
        sum(increment) filter (where kind = 'good') as good_raw,
        sum(increment) filter (where kind = 'reject') as reject_raw
    from stg_counts_in_plan
    group by shift_start, line, machine
),

times as (
    select
        m.site,
        m.area,
        m.line,
        m.machine,
        w.day,
        w.shift_name,
        w.shift_start,
        w.shift_end,
        m.ideal_cycle_time_s,
        w.calendar_time_s,
        w.scheduled_time_s,
        w.scheduled_time_s - coalesce(pt.planned_window_s, 0) as break_time_s,
        coalesce(st.not_scheduled_time_s, 0) as not_scheduled_time_s,
        coalesce(pt.planned_window_s, 0) - coalesce(st.not_scheduled_time_s, 0) as planned_production_time_s,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_stop_time_s, 0) as planned_stop_time_s,
        coalesce(st.unplanned_stop_time_s, 0) as unplanned_stop_time_s,
        coalesce(st.minor_stop_time_s, 0) as minor_stop_time_s,
        coalesce(st.unknown_state_time_s, 0) as unknown_state_time_s,
        -- any two of total, good and reject give the third; a configured counter without increments counted 0
        case when m.has_total then coalesce(c.total_raw, 0)
            else coalesce(c.good_raw, 0) + coalesce(c.reject_raw, 0) end as total_count,
        case when m.has_good then coalesce(c.good_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.reject_raw, 0) end as good_count,
        case when m.has_reject then coalesce(c.reject_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.good_raw, 0) end as reject_count
    from wanted as w
    cross join dim_machine as m
    left join planned_time as pt on pt.shift_start = w.shift_start
    left join state_time as st on st.shift_start = w.shift_start and st.line = m.line and st.machine = m.machine
    left join counted as c on c.shift_start = w.shift_start and c.line = m.line and c.machine = m.machine
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

final as (
    select
        site,
        area,
        line,
        machine,
        day,
        shift_name,
        shift_start,
        shift_end,
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
        planned_production_time_s / nullif(calendar_time_s, 0) as utilization
    from ratios
)

select * from final
order by line, machine, shift_start
