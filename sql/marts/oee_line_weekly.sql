-- oee_line_weekly: one row per line per ISO week of production days, from oee_line_daily.
-- The times and counts are the sums over the days; the ratios are taken from those sums through the
-- macros of sql/staging/oee_ratios.sql (never an average of the days' ratios), so that a day that
-- planned more weighs more and availability x performance x quality = oee here too.
-- A publish replaces the ISO weeks (Monday to Sunday) of the production days rebuilt,
-- summed from every day of them in oee_line_daily (not just the days rebuilt); sums add in day order, so
-- days published in any order give bit-identical rows.
-- Quality is fully productive / ideal time: counts of different machines never add up.
with
scope_weeks as (
    select distinct cast(date_trunc('week', d) as date) as week from (select unnest($days::date[]) as d)
),

days as (
    select *, cast(date_trunc('week', day) as date) as week
    from oee_line_daily
    where cast(date_trunc('week', day) as date) in (select week from scope_weeks)
),

summed as (
    select
        site, area, line,
        week,
        strftime(week, '%G-W%V') as iso_week,
        count(*) as days,
        max(machines) as machines,
        sum(calendar_time_s order by day) as calendar_time_s,
        sum(machine_calendar_time_s order by day) as machine_calendar_time_s,
        sum(machine_scheduled_time_s order by day) as machine_scheduled_time_s,
        sum(planned_production_time_s order by day) as planned_production_time_s,
        sum(run_time_s order by day) as run_time_s,
        sum(planned_stop_time_s order by day) as planned_stop_time_s,
        sum(unplanned_stop_time_s order by day) as unplanned_stop_time_s,
        sum(minor_stop_time_s order by day) as minor_stop_time_s,
        sum(unknown_state_time_s order by day) as unknown_state_time_s,
        cast(sum(output_total_count) as bigint) as output_total_count,
        cast(sum(output_good_count) as bigint) as output_good_count,
        cast(sum(output_reject_count) as bigint) as output_reject_count,
        sum(ideal_time_s order by day) as ideal_time_s,
        sum(quality_loss_s order by day) as quality_loss_s,
        sum(fully_productive_time_s order by day) as fully_productive_time_s,
        bool_and(data_quality_ok) as data_quality_ok,
        count(*) filter (where not data_quality_ok) as poor_data_days
    from days
    group by site, area, line, week
),

final as (
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
)

-- the line's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'line' and t.line = f.line
order by f.site, f.area, f.line, f.week
