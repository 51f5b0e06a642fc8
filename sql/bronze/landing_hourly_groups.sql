-- landing_hourly_groups: per outcome, tag and hour, what the ledger, the tag catalog and the touched hours
-- need, in one pass over a relation of points with an `outcome` column (named by `rel`): a few rows per tag
-- and hour, however many points.
create or replace temp macro bronze_hourly_groups(rel) as table
select
    outcome, tag, date_trunc('hour', ts) as hour, count(*) as points, min(ts) as first_seen, max(ts) as last_seen,
    count(*) filter (where quality = 'bad') as bad_points,
    count(*) filter (where quality = 'uncertain') as uncertain_points
from query_table(rel)
group by all;
