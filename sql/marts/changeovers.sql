-- changeovers: one row per product change of a machine (stg_changeovers), on the production day and shift
-- in which it starts; a changeover across a break or midnight is one row. Its seconds are split as a
-- stop's are (downtime_events): planned production time, breaks, outside every shift, and days not modelled
-- yet, in whole microseconds so the parts add up to the duration exactly. A changeover still under way
-- (no count of the new product yet) has `end` NULL and lasts until the machine's last state seen.
with
spans as (
    select c.*, coalesce(c."end", c.seen_until) as span_end, d.day
    from stg_changeovers as c
    join silver__plant_calendar as d
        on d.kind = 'day' and c.start >= d.start and c.start < d."end"
    where d.day in (select unnest($days::date[]))
),

with_shift as (
    select e.*, s.shift_name
    from spans as e
    left join silver__plant_calendar as s
        on s.kind = 'shift' and e.start >= s.start and e.start < s."end"
),

calendar_parts as (
    select
        e.line,
        e.machine,
        e.start,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'day')
            as in_days_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'shift')
            as in_shifts_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start))) filter (where c.kind = 'break')
            as in_breaks_us,
        sum(epoch_us(least(e.span_end, c."end")) - epoch_us(greatest(e.start, c.start)))
            filter (where c.kind = 'planned') as in_planned_us
    from spans as e
    join silver__plant_calendar_every_day as c
        on c.start < e.span_end and c."end" > e.start
    group by e.line, e.machine, e.start
),

final as (
    select
        m.site,
        m.area,
        e.line,
        e.machine,
        e.from_product,
        e.to_product,
        e.start,
        e."end",
        (epoch_us(e.span_end) - epoch_us(e.start)) / 1e6 as duration_s,
        e.target_s,
        greatest((epoch_us(e.span_end) - epoch_us(e.start)) / 1e6 - e.target_s, 0) as over_target_s,
        coalesce(p.in_planned_us, 0) / 1e6 as in_planned_time_s,
        coalesce(p.in_breaks_us, 0) / 1e6 as in_breaks_s,
        (coalesce(p.in_days_us, 0) - coalesce(p.in_shifts_us, 0)) / 1e6 as outside_shifts_s,
        (epoch_us(e.span_end) - epoch_us(e.start) - coalesce(p.in_days_us, 0)) / 1e6 as not_modelled_yet_s,
        e."end" is null as ongoing,
        e.day,
        e.shift_name
    from with_shift as e
    join plant__machine as m on m.line = e.line and m.machine = e.machine
    left join calendar_parts as p on p.line = e.line and p.machine = e.machine and p.start = e.start
)

select * from final
order by line, machine, start
