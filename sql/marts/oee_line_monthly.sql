-- oee_line_monthly: one row per line per calendar month of production days, from oee_line_daily.
-- The sums over the days and the ratios from the sums: the table macro oee_periods
-- (sql/staging/oee_periods.sql), written once for every level and period.
select
    site, area, line, period_start as month, days, machines, calendar_time_s, machine_calendar_time_s,
    machine_scheduled_time_s, planned_production_time_s, run_time_s, planned_stop_time_s,
    unplanned_stop_time_s, minor_stop_time_s, unknown_state_time_s, output_total_count, output_good_count,
    output_reject_count, ideal_time_s, quality_loss_s, fully_productive_time_s, data_quality_ok,
    poor_data_days, availability, performance, quality, oee, availability_loss_s, performance_loss_s,
    breakdown_loss_s, setup_loss_s, minor_stop_loss_s, speed_loss_s, teep, utilization, oee_target, oee_target_gap
from oee_periods('oee_line_daily', 'month', $days::date[])
order by site, area, line, month
