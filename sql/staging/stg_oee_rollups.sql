-- stg_oee_rollups: stg_oee_windows rolled up to lines and to the site, for each production day and
-- each shift occurrence.
--
-- Machines of a line make different things (a filler's bottles, a packer's packs of six), so counts
-- are never added across machines. What adds up is time:
--   * machine times (planned production, run, stops, ideal time = total x ideal cycle, fully productive
--     time = good x ideal cycle) are summed over the machines: machine-seconds;
--   * the ratios (sql/staging/oee_ratios.sql) are taken from the summed times, so availability x
--     performance x quality = oee wherever all three are defined;
--   * the row's output is its output machine's count (plant__machine.is_output_machine: the plant YAML's
--     `output_machine`, default the line's last machine); a site's output is the sum of its lines';
--   * calendar_time_s is the window's own length (the day's 86,400 s, 82,800 or 90,000 on DST days, or
--     the shift's), not a sum over machines; machine_calendar_time_s is that sum, and the denominator of
--     teep and utilization, so teep = oee x utilization as on a machine's row.
with
machine_windows as (
    select w.*, m.is_output_machine
    from stg_oee_windows as w
    join plant__machine as m on m.line = w.line and m.machine = w.machine
),

levels as (
    select 'line' as level, * from machine_windows
    union all
    select 'site' as level, * replace (null::varchar as area, null::varchar as line) from machine_windows
),

summed as (
    select
        level,
        window_kind,
        site,
        area,
        line,
        day,
        shift_name,
        shift_start,
        shift_end,
        count(*) as machines,
        -- every machine of the row shares the window, so each has the same calendar time
        max(calendar_time_s) as calendar_time_s,
        sum(calendar_time_s) as machine_calendar_time_s,
        sum(scheduled_time_s) as machine_scheduled_time_s,
        sum(planned_production_time_s) as planned_production_time_s,
        sum(run_time_s) as run_time_s,
        sum(planned_stop_time_s) as planned_stop_time_s,
        sum(unplanned_stop_time_s) as unplanned_stop_time_s,
        sum(minor_stop_time_s) as minor_stop_time_s,
        sum(unknown_state_time_s) as unknown_state_time_s,
        cast(coalesce(sum(total_count) filter (where is_output_machine), 0) as bigint) as output_total_count,
        cast(coalesce(sum(good_count) filter (where is_output_machine), 0) as bigint) as output_good_count,
        cast(coalesce(sum(reject_count) filter (where is_output_machine), 0) as bigint) as output_reject_count,
        sum(ideal_time_s) as ideal_time_s,
        sum(quality_loss_s) as quality_loss_s,
        sum(fully_productive_time_s) as fully_productive_time_s
    from levels
    group by level, window_kind, site, area, line, day, shift_name, shift_start, shift_end
)

select
    *,
    availability(run_time_s, planned_production_time_s) as availability,
    performance(ideal_time_s, run_time_s) as performance,
    quality(fully_productive_time_s, ideal_time_s) as quality,
    oee(fully_productive_time_s, planned_production_time_s) as oee,
    planned_production_time_s - run_time_s as availability_loss_s,
    run_time_s - ideal_time_s as performance_loss_s,
    unplanned_stop_time_s as breakdown_loss_s,
    planned_stop_time_s as setup_loss_s,
    minor_stop_time_s as minor_stop_loss_s,
    run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
    fully_productive_time_s / nullif(machine_calendar_time_s, 0) as teep,
    planned_production_time_s / nullif(machine_calendar_time_s, 0) as utilization
from summed
