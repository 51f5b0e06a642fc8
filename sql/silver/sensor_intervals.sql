-- sensor_intervals: the day's points of other tags as held-value intervals.
with pts as (
    select tag, source, ts, value, quality
    from points
    where tag not in (select tag from model_tags) and (value is not null or quality = 'bad')
),
intervals as (
    select
        tag,
        source,
        ts as start,
        least(
            coalesce(lead(ts) over (partition by tag order by ts), $day_end),
            ts + to_microseconds(cast($max_gap_s * 1e6 as bigint))
        ) as "end",
        case when quality = 'bad' then null else value end as value,
        quality
    from pts
)
select
    $day as day,
    tag,
    source,
    greatest(start, $day_start) as start,
    least("end", $day_end) as "end",
    value,
    quality
from intervals
where start < $day_end and "end" > $day_start and least("end", $day_end) > greatest(start, $day_start)
order by tag, start
