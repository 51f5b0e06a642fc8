-- oee_product_daily: one row per machine, product and production day: oee_daily split by the product
-- running (silver__production_runs; product 'unknown' where neither a product tag nor an order told).
--
-- Every second goes to the product running at that instant: the calendar time of a row is the time the
-- product was on the machine in the day, and its scheduled, planned, run and stop times are the parts of
-- the machine's that fell in that time, so the rows of a machine-day add up to its oee_daily row. A count
-- goes to the product whose run holds its reading (sql/staging/stg_counts_in_plan.sql). One product has one
-- ideal cycle time on the machine (the plant YAML's products; the machine's own for 'unknown'), so on a row
-- ideal time = ideal cycle x total and quality = good / total, as on a machine making one thing; the ratios
-- come from the macros of sql/staging/oee_ratios.sql, and availability x performance x quality = oee.
with
runs as (
    select day, line, machine, product, start, "end"
    from stg_production_runs
    where day in (select unnest($days::date[]))
),

run_time as (
    select day, line, machine, product, sum(epoch_us("end") - epoch_us(start)) / 1e6 as calendar_time_s
    from runs
    group by all
),

-- shift time (kind 'shift') and planned pieces (shifts less breaks, kind 'planned') inside each run
calendar_time as (
    select
        r.day,
        r.line,
        r.machine,
        r.product,
        sum(epoch_us(least(c."end", r."end")) - epoch_us(greatest(c.start, r.start))) filter (where c.kind = 'shift')
            / 1e6 as scheduled_time_s,
        sum(epoch_us(least(c."end", r."end")) - epoch_us(greatest(c.start, r.start))) filter (where c.kind = 'planned')
            / 1e6 as planned_window_s
    from runs as r
    join silver__plant_calendar as c
        on c.day = r.day and c.kind in ('shift', 'planned') and c.start < r."end" and c."end" > r.start
    group by all
),

state_time as (
    select
        day,
        line,
        machine,
        product,
        sum(micros) filter (where category = 'running' or is_minor_stop) / 1e6 as run_time_s,
        sum(micros) filter (where is_minor_stop) / 1e6 as minor_stop_time_s,
        sum(micros) filter (where category = 'planned_stop') / 1e6 as planned_stop_time_s,
        sum(micros) filter (where category = 'unplanned_stop' and not is_minor_stop) / 1e6 as unplanned_stop_time_s,
        sum(micros) filter (where reason = 'unknown') / 1e6 as unknown_state_time_s,
        sum(micros) filter (where category = 'not_scheduled') / 1e6 as not_scheduled_time_s
    from stg_states_by_product
    where day in (select unnest($days::date[]))
    group by all
),

counted as (
    select
        day,
        line,
        machine,
        product,
        sum(increment) filter (where kind = 'total') as total_raw,
        sum(increment) filter (where kind = 'good') as good_raw,
        sum(increment) filter (where kind = 'reject') as reject_raw
    from stg_counts_in_plan
    where day in (select unnest($days::date[]))
    group by all
),

keys as (
    select day, line, machine, product from run_time
    union
    select day, line, machine, product from counted
),

