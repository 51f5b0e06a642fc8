-- stg_counts_in_plan: counter increments made inside planned production time (the run-time window).
-- A reading shows the pieces made since the reading before it, so it belongs to the window it closes:
-- a reading exactly at a break's start, a shift's end, the start of not-scheduled time or the day's
-- end counts in the window that ends there (windows are (start, end] for readings), never in the next.
select
    c.day,
    c.line,
    c.machine,
    p.shift_name,
    p.shift_start,
    c.kind,
    c.increment
from silver__count_increments as c
join stg_states_in_plan as p
    on p.day = c.day
    and p.line = c.line
    and p.machine = c.machine
    and c.ts > p.start
    and c.ts <= p."end"
    and p.category <> 'not_scheduled'
