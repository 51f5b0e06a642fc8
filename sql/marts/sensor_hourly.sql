-- sensor_hourly: per condition-monitoring tag and UTC hour of the production day: time-weighted
-- mean, min and max of the valid values, seconds with a value in force, and the share of the hour
-- with a good-quality value. An hour split by the day's edge appears in both days, each with its part.
-- hour_local is the same hour on the plant's wall clock (plant__site.timezone) with its UTC offset: on the
-- night the clocks go back two UTC hours show the same local hour (told apart by the offset), on the night
-- they go forward one local hour has no row. line and machine are those whose sensor_tags list the tag
-- (plant__sensor_tag), NULL for a plant-wide tag.
with
pieces as (
    select
        s.day,
        s.tag,
        s.source,
        h.hour,
        greatest(s.start, h.hour) as start,
        least(s."end", h.hour + interval 1 hour) as "end",
        s.value,
        s.quality
    from silver__sensor_intervals as s
    cross join lateral (
        select unnest(generate_series(date_trunc('hour', s.start), s."end" - interval 1 microsecond, interval 1 hour))
            as hour
    ) as h
    where s.day in (select unnest($days::date[]))
),

timed as (
    select
        *,
        (epoch_us("end") - epoch_us(start)) / 1e6 as seconds,
        -- the plant's offset from UTC in that hour, minutes (+60 in Berlin's winter, +120 in its summer)
        cast((epoch_us(timezone((select timezone from plant__site), hour)) - epoch_us(hour)) / 60000000 as integer)
            as local_offset_min
    from pieces
    where "end" > start
),

final as (
    select
        tag,
        any_value(source) as source,
        day,
        hour,
        -- as text with its UTC offset: Delta readers without the timestamp-without-zone feature read it
        strftime(timezone((select timezone from plant__site), hour), '%Y-%m-%d %H:%M')
            || printf('%+03d:%02d', local_offset_min // 60, abs(local_offset_min) % 60) as hour_local,
        sum(value * seconds) filter (where value is not null)
            / nullif(sum(seconds) filter (where value is not null), 0) as mean,
        min(value) as min,
        max(value) as max,
        coalesce(sum(seconds) filter (where value is not null), 0) as valid_s,
        coalesce(sum(seconds) filter (where quality = 'good'), 0) / 3600 as good_share
    from timed
    group by tag, day, hour, local_offset_min
)

select f.tag, st.line, st.machine, f.* exclude (tag)
from final as f
left join plant__sensor_tag as st on st.tag = f.tag
order by f.tag, f.hour
