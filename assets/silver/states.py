"""Silver machine states: the state intervals that tile each machine's production day, from the state
tag's points and the configured state codes.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.silver.modelling import as_utc, day_params, run_model
from assets.silver.points import PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_MACHINE_STATES

# Time with no valid state (no data, bad quality, a code not in the map) is an unplanned stop for
# reason "unknown": never running, so missing data can only make OEE look worse, not better.
UNKNOWN_REASON = "unknown"


def state_map_table(config: PlantConfig) -> pa.Table:
    """One row per machine with OEE and configured state code: the category and reason it means."""
    rows = [
        (m.line, m.name, m.state_tag, code, mapping.category, mapping.reason)
        for m in config.oee_machines
        for code, mapping in m.states.items()
    ]
    names = ["line", "machine", "tag", "code", "category", "reason"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def state_tags_table(config: PlantConfig) -> pa.Table:
    """The state tag of every machine with OEE (a monitoring asset has none, and no state intervals)."""
    machines = config.oee_machines
    return pa.table(
        {
            "line": pa.array([m.line for m in machines], pa.string()),
            "machine": pa.array([m.name for m in machines], pa.string()),
            "tag": pa.array([m.state_tag for m in machines], pa.string()),
            "microstop_threshold_s": pa.array([m.microstop_threshold_s for m in machines], pa.float64()),
        }
    )


# The model's SQL, with the rule it follows in its comments: sql/silver/machine_states.sql.
_STATES_SQL = "silver/machine_states.sql"


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def machine_state_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The state tags, over the whole look-back: a stop's start may lie days before the day."""
    return PointSelection(tags=tuple(m.state_tag for m in config.oee_machines), aliases=aliases.pairs)


def model_machine_states(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """State intervals of every machine with OEE that tile the production day exactly."""
    table = run_model(
        con,
        _STATES_SQL,
        day_params(config, day, window) | {"unknown": UNKNOWN_REASON},
        {"state_tags": state_tags_table(config), "state_map": state_map_table(config)},
    )
    return SILVER_MACHINE_STATES.conform(as_utc(table, ("start", "end", "event_start", "event_end")))
