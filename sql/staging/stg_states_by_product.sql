-- stg_states_by_product: the machine-state pieces of planned production (stg_states_in_plan) cut to the
-- production runs they overlap, so that run and stop time go to the product running at the time.
select
    s.day,
    s.line,
    s.machine,
    r.product,
    s.category,
    s.reason,
    s.is_minor_stop,
    greatest(s.start, r.start) as start,
    least(s."end", r."end") as "end",
    (epoch_us(least(s."end", r."end")) - epoch_us(greatest(s.start, r.start))) / 1e6 as seconds,
    epoch_us(least(s."end", r."end")) - epoch_us(greatest(s.start, r.start)) as micros
from stg_states_in_plan as s
join stg_production_runs as r
    on r.day = s.day and r.line = s.line and r.machine = s.machine and s.start < r."end" and s."end" > r.start
