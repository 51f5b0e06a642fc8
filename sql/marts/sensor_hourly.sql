-- sensor_hourly: per condition-monitoring tag and UTC hour of the production day: time-weighted
-- mean, min and max of the valid values, seconds with a value in force, and the share of the hour
-- with a good-quality value. An hour split by the day's edge appears in both days, each with its part.
-- hour_local is the same hour on the plant's wall clock (plant__site.timezone): on the night the clocks go
-- back two UTC hours show the same local hour, on the night they go forward one local hour has no row.
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
    select *, (epoch_us("end") - epoch_us(start)) / 1e6 as seconds
    from pieces
    where "end" > start
),

final as (
    select
        tag,
        any_value(source) as source,
        day,
        hour,
        timezone((select timezone from plant__site), hour) as hour_local,
        sum(value * seconds) filter (where value is not null)
            / nullif(sum(seconds) filter (where value is not null), 0) as mean,
        min(value) as min,
        max(value) as max,
        coalesce(sum(seconds) filter (where value is not null), 0) as valid_s,
        coalesce(sum(seconds) filter (where quality = 'good'), 0) / 3600 as good_share
    from timed
    group by tag, day, hour
)

select * from final
order by tag, hour
