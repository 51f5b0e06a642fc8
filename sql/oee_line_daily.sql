-- oee_line_daily: one row per line per production day. Times and counts are summed and the ratios
-- recomputed; performance rolls up through ideal time (sum of ideal cycle time x count), never by
-- averaging percentages.
with
summed as (
    select
        site,
        area,
        line,
        day,
        count(*) as machines,
        sum(calendar_time_s) as calendar_time_s,
        sum(scheduled_time_s) as scheduled_time_s,
        sum(planned_production_time_s) as planned_production_time_s,
        sum(run_time_s) as run_time_s,
        sum(planned_stop_time_s) as planned_stop_time_s,
        sum(unplanned_stop_time_s) as unplanned_stop_time_s,
        sum(minor_stop_time_s) as minor_stop_time_s,
        sum(unknown_state_time_s) as unknown_state_time_s,
        sum(total_count) as total_count,
        sum(good_count) as good_count,
        sum(reject_count) as reject_count,
        sum(ideal_time_s) as ideal_time_s,
        sum(quality_loss_s) as quality_loss_s,
        sum(fully_productive_time_s) as fully_productive_time_s,
        bool_and(data_quality_ok) as data_quality_ok
    from oee_daily
    where day in (select unnest($days::date[]))
    group by site, area, line, day
),

final as (
    select
        *,
        run_time_s / nullif(planned_production_time_s, 0) as availability,
        ideal_time_s / nullif(run_time_s, 0) as performance,
        good_count / nullif(total_count, 0) as quality,
        fully_productive_time_s / nullif(planned_production_time_s, 0) as oee,
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

select * from final
order by line, day
