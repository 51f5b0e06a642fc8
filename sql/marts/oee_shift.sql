-- oee_shift: one row per machine per shift occurrence. A shift across midnight (or across the
-- production day's edge) is one row; `day` is the production day in which it starts.
-- Same definitions as oee_daily, with the shift occurrence as the window:
-- calendar time = the shift's length, scheduled time = the shift, planned = the shift less breaks.
-- data_quality_ok and data_quality_reason are those of the machine's production day in which the shift
-- starts (oee_daily): the data checks look at whole days, and a shift is rebuilt with the day it starts in.
with
final as (
    select
        w.site,
        w.area,
        w.line,
        w.machine,
        w.day,
        w.shift_name,
        w.shift_start,
        w.shift_end,
        w.calendar_time_s,
        w.scheduled_time_s,
        w.break_time_s,
        w.not_scheduled_time_s,
        w.planned_production_time_s,
        w.run_time_s,
        w.planned_stop_time_s,
        w.unplanned_stop_time_s,
        w.minor_stop_time_s,
        w.unknown_state_time_s,
        w.ideal_cycle_time_s,
        w.total_count,
        w.good_count,
        w.reject_count,
        w.ideal_time_s,
        w.availability,
        w.performance,
        w.quality,
        w.oee,
        w.availability_loss_s,
        w.performance_loss_s,
        w.quality_loss_s,
        w.fully_productive_time_s,
        w.breakdown_loss_s,
        w.setup_loss_s,
        w.minor_stop_loss_s,
        w.speed_loss_s,
        w.teep,
        w.utilization,
        d.data_quality_ok,
        d.data_quality_reason
    from stg_oee_windows as w
    left join oee_daily as d on d.line = w.line and d.machine = w.machine and d.day = w.day
    where w.window_kind = 'shift' and w.day in (select unnest($days::date[]))
)

-- the machine's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'machine' and t.line = f.line and t.machine = f.machine
order by f.line, f.machine, f.shift_start
