-- oee_shift: one row per machine per shift occurrence. A shift across midnight (or across the
-- production day's edge) is one row; `day` is the production day in which it starts.
-- Same definitions as oee_daily, with the shift occurrence as the window:
-- calendar time = the shift's length, scheduled time = the shift, planned = the shift less breaks.
with
final as (
    select
        site,
        area,
        line,
        machine,
        day,
        shift_name,
        shift_start,
        shift_end,
        calendar_time_s,
        scheduled_time_s,
        break_time_s,
        not_scheduled_time_s,
        planned_production_time_s,
        run_time_s,
        planned_stop_time_s,
        unplanned_stop_time_s,
        minor_stop_time_s,
        unknown_state_time_s,
        ideal_cycle_time_s,
        total_count,
        good_count,
        reject_count,
        ideal_time_s,
        availability,
        performance,
        quality,
        oee,
        availability_loss_s,
        performance_loss_s,
        quality_loss_s,
        fully_productive_time_s,
        breakdown_loss_s,
        setup_loss_s,
        minor_stop_loss_s,
        speed_loss_s,
        teep,
        utilization
    from stg_oee_windows
    where window_kind = 'shift' and day in (select unnest($days::date[]))
)

select * from final
order by line, machine, shift_start
