"""Silver tag quality: per tag and day, its points, bad and uncertain points, longest gap and
covered seconds.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.tags import model_tags_table
from assets.silver.modelling import day_params, run_model
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_TAG_QUALITY

# Every tag the model uses, and every other tag seen from the look-back to the day's end, is listed:
# a sensor that fell silent before the day shows 0 points and its coverage, not nothing. `points` holds
# the day's points; `points_before_day` each tag's first source and last point in the look-back, which
# is all the look-back adds: the last point before the day is the one whose value is held into it.
# A value holds until the next point (machine tags) or at most sensor_max_gap_s (other tags); the
# day's edges count as points for the gaps. One pass over the day's points, ordered once per tag.
_QUALITY_SQL = """
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
"""


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def tag_quality_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """Every tag, over the day alone, and from the look-back each tag's source and last point
    (`points_before_day`): all that the look-back adds to a day's tag quality."""
    return PointSelection(
        lookback=dt.timedelta(0), lookahead=dt.timedelta(0), held=False, before_day=True, aliases=aliases.pairs
    )


def model_tag_quality(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Per tag: points, bad and uncertain points, longest gap and covered seconds of the day.

    Reads the day's `points` (see tag_quality_points) and `points_before_day`."""
    table = run_model(
        con,
        _QUALITY_SQL,
        day_params(config, day, window) | {"max_gap_us": round(config.sensor_max_gap_s * 1e6)},
        {"model_tags": model_tags_table(config)},
    )
    return SILVER_TAG_QUALITY.conform(table)
