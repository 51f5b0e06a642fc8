-- stg_planned_windows: planned-production pieces (shifts less breaks), each with its shift occurrence.
select
    day,
    shift_name,
    shift_start,
    shift_end,
    start,
    "end"
from silver__plant_calendar
where kind = 'planned'
