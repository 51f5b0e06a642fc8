-- oee_daily: one row per machine per production day.
--
-- Every second and every count belongs to the production day in which it happens.
-- scheduled time   = shift time inside the day (shifts started on working days)
-- planned prod.    = scheduled time - breaks - time the machine was `not_scheduled`
-- run time         = `running` time plus minor stops, inside planned production time
-- counts           = increments inside planned production time (the same window as run time)
--                    a reading shows the pieces made since the one before, so it counts in the window
--                    it closes: a reading at a break's start or a shift's end counts in that shift
-- ideal time       = each unit counted x the ideal cycle time of the product running when it was counted
--                    (plant YAML products; the machine's own where the product is unknown)
-- availability = run / planned production; performance = ideal time / run;
-- quality = fully productive time / ideal time (good / total on one product);
-- oee = fully productive time (good units x their ideal cycle times) / planned production time,
-- NULL only where planned production time is 0 (performance: where run time is 0; quality: where total is 0),
-- so a machine stopped through planned time has oee 0; where all three factors are defined, oee = A x P x Q.
with
calendar_days as (
    select day, start, "end"
    from silver__plant_calendar
    where kind = 'day' and day in (select unnest($days::date[]))
),

windows as (
    select * exclude (window_kind, shift_name, shift_start, shift_end)
    from stg_oee_windows
    where window_kind = 'day' and day in (select unnest($days::date[]))
),

-- data quality: the longest stretch of running (in planned production time) without a counter reading
-- (a bad reading, negative or fractional, is none)
counter_readings as (
    select day, line, machine, ts from silver__count_increments where event <> 'bad'
    union
    select d.day, m.line, m.machine, d.start from calendar_days as d cross join plant__machine as m
    union
    select d.day, m.line, m.machine, d."end" from calendar_days as d cross join plant__machine as m
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
            -- whole microseconds summed, then seconds: exact, whatever order the pieces come in
            sum(epoch_us(least(g.gap_end, s."end")) - epoch_us(greatest(g.gap_start, s.start))) / 1e6 as running_s
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
    join plant__tag as t on t.tag = q.tag and t.role like '%_count'
    group by q.day, t.line, t.machine
),

-- data quality: counters that reset more than once in the day (one reset, a PLC restart, is plausible;
-- more are a counter or a tag to check), and counter readings that are no count
counter_events as (
    select
        day,
        line,
        machine,
        string_agg(resets || ' counter resets on ' || tag, '; ' order by tag) filter (where resets > 1)
            as repeated_resets,
        sum(bad_readings) as bad_counter_readings
    from (
        select
            day, line, machine, tag,
            count(*) filter (where event = 'reset') as resets,
            count(*) filter (where event = 'bad') as bad_readings
        from silver__count_increments
        group by day, line, machine, tag
    )
    group by day, line, machine
),

-- data quality: run time on product 'unknown' (no product tag value, order or catalog id told what ran),
-- measured at the machine's own ideal cycle time. Only a plant with a products catalog expects to know.
unknown_product as (
    select day, line, machine, sum(seconds) filter (where product = 'unknown') as unknown_product_run_s
    from stg_states_by_product
    where (category = 'running' or is_minor_stop) and day in (select unnest($days::date[]))
    group by day, line, machine
),

-- data quality: orders of different exports whose windows overlap on the machine (one export's orders are
-- checked when they land; across exports only here). Where two cover an instant the one that started last
-- gives the product (sql/silver/production_runs.sql), which may not be what ran. An order still running
-- (no actual_end) is left out: a later export ends it.
order_windows as (
    select
        day,
        line,
        machine,
        order_id,
        coalesce(actual_start, planned_start) as start,
        case when actual_start is null then planned_end else actual_end end as "end"
    from silver__orders
    where day in (select unnest($days::date[]))
),

overlapping_orders as (
    select
        a.day,
        a.line,
        a.machine,
        string_agg(
            'orders ' || a.order_id || ' and ' || b.order_id || ' overlap for '
            || round((epoch_us(least(a."end", b."end")) - epoch_us(greatest(a.start, b.start))) / 6e7, 1) || ' min',
            '; ' order by a.order_id, b.order_id
        ) || ': the later-started order is taken' as reason
    from order_windows as a
    join order_windows as b
        on b.day = a.day and b.line = a.line and b.machine = a.machine and a.order_id < b.order_id
            and a.start < b."end" and b.start < a."end"
    group by a.day, a.line, a.machine
),

flagged as (
    select
        w.*,
        concat_ws(
            '; ',
            case when w.unknown_state_time_s > greatest(60, 0.01 * w.planned_production_time_s)
                then 'no valid machine state for ' || round(w.unknown_state_time_s / 60, 1) || ' min' end,
            case when coalesce(sr.longest_silent_running_s, 0) > 1800
                then 'no counter reading for ' || round(sr.longest_silent_running_s / 60, 1) || ' min while running'
            end,
            case when coalesce(cq.bad_counter_points, 0) > 0.05 * coalesce(cq.counter_points, 0)
                then cq.bad_counter_points || ' of ' || cq.counter_points || ' counter readings bad' end,
            ce.repeated_resets,
            case when ce.bad_counter_readings > 0
                then ce.bad_counter_readings || ' counter readings negative or fractional, not counted' end,
            case when exists (select 1 from plant__product where product <> 'unknown')
                and coalesce(up.unknown_product_run_s, 0) > 0.01 * w.run_time_s
                then 'product unknown for ' || round(up.unknown_product_run_s, 1) || ' s of run time ('
                || round(100 * up.unknown_product_run_s / w.run_time_s, 1) || ' %): check the product tag or orders'
            end,
            oo.reason,
            -- a machine cannot beat its ideal cycle: 1 % above it is more than reading times explain
            case when w.performance > 1.01
                then 'performance ' || round(w.performance, 3) || ' > 1: check ideal_cycle_time_s or the counters'
            end
        ) as quality_reasons
    from windows as w
    left join silent_running as sr on sr.day = w.day and sr.line = w.line and sr.machine = w.machine
    left join counter_quality as cq on cq.day = w.day and cq.line = w.line and cq.machine = w.machine
    left join counter_events as ce on ce.day = w.day and ce.line = w.line and ce.machine = w.machine
    left join unknown_product as up on up.day = w.day and up.line = w.line and up.machine = w.machine
    left join overlapping_orders as oo on oo.day = w.day and oo.line = w.line and oo.machine = w.machine
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
        oee,
        availability_loss_s,
        performance_loss_s,
        quality_loss_s,
        fully_productive_time_s,
        breakdown_loss_s,
        setup_loss_s,
        minor_stop_loss_s,
        speed_loss_s,
        teep,
        utilization,
        quality_reasons = '' as data_quality_ok,
        nullif(quality_reasons, '') as data_quality_reason
    from flagged
)

-- the machine's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'machine' and t.line = f.line and t.machine = f.machine
order by f.line, f.machine, f.day
