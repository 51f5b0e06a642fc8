-- energy_daily: kWh per machine, line and site per production day (level = machine | line | site).
-- kwh_running: while running (minor stops included) in planned production time;
-- kwh_stopped: during planned and unplanned stops in planned production time;
-- kwh_idle_scheduled: during breaks and not-scheduled time inside shifts;
-- kwh_outside_scheduled: outside every shift (nights, weekends): the waste nobody sees.
-- A monitoring asset with an energy tag (a compressor, a meter: no state tag, no counters) has a row per
-- day too (one without an energy tag has none), but no machine state splits its energy: its kwh_running,
-- kwh_stopped and kwh_idle_scheduled are NULL (unknown) and its energy inside shifts is
-- kwh_scheduled_no_state (0 on a machine with OEE).
-- kwh_total is the sum of the parts (NULL parts as 0); kwh_per_good_unit divides it by the row's good
-- units (oee_daily): a machine's own, a line's output machine's (never the sum over its machines), a
-- site's the sum of its lines'; a monitoring asset, and a line without a machine with OEE, has none.
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

calendar_days as (
    select day
    from silver__plant_calendar
    where kind = 'day' and day in (select unnest($days::date[]))
),

-- every machine and monitoring asset on every day; good units from oee_daily (none on a monitoring asset)
machines as (
    select
        d.site,
        d.area,
        d.line,
        d.machine,
        c.day,
        d.is_output_machine,
        d.has_energy,
        coalesce(a.kwh_total, 0) as kwh_total,
        case when d.has_oee then coalesce(a.kwh_running, 0) end as kwh_running,
        case when d.has_oee then coalesce(a.kwh_stopped, 0) end as kwh_stopped,
        case when d.has_oee
            then coalesce(a.kwh_in_shifts, 0) - coalesce(a.kwh_running, 0) - coalesce(a.kwh_stopped, 0)
        end as kwh_idle_scheduled,
        case when d.has_oee then 0 else coalesce(a.kwh_in_shifts, 0) end as kwh_scheduled_no_state,
        coalesce(a.kwh_total, 0) - coalesce(a.kwh_in_shifts, 0) as kwh_outside_scheduled,
        o.good_count
    from plant__asset as d
    cross join calendar_days as c
    left join allocated as a on a.day = c.day and a.line = d.line and a.machine = d.machine
    left join oee_daily as o on o.day = c.day and o.line = d.line and o.machine = d.machine
    -- an asset with neither OEE nor an energy tag (condition monitoring only) has no energy to show, not 0 kWh
    where d.has_oee or d.has_energy
),

levels as (
    select 'machine' as level, site, area, line, machine, day,
           kwh_total, kwh_running, kwh_stopped, kwh_idle_scheduled, kwh_scheduled_no_state, kwh_outside_scheduled,
           good_count
    from machines
    -- a machine without an energy tag has no kWh to show: no row, not 0 kWh
    where has_energy
    union all
    -- a line's output is its output machine's good units (plant YAML `output_machine`, default the last
    -- machine with OEE), never the sum over machines that count different things; a site's, the sum of its
    -- lines'. A part that is NULL on every machine (no machine with a state) stays NULL.
    select 'line', site, area, line, null, day,
           sum(kwh_total order by kwh_total) filter (where has_energy),
           sum(kwh_running order by kwh_running) filter (where has_energy),
           sum(kwh_stopped order by kwh_stopped) filter (where has_energy),
           sum(kwh_idle_scheduled order by kwh_idle_scheduled) filter (where has_energy),
           sum(kwh_scheduled_no_state order by kwh_scheduled_no_state) filter (where has_energy),
           sum(kwh_outside_scheduled order by kwh_outside_scheduled) filter (where has_energy),
           cast(sum(good_count) filter (where is_output_machine) as bigint)
    from machines
    group by site, area, line, day
    union all
    select 'site', site, null, null, null, day,
           sum(kwh_total order by kwh_total) filter (where has_energy),
           sum(kwh_running order by kwh_running) filter (where has_energy),
           sum(kwh_stopped order by kwh_stopped) filter (where has_energy),
           sum(kwh_idle_scheduled order by kwh_idle_scheduled) filter (where has_energy),
           sum(kwh_scheduled_no_state order by kwh_scheduled_no_state) filter (where has_energy),
           sum(kwh_outside_scheduled order by kwh_outside_scheduled) filter (where has_energy),
           cast(sum(good_count) filter (where is_output_machine) as bigint)
    from machines
    group by site, day
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
