-- tag_catalog_rebuild: the tag catalog's counts per tag from all of bronze (view `bronze`), for a catalog
-- (view `catalog`) found short of bronze.
with counted as (
    select
        tag, arg_min(source, ts) as source, min(ts) as first_seen, max(ts) as last_seen,
        count(*) as points,
        count(*) filter (where quality = 'bad') as bad_points,
        count(*) filter (where quality = 'uncertain') as uncertain_points
    from bronze
    group by tag
),
-- bronze does not keep units: carry them over from the catalog being rebuilt
known_units as (
    select tag, any_value(unit) as unit from catalog where unit is not null group by tag
)
select c.*, u.unit from counted as c left join known_units as u on u.tag = c.tag
