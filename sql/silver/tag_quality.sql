-- tag_quality: per tag, the day's points, coverage and gaps.
--
-- Every tag the model uses, and every other tag seen from the look-back to the day's end, is listed:
-- a sensor that fell silent before the day shows 0 points and its coverage, not nothing. `points` holds
-- the day's points; `points_before_day` each tag's first source and last point in the look-back, which
-- is all the look-back adds: the last point before the day is the one whose value is held into it.
-- A value holds until the next point (machine tags) or at most sensor_max_gap_s (other tags); the
-- day's edges count as points for the gaps. One pass over the day's points, ordered once per tag.
with stepped as (
    select
        tag,
        source,
        ts,
        quality,
        lead(ts) over (partition by tag order by ts) as next_ts,
        tag in (select tag from model_tags) as is_model_tag
    from points
    where ts >= $day_start and ts < $day_end
),
in_day as (
    select
        tag,
        min(source) as source,
        count(*) as points,
        count(*) filter (where quality = 'bad') as bad_points,
        count(*) filter (where quality = 'uncertain') as uncertain_points,
        epoch_us(min(ts)) - epoch_us($day_start) as lead_in_us,
        epoch_us($day_end) - epoch_us(max(ts)) as lead_out_us,
        max(epoch_us(next_ts) - epoch_us(ts)) as longest_inside_us,
        min(ts) as first_ts,
        coalesce(sum(
            epoch_us(least(
                coalesce(next_ts, $day_end),
                case when is_model_tag then $day_end else ts + to_microseconds($max_gap_us) end
            )) - epoch_us(ts)
        ) filter (where quality <> 'bad'), 0) as covered_us
    from stepped
    group by tag
),
carried_in as (
    -- the last value before the day holds into it until the day's first point, or for at most the gap
    select
        b.tag,
        greatest(
            epoch_us(least(
                coalesce(d.first_ts, $day_end),
                case when b.tag in (select tag from model_tags) then $day_end
                     else b.ts + to_microseconds($max_gap_us) end
            )) - epoch_us($day_start),
            0
        ) as covered_us
    from points_before_day as b
    left join in_day as d on d.tag = b.tag
    where b.quality <> 'bad'
),
seen as (
    select tag, min(source) as source
    from (
        select tag, source from in_day
        union all select tag, source from points_before_day
    )
    group by tag
),
tags as (
    select tag, source from seen
    union
    select tag, null as source from model_tags where tag not in (select tag from seen)
)
select
    $day as day,
    t.tag,
    t.source,
    coalesce(d.points, 0) as points,
    coalesce(d.bad_points, 0) as bad_points,
    coalesce(d.uncertain_points, 0) as uncertain_points,
    case
        when d.tag is null then epoch_us($day_end) - epoch_us($day_start)
        else greatest(d.lead_in_us, d.lead_out_us, coalesce(d.longest_inside_us, 0))
    end / 1e6 as longest_gap_s,
    (coalesce(d.covered_us, 0) + coalesce(c.covered_us, 0)) / 1e6 as covered_s,
    (epoch_us($day_end) - epoch_us($day_start)) / 1e6 as day_s
from tags as t
left join in_day as d on d.tag = t.tag
left join carried_in as c on c.tag = t.tag
order by t.tag