times as (
    select
        m.site,
        m.area,
        k.line,
        k.machine,
        k.product,
        coalesce(p.product_name, k.product) as product_name,
        k.day,
        coalesce(rt.calendar_time_s, 0) as calendar_time_s,
        coalesce(ct.scheduled_time_s, 0) as scheduled_time_s,
        coalesce(ct.scheduled_time_s, 0) - coalesce(ct.planned_window_s, 0) as break_time_s,
        coalesce(st.not_scheduled_time_s, 0) as not_scheduled_time_s,
        coalesce(ct.planned_window_s, 0) - coalesce(st.not_scheduled_time_s, 0) as planned_production_time_s,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_stop_time_s, 0) as planned_stop_time_s,
        coalesce(st.unplanned_stop_time_s, 0) as unplanned_stop_time_s,
        coalesce(st.minor_stop_time_s, 0) as minor_stop_time_s,
        coalesce(st.unknown_state_time_s, 0) as unknown_state_time_s,
        coalesce(p.ideal_cycle_time_s, m.ideal_cycle_time_s) as ideal_cycle_time_s,
        -- any two of total, good and reject give the third, as on oee_daily
        cast(case when m.has_total then coalesce(c.total_raw, 0)
            else coalesce(c.good_raw, 0) + coalesce(c.reject_raw, 0) end as bigint) as total_count,
        cast(case when m.has_good then coalesce(c.good_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.reject_raw, 0) end as bigint) as good_count,
        cast(case when m.has_reject then coalesce(c.reject_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.good_raw, 0) end as bigint) as reject_count
    from keys as k
    join plant__machine as m on m.line = k.line and m.machine = k.machine
    left join plant__product as p on p.line = k.line and p.machine = k.machine and p.product = k.product
    left join run_time as rt
        on rt.day = k.day and rt.line = k.line and rt.machine = k.machine and rt.product = k.product
    left join calendar_time as ct
        on ct.day = k.day and ct.line = k.line and ct.machine = k.machine and ct.product = k.product
    left join state_time as st
        on st.day = k.day and st.line = k.line and st.machine = k.machine and st.product = k.product
    left join counted as c
        on c.day = k.day and c.line = k.line and c.machine = k.machine and c.product = k.product
),

ratios as (
    select
        *,
        total_count * ideal_cycle_time_s as ideal_time_s,
        good_count * ideal_cycle_time_s as fully_productive_time_s,
        availability(run_time_s, planned_production_time_s) as availability,
        performance(total_count * ideal_cycle_time_s, run_time_s) as performance,
        quality(good_count, total_count) as quality
    from times
)

select
    r.site,
    r.area,
    r.line,
    r.machine,
    r.product,
    r.product_name,
    r.day,
    r.calendar_time_s,
    r.scheduled_time_s,
    r.break_time_s,
    r.not_scheduled_time_s,
    r.planned_production_time_s,
    r.run_time_s,
    r.planned_stop_time_s,
    r.unplanned_stop_time_s,
    r.minor_stop_time_s,
    r.unknown_state_time_s,
    r.ideal_cycle_time_s,
    r.total_count,
    r.good_count,
    r.reject_count,
    r.ideal_time_s,
    r.availability,
    r.performance,
    r.quality,
    oee(r.fully_productive_time_s, r.planned_production_time_s) as oee,
    r.planned_production_time_s - r.run_time_s as availability_loss_s,
    r.run_time_s - r.ideal_time_s as performance_loss_s,
    r.reject_count * r.ideal_cycle_time_s as quality_loss_s,
    r.fully_productive_time_s,
    r.unplanned_stop_time_s as breakdown_loss_s,
    r.planned_stop_time_s as setup_loss_s,
    r.minor_stop_time_s as minor_stop_loss_s,
    r.run_time_s - r.ideal_time_s - r.minor_stop_time_s as speed_loss_s,
    r.fully_productive_time_s / nullif(r.calendar_time_s, 0) as teep,
    r.planned_production_time_s / nullif(r.calendar_time_s, 0) as utilization,
    -- the data quality of the machine's day (oee_daily): a product's numbers rest on the same readings.
    -- A product's performance above 1 is flagged besides: a counter reading counts the pieces since the
    -- reading before it, so one read just after a product change carries pieces of the product before, and
    -- a product that ran a few minutes can show more ideal time than run time.
    coalesce(d.data_quality_ok, true) and not coalesce(r.performance > 1, false) as data_quality_ok,
    nullif(concat_ws(
        '; ',
        d.data_quality_reason,
        case when r.performance > 1 then 'performance ' || round(r.performance, 3)
            || ' > 1 on this product: counts read across a product change, or check its ideal_cycle_time_s' end
    ), '') as data_quality_reason
from ratios as r
left join oee_daily as d on d.day = r.day and d.line = r.line and d.machine = r.machine
order by r.line, r.machine, r.day, r.product
