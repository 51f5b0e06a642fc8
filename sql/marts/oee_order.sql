-- oee_order: each work order on each machine it runs on (silver__orders), planned against actual, with
-- the OEE of the time it ran. The counts and times are oee_order_daily's summed over every production day
-- the order ran on, so an order across midnight (or across a week) is whole; the mart is rebuilt in full
-- on every publish (scope all).
--
-- status          = done (actual_end set), running (actual_start set, no actual_end) or planned;
-- ideal_duration  = planned_qty x the ideal cycle time of the order's product on the machine;
-- actual_duration = actual_end - actual_start, for a running order up to its last count;
-- completion      = good_count / planned_qty;
-- estimated_end   = for a running order: the last count's time plus the good units still to make at the
--                   order's rate so far (good units per second from actual_start to the last count, stops
--                   and breaks included, so the projection expects the stops to go on as they did).
with
made as (
    select
        line,
        machine,
        order_id,
        sum(total_count) as total_count,
        sum(good_count) as good_count,
        sum(reject_count) as reject_count,
        sum(run_time_s order by day) as run_time_s,
        sum(planned_production_time_s order by day) as planned_production_time_s,
        sum(ideal_time_s order by day) as ideal_time_s,
        sum(fully_productive_time_s order by day) as fully_productive_time_s,
        max(last_count_at) as last_count_at
    from oee_order_daily
    group by all
),

orders as (
    select
        m.site,
        m.area,
        o.line,
        o.machine,
        m.is_output_machine,
        o.order_id,
        o.product,
        pp.product_name,
        case
            when o.actual_end is not null then 'done'
            when o.actual_start is not null then 'running'
            else 'planned'
        end as status,
        o.planned_qty,
        o.planned_start,
        o.planned_end,
        o.actual_start,
        o.actual_end,
        cast(coalesce(d.total_count, 0) as bigint) as total_count,
        cast(coalesce(d.good_count, 0) as bigint) as good_count,
        cast(coalesce(d.reject_count, 0) as bigint) as reject_count,
        coalesce(d.run_time_s, 0) as run_time_s,
        coalesce(d.planned_production_time_s, 0) as planned_production_time_s,
        coalesce(d.ideal_time_s, 0) as ideal_time_s,
        coalesce(d.fully_productive_time_s, 0) as fully_productive_time_s,
        d.last_count_at,
        o.planned_qty * coalesce(pp.ideal_cycle_time_s, m.ideal_cycle_time_s) as ideal_duration_s
    from silver__orders as o
    join plant__machine as m on m.line = o.line and m.machine = o.machine
    left join plant__product as pp on pp.line = o.line and pp.machine = o.machine and pp.product = o.product
    left join made as d on d.line = o.line and d.machine = o.machine and d.order_id = o.order_id
    -- every mart is bound with the publish's days; every order is rebuilt whatever they are
    where $days::date[] is not null
)

select
    site,
    area,
    line,
    machine,
    is_output_machine,
    order_id,
    product,
    product_name,
    status,
    planned_qty,
    planned_start,
    planned_end,
    actual_start,
    actual_end,
    total_count,
    good_count,
    reject_count,
    run_time_s,
    planned_production_time_s,
    availability(run_time_s, planned_production_time_s) as availability,
    performance(ideal_time_s, run_time_s) as performance,
    quality(fully_productive_time_s, ideal_time_s) as quality,
    oee(fully_productive_time_s, planned_production_time_s) as oee,
    ideal_duration_s,
    case
        when status = 'done' then (epoch_us(actual_end) - epoch_us(actual_start)) / 1e6
        when status = 'running' and last_count_at > actual_start
            then (epoch_us(last_count_at) - epoch_us(actual_start)) / 1e6
    end as actual_duration_s,
    good_count / nullif(planned_qty, 0) as completion,
    case
        when status <> 'running' or good_count = 0 or not last_count_at > actual_start then null
        when good_count >= planned_qty then last_count_at
        else last_count_at + to_microseconds(cast(round(
            (planned_qty - good_count) * (epoch_us(last_count_at) - epoch_us(actual_start)) / good_count
        ) as bigint))
    end as estimated_end
from orders
order by line, machine, planned_start, order_id
