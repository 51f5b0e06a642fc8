-- stg_states_in_plan: machine-state intervals cut to the planned-production pieces they overlap.
-- A minor stop (an unplanned stop shorter than the machine's threshold) counts as run time.
select
    s.day,
    s.line,
    s.machine,
    p.shift_name,
    p.shift_start,
    p.shift_end,
    s.category,
    s.reason,
    s.is_minor_stop,
    s.event_start,
    greatest(s.start, p.start) as start,
    least(s."end", p."end") as "end",
    (epoch_us(least(s."end", p."end")) - epoch_us(greatest(s.start, p.start))) / 1e6 as seconds,
    -- the same in whole microseconds: sums of these are exact, so they do not depend on the rows' order
    epoch_us(least(s."end", p."end")) - epoch_us(greatest(s.start, p.start)) as micros
from stg_machine_states as s
join stg_planned_windows as p
    on p.day = s.day and s.start < p."end" and s."end" > p.start
