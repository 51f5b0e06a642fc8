-- oee_line_shift: one row per line per shift occurrence (a night shift across midnight is one row;
-- `day` is the production day in which it starts), from the shared roll-up (stg_oee_rollups).
select * exclude (level, window_kind)
from stg_oee_rollups
where level = 'line' and window_kind = 'shift' and day in (select unnest($days::date[]))
order by line, shift_start
