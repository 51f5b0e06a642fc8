-- stg_oee_windows: the OEE times, counts, ratios and losses of every machine over two kinds of window:
-- each production day (window_kind 'day') and each shift occurrence (window_kind 'shift', whose `day`
-- is the production day in which it starts; a shift across the day's edge is one window).
with
day_windows as (
    select
        'day' as window_kind,
        day,
        null::varchar as shift_name,
        null::timestamptz as shift_start,
        null::timestamptz as shift_end,
        duration_s as calendar_time_s
    from silver__plant_calendar
    where kind = 'day'
),

shift_windows as (
    select
        'shift' as window_kind,
        min(day) filter (where start = shift_start) as day,
        shift_name,
        shift_start,
        shift_end,
        (epoch_us(shift_end) - epoch_us(shift_start)) / 1e6 as calendar_time_s
    from silver__plant_calendar
    where kind = 'shift'
    group by shift_name, shift_start, shift_end
),

windows as (
    select * from day_windows
    union all
    select * from shift_windows
),

-- calendar seconds per window: shifts and planned pieces (the shifts less their breaks)
calendar_time as (
    select 'day' as window_kind, day, null::timestamptz as shift_start,
        sum(duration_s) filter (where kind = 'shift') as scheduled_time_s,
        sum(duration_s) filter (where kind = 'planned') as planned_window_s
    from silver__plant_calendar
    group by day
    union all
    select 'shift', null, shift_start,
        sum(duration_s) filter (where kind = 'shift'),
        sum(duration_s) filter (where kind = 'planned')
    from silver__plant_calendar
    where shift_start is not null
    group by shift_start
),

state_pieces as (
    select 'day' as window_kind, day, null::timestamptz as shift_start, * exclude (day, shift_start)
    from stg_states_in_plan
    union all
    select 'shift', null, shift_start, * exclude (day, shift_start)
    from stg_states_in_plan
),

state_time as (
    select
        window_kind,
        day,
        shift_start,
        line,
        machine,
        sum(seconds) filter (where category = 'running' or is_minor_stop) as run_time_s,
        sum(seconds) filter (where is_minor_stop) as minor_stop_time_s,
        sum(seconds) filter (where category = 'planned_stop') as planned_stop_time_s,
        sum(seconds) filter (where category = 'unplanned_stop' and not is_minor_stop) as unplanned_stop_time_s,
        sum(seconds) filter (where reason = 'unknown') as unknown_state_time_s,
        sum(seconds) filter (where category = 'not_scheduled') as not_scheduled_time_s
    from state_pieces
    group by all
),

count_pieces as (
    select 'day' as window_kind, day, null::timestamptz as shift_start, line, machine, kind, increment
    from stg_counts_in_plan
    union all
    select 'shift', null, shift_start, line, machine, kind, increment
    from stg_counts_in_plan
),

counted as (
    select
        window_kind,
        day,
        shift_start,
        line,
        machine,
        sum(increment) filter (where kind = 'total') as total_raw,
        sum(increment) filter (where kind = 'good') as good_raw,
        sum(increment) filter (where kind = 'reject') as reject_raw
    from count_pieces
    group by all
),

times as (
    select
        m.site,
        m.area,
        m.line,
        m.machine,
        w.window_kind,
        w.day,
        w.shift_name,
        w.shift_start,
        w.shift_end,
        m.ideal_cycle_time_s,
        w.calendar_time_s,
        coalesce(ct.scheduled_time_s, 0) as scheduled_time_s,
        coalesce(ct.scheduled_time_s, 0) - coalesce(ct.planned_window_s, 0) as break_time_s,
        coalesce(st.not_scheduled_time_s, 0) as not_scheduled_time_s,
        coalesce(ct.planned_window_s, 0) - coalesce(st.not_scheduled_time_s, 0) as planned_production_time_s,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_stop_time_s, 0) as planned_stop_time_s,
        coalesce(st.unplanned_stop_time_s, 0) as unplanned_stop_time_s,
        coalesce(st.minor_stop_time_s, 0) as minor_stop_time_s,
        coalesce(st.unknown_state_time_s, 0) as unknown_state_time_s,
        -- any two of total, good and reject give the third; a configured counter without increments counted 0.
        -- Counts are whole (a reading that is no whole number is 'bad', increment 0), so BIGINT: the cast
        -- changes the type only, never the number.
        cast(case when m.has_total then coalesce(c.total_raw, 0)
            else coalesce(c.good_raw, 0) + coalesce(c.reject_raw, 0) end as bigint) as total_count,
        cast(case when m.has_good then coalesce(c.good_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.reject_raw, 0) end as bigint) as good_count,
        cast(case when m.has_reject then coalesce(c.reject_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.good_raw, 0) end as bigint) as reject_count
    from windows as w
    cross join plant__machine as m
    left join calendar_time as ct
        on ct.window_kind = w.window_kind
        and ct.day is not distinct from (case when w.window_kind = 'day' then w.day end)
        and ct.shift_start is not distinct from w.shift_start
    left join state_time as st
        on st.window_kind = w.window_kind
        and st.day is not distinct from (case when w.window_kind = 'day' then w.day end)
        and st.shift_start is not distinct from w.shift_start
        and st.line = m.line and st.machine = m.machine
    left join counted as c
        on c.window_kind = w.window_kind
        and c.day is not distinct from (case when w.window_kind = 'day' then w.day end)
        and c.shift_start is not distinct from w.shift_start
        and c.line = m.line and c.machine = m.machine
),

ratios as (
    select
        *,
        ideal_cycle_time_s * total_count as ideal_time_s,
        -- the ratios of sql/staging/oee_ratios.sql; quality from the counts (one machine: the ideal cycle
        -- time cancels)
        availability(run_time_s, planned_production_time_s) as availability,
        performance(ideal_cycle_time_s * total_count, run_time_s) as performance,
        quality(good_count, total_count) as quality
    from times
)

-- OEE is fully productive time over planned production time, NULL only where nothing was planned:
-- a machine stopped through a planned shift has OEE 0, though its performance (no run time) and
-- quality (no count) are NULL. Where all three factors are defined their product is this same OEE.
select
    *,
    oee(good_count * ideal_cycle_time_s, planned_production_time_s) as oee,
    planned_production_time_s - run_time_s as availability_loss_s,
    run_time_s - ideal_time_s as performance_loss_s,
    reject_count * ideal_cycle_time_s as quality_loss_s,
    good_count * ideal_cycle_time_s as fully_productive_time_s,
    unplanned_stop_time_s as breakdown_loss_s,
    planned_stop_time_s as setup_loss_s,
    minor_stop_time_s as minor_stop_loss_s,
    run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
    good_count * ideal_cycle_time_s / nullif(calendar_time_s, 0) as teep,
    planned_production_time_s / nullif(calendar_time_s, 0) as utilization
from ratios
