-- tag_catalog_merge: the tag catalog (view `catalog`) with the per-tag counts of newly landed points
-- (`new_stats`) added, and each tag's place in the plant model (`model_tags`); $now: the update's time.
with combined as (
    select tag, source, first_seen, last_seen, points, bad_points, uncertain_points, unit from catalog
    union all
    select tag, source, first_seen, last_seen, points, bad_points, uncertain_points, unit from new_stats
),
summed as (
    select
        tag,
        arg_min(source, first_seen) as source,
        min(first_seen) as first_seen,
        max(last_seen) as last_seen,
        sum(points) as points,
        sum(bad_points) as bad_points,
        sum(uncertain_points) as uncertain_points,
        arg_max(unit, last_seen) filter (where unit is not null) as unit
    from combined
    group by tag
)
select
    s.tag,
    s.source,
    s.first_seen,
    s.last_seen,
    cast(s.points as bigint) as points,
    cast(s.bad_points as bigint) as bad_points,
    cast(s.uncertain_points as bigint) as uncertain_points,
    s.bad_points / nullif(s.points, 0) as bad_share,
    s.unit,
    -- a work order's point (format orders_csv, tag `order:<id>`) is no historian tag: the orders map it
    m.tag is not null or starts_with(s.tag, 'order:') as mapped,
    m.line,
    m.machine,
    coalesce(m.role, case when starts_with(s.tag, 'order:') then 'order' end) as role,
    $now as updated_at
from summed as s
left join model_tags as m on m.tag = s.tag
order by s.tag
