-- energy_shift: kWh per machine, line and site per shift occurrence (level = machine | line | site),
-- split as in energy_daily (inside a shift nothing is outside scheduled time). `day` is the
-- production day in which the shift starts; a shift across midnight is one row.
-- Every sum of kWh adds its values in one order (their own), so that a day's figures are the same to
-- the last bit whatever order the rows reach the sum in (the join plan, the days published beside it).
with
allocated as (
    select
        line,
        machine,
        shift_name,
        shift_start,
        shift_end,
        sum(kwh order by kwh) filter (where kind = 'shift') as kwh_total,
        sum(kwh order by kwh) filter (
            where kind = 'planned' and (category = 'running' or is_minor_stop)
        ) as kwh_running,
        sum(kwh order by kwh) filter (
            where kind = 'planned' and category in ('planned_stop', 'unplanned_stop') and not is_minor_stop
        ) as kwh_stopped
    from stg_energy_by_state
    where kind in ('shift', 'planned')
    group by line, machine, shift_name, shift_start, shift_end
),

machines as (
    select
        o.site,
        o.area,
        o.line,
        o.machine,
        o.day,
        o.shift_name,
        o.shift_start,
        o.shift_end,
        coalesce(a.kwh_total, 0) as kwh_total,
        coalesce(a.kwh_running, 0) as kwh_running,
        coalesce(a.kwh_stopped, 0) as kwh_stopped,
        coalesce(a.kwh_total, 0) - coalesce(a.kwh_running, 0) - coalesce(a.kwh_stopped, 0) as kwh_idle_scheduled,
        o.good_count
    from oee_shift as o
    left join allocated as a
        on a.shift_start = o.shift_start and a.line = o.line and a.machine = o.machine
    where o.day in (select unnest($days::date[]))
),

levels as (
    select 'machine' as level, site, area, line, machine, day, shift_name, shift_start, shift_end,
           kwh_total, kwh_running, kwh_stopped, kwh_idle_scheduled, good_count
    from machines
    union all
    select 'line', m.site, m.area, m.line, null, m.day, m.shift_name, m.shift_start, m.shift_end,
           sum(kwh_total order by kwh_total), sum(kwh_running order by kwh_running),
           sum(kwh_stopped order by kwh_stopped), sum(kwh_idle_scheduled order by kwh_idle_scheduled),
           sum(good_count) filter (where d.is_output_machine)
    from machines as m
    join dim_machine as d on d.line = m.line and d.machine = m.machine
    group by m.site, m.area, m.line, m.day, m.shift_name, m.shift_start, m.shift_end
    union all
    select 'site', m.site, null, null, null, m.day, m.shift_name, m.shift_start, m.shift_end,
           sum(kwh_total order by kwh_total), sum(kwh_running order by kwh_running),
           sum(kwh_stopped order by kwh_stopped), sum(kwh_idle_scheduled order by kwh_idle_scheduled),
           sum(good_count) filter (where d.is_output_machine)
    from machines as m
    join dim_machine as d on d.line = m.line and d.machine = m.machine
    group by m.site, m.day, m.shift_name, m.shift_start, m.shift_end
),

final as (
    select *, kwh_total / nullif(good_count, 0) as kwh_per_good_unit
    from levels
)

select * from final
order by level, line, machine, shift_start
