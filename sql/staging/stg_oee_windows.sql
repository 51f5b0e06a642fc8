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
        sum(micros) filter (where category = 'running' or is_minor_stop) / 1e6 as run_time_s,
        sum(micros) filter (where is_minor_stop) / 1e6 as minor_stop_time_s,
        sum(micros) filter (where category = 'planned_stop') / 1e6 as planned_stop_time_s,
        sum(micros) filter (where category = 'unplanned_stop' and not is_minor_stop) / 1e6 as unplanned_stop_time_s,
        sum(micros) filter (where reason = 'unknown') / 1e6 as unknown_state_time_s,
        sum(micros) filter (where category = 'not_scheduled') / 1e6 as not_scheduled_time_s
    from state_pieces
    group by all
),

count_pieces as (
    select 'day' as window_kind, day, null::timestamptz as shift_start, line, machine, kind, increment,
        ideal_cycle_time_s
    from stg_counts_in_plan
    union all
    select 'shift', null, shift_start, line, machine, kind, increment, ideal_cycle_time_s
    from stg_counts_in_plan
),

-- the increments of each ideal cycle time summed first, then times the cycle: on a machine that made one
-- product (or a plant without products) ideal time is exactly count x cycle, as it always was
counted_by_cycle as (
    select window_kind, day, shift_start, line, machine, kind, ideal_cycle_time_s, sum(increment) as increment
    from count_pieces
    group by all
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
        sum(increment) filter (where kind = 'reject') as reject_raw,
        -- ideal seconds of what each counter counted: each increment at the ideal cycle of the product
        -- running when it was counted (sql/staging/stg_counts_in_plan.sql)
        sum(increment * ideal_cycle_time_s order by ideal_cycle_time_s) filter (where kind = 'total')
            as total_ideal_raw,
        sum(increment * ideal_cycle_time_s order by ideal_cycle_time_s) filter (where kind = 'good')
            as good_ideal_raw,
        sum(increment * ideal_cycle_time_s order by ideal_cycle_time_s) filter (where kind = 'reject')
            as reject_ideal_raw,
        -- the ideal cycles that counted anything: one (a single product) keeps the machine's plain formulas
        count(distinct ideal_cycle_time_s) filter (where increment <> 0) as counted_cycles,
        min(ideal_cycle_time_s) filter (where increment <> 0) as counted_cycle_s
    from counted_by_cycle
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
        m.ideal_cycle_time_s as machine_cycle_time_s,
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
            else coalesce(c.total_raw, 0) - coalesce(c.good_raw, 0) end as bigint) as reject_count,
        -- the same derivation in ideal seconds: ideal time (all output), fully productive time (good output)
        -- and quality loss (rejects), each increment at the ideal cycle of its product
        case when m.has_total then coalesce(c.total_ideal_raw, 0)
            else coalesce(c.good_ideal_raw, 0) + coalesce(c.reject_ideal_raw, 0) end as mixed_ideal_time_s,
        case when m.has_good then coalesce(c.good_ideal_raw, 0)
            else coalesce(c.total_ideal_raw, 0) - coalesce(c.reject_ideal_raw, 0) end as mixed_fully_productive_s,
        case when m.has_reject then coalesce(c.reject_ideal_raw, 0)
            else coalesce(c.total_ideal_raw, 0) - coalesce(c.good_ideal_raw, 0) end as mixed_quality_loss_s,
        coalesce(c.counted_cycles, 0) <= 1 as one_cycle,
        coalesce(c.counted_cycle_s, m.ideal_cycle_time_s) as one_cycle_s
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

-- made at one ideal cycle (one product, or a plant without products), the times are the counts x that
-- cycle, exactly as the counts give them; made at several, the sums of each increment x its product's cycle
ideal_times as (
    select
        * exclude (mixed_ideal_time_s, mixed_fully_productive_s, mixed_quality_loss_s),
        if(one_cycle, total_count * one_cycle_s, mixed_ideal_time_s) as ideal_time_s,
        if(one_cycle, good_count * one_cycle_s, mixed_fully_productive_s) as fully_productive_time_s,
        if(one_cycle, reject_count * one_cycle_s, mixed_quality_loss_s) as quality_loss_s
    from times
),

ratios as (
    select
        * exclude (machine_cycle_time_s, one_cycle, one_cycle_s, ideal_time_s, fully_productive_time_s,
            quality_loss_s),
        -- the ideal cycle time the window ran at on average: ideal time over total count (each product at its
        -- own cycle); the cycle itself where all was made at one (the machine's own where nothing counted)
        if(one_cycle or total_count = 0, one_cycle_s, mean_ideal_cycle(ideal_time_s, total_count))
            as ideal_cycle_time_s,
        ideal_time_s,
        -- the ratios of sql/staging/oee_ratios.sql. Quality is fully productive over ideal time: good over
        -- total weighed by each product's ideal cycle; made at one cycle, that cycle cancels and quality is
        -- taken from the counts, free of the rounding of the products
        availability(run_time_s, planned_production_time_s) as availability,
        performance(ideal_time_s, run_time_s) as performance,
        if(one_cycle, quality(good_count, total_count), quality(fully_productive_time_s, ideal_time_s)) as quality,
        fully_productive_time_s,
        quality_loss_s
    from ideal_times
)

-- OEE is fully productive time over planned production time, NULL only where nothing was planned:
-- a machine stopped through a planned shift has OEE 0, though its performance (no run time) and
-- quality (no count) are NULL. Where all three factors are defined their product is this same OEE.
select
    * exclude (fully_productive_time_s, quality_loss_s),
    oee(fully_productive_time_s, planned_production_time_s) as oee,
    planned_production_time_s - run_time_s as availability_loss_s,
    run_time_s - ideal_time_s as performance_loss_s,
    quality_loss_s,
    fully_productive_time_s,
    unplanned_stop_time_s as breakdown_loss_s,
    planned_stop_time_s as setup_loss_s,
    minor_stop_time_s as minor_stop_loss_s,
    run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
    fully_productive_time_s / nullif(calendar_time_s, 0) as teep,
    planned_production_time_s / nullif(calendar_time_s, 0) as utilization
from ratios
