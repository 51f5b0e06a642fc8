-- production_hourly: short-interval control. Per OEE machine (level 'machine') and per line (level 'line',
-- the line's output machine) and plant-local hour of each production day: what was made, run and stopped,
-- and how far the output is ahead of (+) or behind (-) the target since the shift began.
--
-- Hours are the plant's wall-clock hours (plant__site.timezone): a day of 23 hours on the night the clocks
-- go forward, 25 on the night they go back, each hour once (its hour_start, UTC, and local_hour's offset
-- tell the two 02:00 hours of that night apart). Times and counts are those of planned production time, as in oee_daily, so an
-- hour's numbers add up to the machine's day:
--   run / stop seconds = running (minor stops included) / other stops inside planned production time;
--   counts             = increments read inside planned production time; a reading closes its window, so
--                        a reading at 09:00:00 counts in the hour 08:00-09:00;
--   target_count       = each planned second over the ideal cycle time of the product running then
--                        (plant__product; the machine's own where no product is known), times the machine's
--                        target rate fraction (targets.rate) where the plant YAML sets one;
--   cumulative_good / cumulative_target: running sums over the hours of the shift occurrence the hour begins
--                        in (a night shift across the day's edge runs on into the next day); NULL outside shifts.
with
days as (
    select day, start, "end"
    from silver__plant_calendar
    where kind = 'day'
),

-- every quarter of an hour through the day, kept where the plant's clock shows a full hour: the hours'
-- edges (a time zone's offset is a whole number of quarter hours)
edges as (
    select day, start as ts from days
    union
    select day, "end" from days
    union
    select d.day, q.ts
    from days as d
    cross join lateral (
        select unnest(generate_series(date_trunc('hour', d.start), d."end", interval 15 minute)) as ts
    ) as q
    where q.ts > d.start and q.ts < d."end"
        and minute(timezone((select timezone from plant__site), q.ts)) = 0
),

hours as (
    select *
    from (
        select
            day,
            ts as hour_start,
            lead(ts) over (partition by day order by ts) as hour_end,
            -- the plant's offset from UTC in that hour, minutes (+60 in Berlin's winter, +120 in its summer)
            cast((epoch_us(timezone((select timezone from plant__site), ts)) - epoch_us(ts)) / 60000000 as integer)
                as offset_min
        from edges
    )
    where hour_end is not null
),

shifts as (
    select distinct shift_name, shift_start, shift_end
    from silver__plant_calendar
    where kind = 'shift'
),

-- planned-production state pieces cut to the hours
state_pieces as (
    select
        h.day,
        h.hour_start,
        p.line,
        p.machine,
        p.category,
        p.is_minor_stop,
        greatest(p.start, h.hour_start) as start,
        least(p."end", h.hour_end) as "end"
    from stg_states_in_plan as p
    join hours as h on h.day = p.day and p.start < h.hour_end and p."end" > h.hour_start
    where p.category <> 'not_scheduled'
),

state_time as (
    select
        day,
        hour_start,
        line,
        machine,
        sum(epoch_us("end") - epoch_us(start)) / 1e6 as planned_production_time_s,
        coalesce(sum(epoch_us("end") - epoch_us(start)) filter (where category = 'running' or is_minor_stop), 0)
            / 1e6 as run_time_s
    from state_pieces
    group by all
),

-- the planned seconds of each product run in the hour, each over its ideal cycle time
product_time as (
    select
        s.day,
        s.hour_start,
        s.line,
        s.machine,
        sum(epoch_us(least(s."end", r."end")) - epoch_us(greatest(s.start, r.start))) / 1e6 as covered_s,
        -- added in time order: a float sum in the order the rows arrive differs in its last bits between builds
        sum(
            (epoch_us(least(s."end", r."end")) - epoch_us(greatest(s.start, r.start))) / 1e6
            / coalesce(pp.ideal_cycle_time_s, m.ideal_cycle_time_s)
            order by greatest(s.start, r.start)
        ) as ideal_units
    from state_pieces as s
    join silver__production_runs as r
        on r.day = s.day and r.line = s.line and r.machine = s.machine and r.start < s."end" and r."end" > s.start
    join plant__machine as m on m.line = s.line and m.machine = s.machine
    left join plant__product as pp on pp.line = r.line and pp.machine = r.machine and pp.product = r.product
    group by all
),

products as (
    select day, hour_start, line, machine, string_agg(product, ',' order by first_start, product) as products
    from (
        select h.day, h.hour_start, r.line, r.machine, r.product, min(r.start) as first_start
        from silver__production_runs as r
        join hours as h on h.day = r.day and r.start < h.hour_end and r."end" > h.hour_start
        group by all
    )
    group by all
),

counted as (
    select
        h.day,
        h.hour_start,
        c.line,
        c.machine,
        sum(c.increment) filter (where c.kind = 'total') as total_raw,
        sum(c.increment) filter (where c.kind = 'good') as good_raw,
        sum(c.increment) filter (where c.kind = 'reject') as reject_raw
    from silver__count_increments as c
    join stg_states_in_plan as p
        on p.day = c.day and p.line = c.line and p.machine = c.machine
        and c.ts > p.start and c.ts <= p."end" and p.category <> 'not_scheduled'
    join hours as h on h.day = c.day and c.ts > h.hour_start and c.ts <= h.hour_end
    group by all
),

measured as (
    select
        m.site,
        m.area,
        m.line,
        m.machine,
        m.is_output_machine,
        h.day,
        sh.shift_name,
        sh.shift_start,
        h.hour_start,
        h.hour_end,
        -- as text with its UTC offset (as sensor_hourly.hour_local): the gold Delta tables keep the plain protocol
        -- that has no timestamp without time zone, and the offset tells the two 02:00 hours of the night apart
        strftime(date_trunc('hour', timezone((select timezone from plant__site), h.hour_start)), '%Y-%m-%d %H:%M')
            || printf('%+03d:%02d', h.offset_min // 60, abs(h.offset_min) % 60) as local_hour,
        pr.products,
        -- any two of total, good and reject give the third, as in oee_daily
        cast(case when m.has_total then coalesce(c.total_raw, 0)
            else coalesce(c.good_raw, 0) + coalesce(c.reject_raw, 0) end as bigint) as total_count,
        cast(case when m.has_good then coalesce(c.good_raw, 0)
            else coalesce(c.total_raw, 0) - coalesce(c.reject_raw, 0) end as bigint) as good_count,
        coalesce(st.run_time_s, 0) as run_time_s,
        coalesce(st.planned_production_time_s, 0) - coalesce(st.run_time_s, 0) as stop_time_s,
        coalesce(st.planned_production_time_s, 0) as planned_production_time_s,
        -- planned time no product run covers (none where silver tiles the day) at the machine's own cycle
        (
            coalesce(pt.ideal_units, 0)
            + greatest(coalesce(st.planned_production_time_s, 0) - coalesce(pt.covered_s, 0), 0) / m.ideal_cycle_time_s
        ) * coalesce(t.target_rate, 1) as target_count
    from hours as h
    cross join plant__machine as m
    left join shifts as sh on h.hour_start >= sh.shift_start and h.hour_start < sh.shift_end
    left join state_time as st
        on st.day = h.day and st.hour_start = h.hour_start and st.line = m.line and st.machine = m.machine
    left join product_time as pt
        on pt.day = h.day and pt.hour_start = h.hour_start and pt.line = m.line and pt.machine = m.machine
    left join products as pr
        on pr.day = h.day and pr.hour_start = h.hour_start and pr.line = m.line and pr.machine = m.machine
    left join counted as c
        on c.day = h.day and c.hour_start = h.hour_start and c.line = m.line and c.machine = m.machine
    left join plant__target as t on t.level = 'machine' and t.line = m.line and t.machine = m.machine
),

cumulative as (
    select
        *,
        case when shift_start is not null then cast(sum(good_count) over shift_so_far as bigint) end
            as cumulative_good,
        case when shift_start is not null then sum(target_count) over shift_so_far end as cumulative_target
    from measured
    window shift_so_far as (partition by line, machine, shift_start order by hour_start)
),

levels as (
    select 'machine' as level, * from cumulative
    union all
    -- a line's output is its output machine's (plant YAML `output_machine`, default its last machine)
    select 'line' as level, * from cumulative where is_output_machine
)

select
    level,
    site,
    area,
    line,
    machine,
    day,
    shift_name,
    hour_start,
    hour_end,
    local_hour,
    products,
    total_count,
    good_count,
    run_time_s,
    stop_time_s,
    planned_production_time_s,
    target_count,
    cumulative_good,
    cumulative_target,
    cumulative_good - cumulative_target as gap
from levels
where day in (select unnest($days::date[]))
order by level desc, line, machine, hour_start
