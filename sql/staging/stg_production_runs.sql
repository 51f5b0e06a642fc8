-- stg_production_runs: which product each OEE machine made when, tiling each production day: silver's
-- production runs, and for a machine-day silver holds none of (days built before products were modelled)
-- the whole day on product 'unknown', at the machine's own ideal cycle time.
select day, line, machine, product, start, "end"
from silver__production_runs
union all
select d.day, m.line, m.machine, 'unknown' as product, d.start, d."end"
from silver__plant_calendar as d
cross join plant__machine as m
where d.kind = 'day'
    and not exists (
        select 1 from silver__production_runs as r
        where r.day = d.day and r.line = m.line and r.machine = m.machine
    )
