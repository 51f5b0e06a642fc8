"""Silver count increments: the counter tags' readings turned into increments inside the day, through
wraps, resets and jitter.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.silver.modelling import as_utc, day_params, run_model
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_COUNT_INCREMENTS


def counter_tags_table(config: PlantConfig) -> pa.Table:
    """Counter tags with their rollover, the fastest plausible rate per second and the back-step tolerance.

    The rate tells a wrap from a reset: a wrap implies the counter advanced (rollover - prev + value)
    since the last reading, which must be physically possible in the time that passed (twice the
    ideal rate leaves room for an ideal cycle time set a little slow). A step back of at most the
    tolerance is jitter, not a reset.
    """
    rows = [
        (m.line, m.name, kind, tag, m.counter_rollover, 2.0 / m.ideal_cycle_time_s, m.counter_backstep_tolerance)
        for m in config.oee_machines
        for kind, tag in m.counter_tags.items()
    ]
    return pa.table(
        {
            "line": pa.array([r[0] for r in rows], pa.string()),
            "machine": pa.array([r[1] for r in rows], pa.string()),
            "kind": pa.array([r[2] for r in rows], pa.string()),
            "tag": pa.array([r[3] for r in rows], pa.string()),
            "rollover": pa.array([r[4] for r in rows], pa.float64()),
            "max_rate": pa.array([r[5] for r in rows], pa.float64()),
            "backstep_tolerance": pa.array([r[6] for r in rows], pa.float64()),
        }
    )


# The model's SQL, with the rule it follows in its comments: sql/silver/count_increments.sql.
_INCREMENTS_SQL = "silver/count_increments.sql"


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def count_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The counter tags, over the look-back (the last reading before the day) and the day's end."""
    return PointSelection(
        tags=tuple(tag for m in config.oee_machines for tag in m.counter_tags.values()), aliases=aliases.pairs
    )


def model_count_increments(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Counter increments inside the day, each at the time of the reading that showed it."""
    table = run_model(con, _INCREMENTS_SQL, day_params(config, day, window), {"meter_tags": counter_tags_table(config)})
    return SILVER_COUNT_INCREMENTS.conform(as_utc(table, ("ts",)))
