-- oee_line_shift: one row per line per shift occurrence (a night shift across midnight is one row;
-- `day` is the production day in which it starts), from the shared roll-up (stg_oee_rollups).
with
final as (
    select * exclude (level, window_kind)
    from stg_oee_rollups
    where level = 'line' and window_kind = 'shift' and day in (select unnest($days::date[]))
)

-- the line's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'line' and t.line = f.line
order by f.line, f.shift_start
