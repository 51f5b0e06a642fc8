-- oee_order_daily: each work order touching a production day (silver__orders: its planned or actual window
-- meets the day), per machine, with what it made in the day: the parts that oee_order adds up over every day
-- (an order across midnight is in two days' rows), so the order is whole whichever days a build reads.
--
-- An order's time is the time silver__production_runs gives it (order_id: the order whose actual window,
-- else planned window, covers the time). As in oee_daily, times and counts are those of planned production
-- time: run time = running (minor stops included), counts = increments read inside it (a reading closes
-- its window, so it counts for the run it ends). Ideal time = each run's total count x the ideal cycle time
-- of its product on the machine (plant__product; the machine's own where the product is unknown).
with
runs as (
    select day, line, machine, start, "end", product, order_id
    from silver__production_runs
    where order_id is not null and day in (select unnest($days::date[]))
),

state_time as (
    select
        r.day,
        r.line,
        r.machine,
        r.order_id,
        sum(epoch_us(least(p."end", r."end")) - epoch_us(greatest(p.start, r.start))) / 1e6
            as planned_production_time_s,
        coalesce(
            sum(epoch_us(least(p."end", r."end")) - epoch_us(greatest(p.start, r.start)))
                filter (where p.category = 'running' or p.is_minor_stop),
            0
        ) / 1e6 as run_time_s
    from runs as r
    join stg_states_in_plan as p
        on p.day = r.day and p.line = r.line and p.machine = r.machine and p.start < r."end" and p."end" > r.start
    where p.category <> 'not_scheduled'
    group by all
),

-- per run of one product: the counts read inside it and inside planned production time
run_counts as (
    select
        r.day,
        r.line,
        r.machine,
        r.order_id,
        r.product,
        sum(c.increment) filter (where c.kind = 'total') as total_raw,
        sum(c.increment) filter (where c.kind = 'good') as good_raw,
        sum(c.increment) filter (where c.kind = 'reject') as reject_raw,
        max(c.ts) filter (where c.increment > 0) as last_count_at
    from runs as r
    join silver__count_increments as c
        on c.day = r.day and c.line = r.line and c.machine = r.machine and c.ts > r.start and c.ts <= r."end"
    join stg_states_in_plan as p
        on p.day = c.day and p.line = c.line and p.machine = c.machine
        and c.ts > p.start and c.ts <= p."end" and p.category <> 'not_scheduled'
    group by all
),

product_counts as (
    select
        rc.day,
        rc.line,
        rc.machine,
        rc.order_id,
        rc.last_count_at,
        coalesce(pp.ideal_cycle_time_s, m.ideal_cycle_time_s) as ideal_cycle_time_s,
        -- any two of total, good and reject give the third, as in oee_daily
        case when m.has_total then coalesce(rc.total_raw, 0)
            else coalesce(rc.good_raw, 0) + coalesce(rc.reject_raw, 0) end as total_count,
        case when m.has_good then coalesce(rc.good_raw, 0)
            else coalesce(rc.total_raw, 0) - coalesce(rc.reject_raw, 0) end as good_count,
        case when m.has_reject then coalesce(rc.reject_raw, 0)
            else coalesce(rc.total_raw, 0) - coalesce(rc.good_raw, 0) end as reject_count
    from run_counts as rc
    join plant__machine as m on m.line = rc.line and m.machine = rc.machine
    left join plant__product as pp on pp.line = rc.line and pp.machine = rc.machine and pp.product = rc.product
),

counted as (
    select
        day,
        line,
        machine,
        order_id,
        sum(total_count) as total_count,
        sum(good_count) as good_count,
        sum(reject_count) as reject_count,
        sum(total_count * ideal_cycle_time_s) as ideal_time_s,
        sum(good_count * ideal_cycle_time_s) as fully_productive_time_s,
        max(last_count_at) as last_count_at
    from product_counts
    group by all
),

spans as (
    select day, line, machine, order_id, min(start) as start, max("end") as "end"
    from runs
    group by all
)

-- every order touching the day (silver__orders keeps, per day, the latest export of each), with what it made
select
    m.site,
    m.area,
    o.line,
    o.machine,
    o.order_id,
    o.day,
    o.product,
    o.planned_qty,
    o.whole_line,
    o.planned_start,
    o.planned_end,
    o.actual_start,
    o.actual_end,
    o.exported_at,
    s.start,
    s."end",
    cast(coalesce(c.total_count, 0) as bigint) as total_count,
    cast(coalesce(c.good_count, 0) as bigint) as good_count,
    cast(coalesce(c.reject_count, 0) as bigint) as reject_count,
    coalesce(st.run_time_s, 0) as run_time_s,
    coalesce(st.planned_production_time_s, 0) as planned_production_time_s,
    coalesce(c.ideal_time_s, 0) as ideal_time_s,
    coalesce(c.fully_productive_time_s, 0) as fully_productive_time_s,
    c.last_count_at
from silver__orders as o
join plant__machine as m on m.line = o.line and m.machine = o.machine
left join spans as s on s.day = o.day and s.line = o.line and s.machine = o.machine and s.order_id = o.order_id
left join state_time as st
    on st.day = o.day and st.line = o.line and st.machine = o.machine and st.order_id = o.order_id
left join counted as c
    on c.day = o.day and c.line = o.line and c.machine = o.machine and c.order_id = o.order_id
where o.day in (select unnest($days::date[]))
order by o.line, o.machine, o.order_id, o.day
