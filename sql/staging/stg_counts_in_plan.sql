-- stg_counts_in_plan: counter increments made inside planned production time (the run-time window), each
-- with the product running when it was counted and that product's ideal cycle time on the machine.
-- A reading shows the pieces made since the reading before it, so it belongs to the window it closes:
-- a reading exactly at a break's start, a shift's end, the start of not-scheduled time or the day's
-- end counts in the window that ends there (windows are (start, end] for readings), never in the next.
-- The same holds for production runs: a reading belongs to the run whose (start, end] holds it. Where no
-- run holds it (no product tag or order told), the product is 'unknown' and the machine's own ideal cycle
-- time applies: a count is never dropped for want of a product.
select
    c.day,
    c.line,
    c.machine,
    p.shift_name,
    p.shift_start,
    c.kind,
    c.increment,
    coalesce(r.product, 'unknown') as product,
    coalesce(pp.ideal_cycle_time_s, m.ideal_cycle_time_s) as ideal_cycle_time_s
from silver__count_increments as c
join stg_states_in_plan as p
    on p.day = c.day
    and p.line = c.line
    and p.machine = c.machine
    and c.ts > p.start
    and c.ts <= p."end"
    and p.category <> 'not_scheduled'
left join plant__machine as m on m.line = c.line and m.machine = c.machine
left join stg_production_runs as r
    on r.day = c.day
    and r.line = c.line
    and r.machine = c.machine
    and c.ts > r.start
    and c.ts <= r."end"
left join plant__product as pp
    on pp.line = c.line and pp.machine = c.machine and pp.product = coalesce(r.product, 'unknown')
