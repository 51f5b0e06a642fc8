-- oee_line_daily: one row per line per production day, from the shared roll-up (stg_oee_rollups):
-- machine times summed, ratios recomputed through ideal time, counts of the line's output machine only.
-- data_quality_ok is false when any machine's day is.
with
rolled_up as (
    select * exclude (level, window_kind, shift_name, shift_start, shift_end)
    from stg_oee_rollups
    where level = 'line' and window_kind = 'day' and day in (select unnest($days::date[]))
),

machine_flags as (
    select line, day, bool_and(data_quality_ok) as data_quality_ok
    from oee_daily
    where day in (select unnest($days::date[]))
    group by line, day
),

final as (
    select r.*, f.data_quality_ok
    from rolled_up as r
    left join machine_flags as f on f.line = r.line and f.day = r.day
)

-- the line's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'line' and t.line = f.line
order by f.line, f.day
