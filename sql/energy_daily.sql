-- energy_daily: kWh per machine, line and site per production day (level = machine | line | site).
-- kwh_running: while running (minor stops included) in planned production time;
-- kwh_stopped: during planned and unplanned stops in planned production time;
-- kwh_idle_scheduled: during breaks and not-scheduled time inside shifts;
-- kwh_outside_scheduled: outside every shift (nights, weekends): the waste nobody sees.
-- kwh_total is their sum; kwh_per_good_unit divides it by the row's good units (oee_daily): a machine's
-- own, a line's output machine's (never the sum over its machines), a site's the sum of its lines'.
-- data_quality_ok is false where a kWh figure rests on energy nobody measured: a span of the day with
-- no reading standing for it (its energy is unknown, not counted), or a meter step across a gap longer
-- than the max gap (known in total, spread evenly over the gap); a line or site row is false when any
-- of its machines' is, and names them. The rule is in sql/silver/energy_increments.sql.
-- Every sum of kWh adds its values in one order (their own), so that a day's figures are the same to
-- the last bit whatever order the rows reach the sum in (the join plan, the days published beside it).
with
allocated as (
    select
        day,
        line,
        machine,
        sum(kwh order by kwh) filter (where kind = 'all') as kwh_total,
        sum(kwh order by kwh) filter (where kind = 'shift') as kwh_in_shifts,
        sum(kwh order by kwh) filter (
            where kind = 'planned' and (category = 'running' or is_minor_stop)
        ) as kwh_running,
        sum(kwh order by kwh) filter (
            where kind = 'planned' and category in ('planned_stop', 'unplanned_stop') and not is_minor_stop
        ) as kwh_stopped,
        sum(kwh order by kwh) filter (where kind = 'planned') as kwh_planned
    from stg_energy_by_state
    where day in (select unnest($days::date[]))
    group by day, line, machine
),

machines as (
    select
        o.site,
        o.area,
        o.line,
        o.machine,
        o.day,
        coalesce(a.kwh_total, 0) as kwh_total,
        coalesce(a.kwh_running, 0) as kwh_running,
        coalesce(a.kwh_stopped, 0) as kwh_stopped,
        coalesce(a.kwh_in_shifts, 0) - coalesce(a.kwh_running, 0) - coalesce(a.kwh_stopped, 0) as kwh_idle_scheduled,
        coalesce(a.kwh_total, 0) - coalesce(a.kwh_in_shifts, 0) as kwh_outside_scheduled,
        o.good_count
    from oee_daily as o
    left join allocated as a on a.day = o.day and a.line = o.line and a.machine = o.machine
    where o.day in (select unnest($days::date[]))
),

levels as (
    select 'machine' as level, site, area, line, machine, day,
           kwh_total, kwh_running, kwh_stopped, kwh_idle_scheduled, kwh_outside_scheduled, good_count
    from machines
    union all
    -- a line's output is its output machine's good units (plant YAML `output_machine`, default the last
    -- machine), never the sum over machines that count different things; a site's, the sum of its lines'
    select 'line', m.site, m.area, m.line, null, m.day,
           sum(kwh_total order by kwh_total), sum(kwh_running order by kwh_running),
           sum(kwh_stopped order by kwh_stopped), sum(kwh_idle_scheduled order by kwh_idle_scheduled),
           sum(kwh_outside_scheduled order by kwh_outside_scheduled),
           sum(good_count) filter (where d.is_output_machine)
    from machines as m
    join dim_machine as d on d.line = m.line and d.machine = m.machine
    group by m.site, m.area, m.line, m.day
    union all
    select 'site', m.site, null, null, null, m.day,
           sum(kwh_total order by kwh_total), sum(kwh_running order by kwh_running),
           sum(kwh_stopped order by kwh_stopped), sum(kwh_idle_scheduled order by kwh_idle_scheduled),
           sum(kwh_outside_scheduled order by kwh_outside_scheduled),
           sum(good_count) filter (where d.is_output_machine)
    from machines as m
    join dim_machine as d on d.line = m.line and d.machine = m.machine
    group by m.site, m.day
),

energy_gaps as (
    select
        day,
        line,
        machine,
        coalesce(sum(epoch_us("end") - epoch_us(start)) filter (where event = 'unknown'), 0) / 1e6 as unknown_s,
        coalesce(sum(kwh order by kwh) filter (where spread), 0) as spread_kwh
    from silver__energy_increments
    where day in (select unnest($days::date[]))
    group by day, line, machine
),

machine_quality as (
    select
        day,
        line,
        machine,
        nullif(concat_ws(
            '; ',
            case when unknown_s > 0 then 'energy unknown for ' || round(unknown_s / 60, 1) || ' min (no reading)' end,
            case when spread_kwh > 0
                then round(spread_kwh, 3) || ' kWh of a meter step over a gap spread evenly' end
        ), '') as reason
    from energy_gaps
),

quality_by_level as (
    select 'machine' as level, day, line, machine, reason
    from machine_quality
    union all
    select 'line', day, line, null, string_agg(machine || ': ' || reason, '; ' order by machine)
    from machine_quality
    group by day, line
    union all
    select 'site', day, null, null, string_agg(line || '/' || machine || ': ' || reason, '; ' order by line, machine)
    from machine_quality
    group by day
),

final as (
    select
        l.*,
        l.kwh_total / nullif(l.good_count, 0) as kwh_per_good_unit,
        q.reason is null as data_quality_ok,
        q.reason as data_quality_reason
    from levels as l
    left join quality_by_level as q
        on q.level = l.level and q.day = l.day
        and q.line is not distinct from l.line and q.machine is not distinct from l.machine
)

select * from final
order by level, line, machine, day
