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
    -- a work order's point (format orders_csv, tag `order:<id>`) is no historian tag: the orders map it
    m.tag is not null or starts_with(c.tag, 'order:') as mapped,
    m.line,
    m.machine,
    coalesce(m.role, case when starts_with(c.tag, 'order:') then 'order' end) as role
from catalog as c
left join model_tags as m on m.tag = c.tag
order by c.tag
