-- oee_order: each work order on each machine it runs on, planned against actual, with the OEE of the time
-- it ran. Built in full on every publish (scope all) from oee_order_daily, whose rows of every production
-- day stay in the marts file: the order as its latest export has it, the counts and times summed over every
-- day it touched, so an order across midnight (or across a week) is whole whichever days a build reads.
--
-- status          = done (actual_end set), running (actual_start set, no actual_end) or planned;
-- ideal_duration  = planned_qty x the ideal cycle time of the order's product on the machine;
-- actual_duration = actual_end - actual_start, for a running order up to its last count;
-- completion      = good_count / planned_qty, where planned_qty is in the machine's units: on every machine
--                   of an order for a machine, on the output machine of an order for the whole line (whose
--                   quantity is the line's output); NULL on a line order's other machines, which count
--                   other units (bottles where the plan counts packs);
-- estimated_end   = for a running order: the last count's time plus the good units still to make at the
--                   order's rate so far (good units per second from actual_start to the last count, stops
--                   and breaks included, so the projection expects the stops to go on as they did).
with
made as (
    select
        line,
        machine,
        order_id,
        -- whole counts stay BIGINT (a sum of BIGINT is HUGEINT)
        cast(sum(total_count) as bigint) as total_count,
        cast(sum(good_count) as bigint) as good_count,
        cast(sum(reject_count) as bigint) as reject_count,
        sum(run_time_s order by day) as run_time_s,
        sum(planned_production_time_s order by day) as planned_production_time_s,
        sum(ideal_time_s order by day) as ideal_time_s,
        sum(fully_productive_time_s order by day) as fully_productive_time_s,
        max(last_count_at) as last_count_at
    from oee_order_daily
    group by all
),

-- the order as its latest export has it (the days' rows may hold older versions)
latest as (
    select *
    from oee_order_daily
    qualify row_number() over (partition by line, machine, order_id order by exported_at desc, day desc) = 1
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
        o.whole_line,
        o.planned_start,
        o.planned_end,
        o.actual_start,
        o.actual_end,
        d.total_count,
        d.good_count,
        d.reject_count,
        d.run_time_s,
        d.planned_production_time_s,
        d.ideal_time_s,
        d.fully_productive_time_s,
        d.last_count_at,
        o.planned_qty * coalesce(pp.ideal_cycle_time_s, m.ideal_cycle_time_s) as ideal_duration_s,
    not o.whole_line or m.is_output_machine as plan_in_machine_units
    from latest as o
    join plant__machine as m on m.line = o.line and m.machine = o.machine
    left join plant__product as pp on pp.line = o.line and pp.machine = o.machine and pp.product = o.product
    join made as d on d.line = o.line and d.machine = o.machine and d.order_id = o.order_id
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
    case when plan_in_machine_units then ideal_duration_s end as ideal_duration_s,
    case
        when status = 'done' then (epoch_us(actual_end) - epoch_us(actual_start)) / 1e6
        when status = 'running' and last_count_at > actual_start
            then (epoch_us(last_count_at) - epoch_us(actual_start)) / 1e6
    end as actual_duration_s,
    case when plan_in_machine_units then good_count / nullif(planned_qty, 0) end as completion,
    case
        when not plan_in_machine_units or status <> 'running' or good_count = 0 or not last_count_at > actual_start then null
        when good_count >= planned_qty then last_count_at
        else last_count_at + to_microseconds(cast(round(
            (planned_qty - good_count) * (epoch_us(last_count_at) - epoch_us(actual_start)) / good_count
        ) as bigint))
    end as estimated_end
from orders
order by line, machine, planned_start, order_id
