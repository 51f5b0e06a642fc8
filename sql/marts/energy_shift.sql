-- energy_shift: kWh per machine, line and site per shift occurrence (level = machine | line | site),
-- split as in energy_daily (inside a shift nothing is outside scheduled time). `day` is the
-- production day in which the shift starts; a shift across midnight is one row. A monitoring asset
-- (no state, no counters) has a row per shift too: its kwh_running, kwh_stopped and kwh_idle_scheduled
-- are NULL (no state splits them) and its kWh is kwh_scheduled_no_state (0 on a machine with OEE).
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

-- the shift occurrences, each in the production day in which it starts (as in stg_oee_windows)
shift_windows as (
    select min(day) filter (where start = shift_start) as day, shift_name, shift_start, shift_end
    from silver__plant_calendar
    where kind = 'shift'
    group by shift_name, shift_start, shift_end
),

-- every machine and monitoring asset in every shift; good units from oee_shift (none on a monitoring asset)
machines as (
    select
        d.site,
        d.area,
        d.line,
        d.machine,
        w.day,
        w.shift_name,
        w.shift_start,
        w.shift_end,
        d.is_output_machine,
        d.has_energy,
        coalesce(a.kwh_total, 0) as kwh_total,
        case when d.has_oee then coalesce(a.kwh_running, 0) end as kwh_running,
        case when d.has_oee then coalesce(a.kwh_stopped, 0) end as kwh_stopped,
        case when d.has_oee
            then coalesce(a.kwh_total, 0) - coalesce(a.kwh_running, 0) - coalesce(a.kwh_stopped, 0)
        end as kwh_idle_scheduled,
        case when d.has_oee then 0 else coalesce(a.kwh_total, 0) end as kwh_scheduled_no_state,
        o.good_count
    from plant__asset as d
    cross join shift_windows as w
    left join allocated as a
        on a.shift_start = w.shift_start and a.line = d.line and a.machine = d.machine
    left join oee_shift as o
        on o.shift_start = w.shift_start and o.line = d.line and o.machine = d.machine
    where w.day in (select unnest($days::date[])) and (d.has_oee or d.has_energy)
),

levels as (
    select 'machine' as level, site, area, line, machine, day, shift_name, shift_start, shift_end,
           kwh_total, kwh_running, kwh_stopped, kwh_idle_scheduled, kwh_scheduled_no_state, good_count
    from machines
    -- a machine without an energy tag has no kWh to show: no row, not 0 kWh
    where has_energy
    union all
    select 'line', site, area, line, null, day, shift_name, shift_start, shift_end,
           sum(kwh_total order by kwh_total) filter (where has_energy),
           sum(kwh_running order by kwh_running) filter (where has_energy),
           sum(kwh_stopped order by kwh_stopped) filter (where has_energy),
           sum(kwh_idle_scheduled order by kwh_idle_scheduled) filter (where has_energy),
           sum(kwh_scheduled_no_state order by kwh_scheduled_no_state) filter (where has_energy),
           cast(sum(good_count) filter (where is_output_machine) as bigint)
    from machines
    group by site, area, line, day, shift_name, shift_start, shift_end
    union all
    select 'site', site, null, null, null, day, shift_name, shift_start, shift_end,
           sum(kwh_total order by kwh_total) filter (where has_energy),
           sum(kwh_running order by kwh_running) filter (where has_energy),
           sum(kwh_stopped order by kwh_stopped) filter (where has_energy),
           sum(kwh_idle_scheduled order by kwh_idle_scheduled) filter (where has_energy),
           sum(kwh_scheduled_no_state order by kwh_scheduled_no_state) filter (where has_energy),
           cast(sum(good_count) filter (where is_output_machine) as bigint)
    from machines
    group by site, day, shift_name, shift_start, shift_end
),

final as (
    select *, kwh_total / nullif(good_count, 0) as kwh_per_good_unit
    from levels
)

select * from final
order by level, line, machine, shift_start
