-- landing_tag_stats: the tag catalog's rows of a file's new points, per tag (from `outcome_groups`).
select
    tag, $source as source, min(first_seen) as first_seen, max(last_seen) as last_seen,
    sum(points)::bigint as points, sum(bad_points)::bigint as bad_points,
    sum(uncertain_points)::bigint as uncertain_points
from outcome_groups
where outcome = 'new'
group by tag
