-- dim_machine: the machines with OEE, as the plant YAML declares them (the plant__machine table the
-- marts are built over), with each line's output machine: join the OEE, stop and reliability marts to it
-- on (line, machine). Rebuilt whole on every publish.
select
    m.site,
    m.area,
    m.line,
    m.machine,
    m.ideal_cycle_time_s,
    m.microstop_threshold_s,
    m.has_total,
    m.has_good,
    m.has_reject,
    m.is_output_machine,
    o.machine as output_machine,
    -- the machine's targets of the plant YAML (NULL where it sets none)
    t.oee_target,
    t.availability_target,
    t.performance_target,
    t.quality_target,
    t.target_rate
from plant__machine as m
left join plant__asset as o on o.line = m.line and o.is_output_machine
left join plant__target as t on t.level = 'machine' and t.line = m.line and t.machine = m.machine
-- every mart is bound with the publish's days; a dimension is the same whatever they are
where $days::date[] is not null
order by m.line, m.machine
