-- ops.tag_catalog: every tag that has landed (view `catalog`, bronze__tag_catalog), with its place in the
-- plant model as the plant config now maps it (view `model_tags`), not as it was when the tag last landed.
select
    c.tag,
    c.source,
    c.first_seen,
    c.last_seen,
    c.points,
    c.bad_points,
    c.uncertain_points,
    c.bad_share,
    c.unit,
    m.tag is not null as mapped,
    m.line,
    m.machine,
    m.role
from catalog as c
left join model_tags as m on m.tag = c.tag
order by c.tag
