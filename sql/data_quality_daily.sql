-- data_quality_daily: per tag and production day: points, share of bad and uncertain points, the
-- longest gap between points (day edges included), the share of the day with a valid value in
-- force, and whether an OEE or energy number rests on the tag (the machine and role it serves).
select
    q.tag,
    q.source,
    q.day,
    q.points,
    q.bad_points / nullif(q.points, 0) as bad_share,
    q.uncertain_points / nullif(q.points, 0) as uncertain_share,
    q.longest_gap_s,
    q.covered_s / nullif(q.day_s, 0) as coverage,
    t.tag is not null as used_in_oee,
    t.line,
    t.machine,
    t.role
from silver__tag_quality as q
left join dim_tag as t on t.tag = q.tag
where q.day in (select unnest($days::date[]))
order by q.tag, q.day
