-- oee_site_daily: one row per site per production day, from the shared roll-up (stg_oee_rollups):
-- machine times summed, ratios recomputed through ideal time, output = the sum of the lines' outputs.
-- data_quality_ok is false when any machine's day is.
with
rolled_up as (
    select * exclude (level, window_kind, area, line, shift_name, shift_start, shift_end)
    from stg_oee_rollups
    where level = 'site' and window_kind = 'day' and day in (select unnest($days::date[]))
),

machine_flags as (
    select site, day, bool_and(data_quality_ok) as data_quality_ok
    from oee_daily
    where day in (select unnest($days::date[]))
    group by site, day
),

final as (
    select r.*, f.data_quality_ok
    from rolled_up as r
    left join machine_flags as f on f.site = r.site and f.day = r.day
)

-- the site's OEE target of the plant YAML (plant__target), and how far the OEE is above (+) or below (-) it
select f.*, t.oee_target, f.oee - t.oee_target as oee_target_gap
from final as f
left join plant__target as t on t.level = 'site' and t.site = f.site
order by f.site, f.day
