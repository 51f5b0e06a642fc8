-- dim_shift: the shifts of the plant YAML's calendar, with the breaks inside each and the working days
-- they run on: join oee_shift, oee_line_shift or energy_shift to it on shift_name. Rebuilt whole on
-- every publish.
select
    s.site,
    p.shift_name,
    p.shift_order,
    p.start,
    p."end",
    p.shift_s,
    p.breaks,
    p.break_s,
    p.planned_s,
    p.working_days,
    s.timezone
from plant__shift as p
cross join plant__site as s
-- every mart is bound with the publish's days; a dimension is the same whatever they are
where $days::date[] is not null
order by p.shift_order
