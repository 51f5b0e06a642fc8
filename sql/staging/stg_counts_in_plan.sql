-- stg_counts_in_plan: counter increments made inside planned production time (the run-time window).
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
    and c.ts >= p.start
    and c.ts < p."end"
    and p.category <> 'not_scheduled'
