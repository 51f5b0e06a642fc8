-- oee_monthly: one row per machine per calendar month of production days, from oee_daily.
-- The times and counts are the sums over the days; the ratios are taken from those sums through the
-- macros of sql/staging/oee_ratios.sql (never an average of the days' ratios), so that a day that
-- planned more weighs more and availability x performance x quality = oee here too.
-- A publish replaces the calendar months of the production days rebuilt,
-- summed from every day of them in oee_daily (not just the days rebuilt); sums add in day order, so
-- days published in any order give bit-identical rows.
-- Quality is good / total as on the machine's days (one machine: the ideal cycle time cancels).
with
scope_months as (
    select distinct cast(date_trunc('month', d) as date) as month from (select unnest($days::date[]) as d)
),

days as (
    select *, cast(date_trunc('month', day) as date) as month
    from oee_daily
    where cast(date_trunc('month', day) as date) in (select month from scope_months)
),

summed as (
    select
        site, area, line, machine,
        month,
        count(*) as days,
        sum(calendar_time_s order by day) as calendar_time_s,
        sum(scheduled_time_s order by day) as scheduled_time_s,
        sum(break_time_s order by day) as break_time_s,
        sum(not_scheduled_time_s order by day) as not_scheduled_time_s,
        sum(planned_production_time_s order by day) as planned_production_time_s,
        sum(run_time_s order by day) as run_time_s,
        sum(planned_stop_time_s order by day) as planned_stop_time_s,
        sum(unplanned_stop_time_s order by day) as unplanned_stop_time_s,
        sum(minor_stop_time_s order by day) as minor_stop_time_s,
        sum(unknown_state_time_s order by day) as unknown_state_time_s,
        cast(sum(total_count) as bigint) as total_count,
        cast(sum(good_count) as bigint) as good_count,
        cast(sum(reject_count) as bigint) as reject_count,
        sum(ideal_time_s order by day) as ideal_time_s,
        sum(quality_loss_s order by day) as quality_loss_s,
        sum(fully_productive_time_s order by day) as fully_productive_time_s,
        bool_and(data_quality_ok) as data_quality_ok,
        count(*) filter (where not data_quality_ok) as poor_data_days
    from days
    group by site, area, line, machine, month
),

final as (
    select
        *,
        availability(run_time_s, planned_production_time_s) as availability,
        performance(ideal_time_s, run_time_s) as performance,
        quality(good_count, total_count) as quality,
        oee(fully_productive_time_s, planned_production_time_s) as oee,
        planned_production_time_s - run_time_s as availability_loss_s,
        run_time_s - ideal_time_s as performance_loss_s,
        unplanned_stop_time_s as breakdown_loss_s,
        planned_stop_time_s as setup_loss_s,
        minor_stop_time_s as minor_stop_loss_s,
        run_time_s - ideal_time_s - minor_stop_time_s as speed_loss_s,
        fully_productive_time_s / nullif(calendar_time_s, 0) as teep,
        planned_production_time_s / nullif(calendar_time_s, 0) as utilization
    from summed
)

-- the machine's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'machine' and t.line = f.line and t.machine = f.machine
order by f.site, f.area, f.line, f.machine, f.month
