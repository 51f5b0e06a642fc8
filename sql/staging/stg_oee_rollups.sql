-- stg_oee_rollups: stg_oee_windows rolled up to lines and to the site, for each production day and
-- each shift occurrence. Times and counts are summed and the ratios recomputed; performance rolls up
-- through ideal time (sum of ideal cycle time x count), never by averaging percentages.
with
levels as (
    select 'line' as level, * from stg_oee_windows
    union all
    select 'site' as level, * replace (null::varchar as area, null::varchar as line) from stg_oee_windows
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
        sum(fully_productive_time_s) as fully_productive_time_s
    from levels
    group by level, window_kind, site, area, line, day, shift_name, shift_start, shift_end
)

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
