"""Silver tag quality: per tag and day, its points, bad and uncertain points, longest gap and
covered seconds.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.products import ORDER_TAG_PREFIX
from assets.plant.tags import model_tags_table
from assets.silver.modelling import day_params, run_model
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_TAG_QUALITY

# The model's SQL, with the rule it follows in its comments: sql/silver/tag_quality.sql.
_QUALITY_SQL = "silver/tag_quality.sql"


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def tag_quality_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """Every tag, over the day alone, and from the look-back each tag's source and last point
    (`points_before_day`): all that the look-back adds to a day's tag quality."""
    return PointSelection(
        lookback=dt.timedelta(0),
        lookahead=dt.timedelta(0),
        held=False,
        before_day=True,
        aliases=aliases.pairs,
        # an order is a record of the orders export, not a signal with gaps and coverage
        except_prefixes=(ORDER_TAG_PREFIX,),
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
