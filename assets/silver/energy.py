"""Silver energy segments: kWh over spans that tile the day per energy tag, from meters, power readings
or intervals, and the spans whose energy is unknown.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.config import PlantConfig
from assets.plant.machines import Machine
from assets.silver.modelling import as_utc, day_params, run_model
from assets.silver.points import LOOKAHEAD, PointSelection
from assets.silver.tag_aliases import NO_ALIASES, TagAliases
from assets.storage.schemas import SILVER_ENERGY_INCREMENTS


def energy_tags_table(config: PlantConfig) -> pa.Table:
    """Energy tags by kind: cumulative meter (with rollover), power in kW, or interval energy, with the
    configured max gap (NULL: three typical reading intervals of the tag)."""
    rows = []
    for m in config.machines:
        for kind, tag in m.energy_tags.items():
            rows.append(
                (
                    m.line,
                    m.name,
                    kind,
                    tag,
                    m.energy_rollover,
                    m.energy_interval_s,
                    m.energy_interval_label,
                    energy_max_gap_s(config, m),
                )
            )
    names = ["line", "machine", "kind", "tag", "rollover", "interval_s", "label", "max_gap_s"]
    types = [pa.string()] * 4 + [pa.float64(), pa.float64(), pa.string(), pa.float64()]
    return pa.table({n: pa.array([r[i] for r in rows], types[i]) for i, n in enumerate(names)})


def energy_max_gap_s(config: PlantConfig, machine: Machine) -> float | None:
    """The longest a reading of the machine's energy tag may stand for: the machine's
    energy_max_gap_s, else modelling's; None leaves it to three typical reading intervals of the tag."""
    return machine.energy_max_gap_s if machine.energy_max_gap_s is not None else config.energy_max_gap_s


# Energy: one SQL for the known kWh and the unknown spans, so that the marts read both from one rule.
_ENERGY_SQL = "silver/energy_increments.sql"


# Each selection reads a renamed tag's earlier names too (`aliases`, see tag_aliases), under its
# current name: a day built before the rename and rebuilt keeps its points.


def energy_points(config: PlantConfig, aliases: TagAliases = NO_ALIASES) -> PointSelection:
    """The energy tags, over the look-back and the look-ahead (a meter interval over the day's end).

    Both reach at least the longest configured energy_max_gap_s, so that a reading the next one closes
    within the max gap is seen closed, and the reading held into the day is found."""
    gaps = [g for m in config.machines if m.energy_tags and (g := energy_max_gap_s(config, m)) is not None]
    widest = dt.timedelta(seconds=max(gaps, default=0.0))
    return PointSelection(
        tags=tuple(tag for m in config.machines for tag in m.energy_tags.values()),
        lookback=max(dt.timedelta(days=config.state_lookback_days), widest),
        lookahead=max(LOOKAHEAD, widest),
        last_seen=True,
        aliases=aliases.pairs,
    )


def model_energy(
    con: duckdb.DuckDBPyConnection, config: PlantConfig, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> pa.Table:
    """Energy segments (kWh over a span of time) that tile the day per energy tag, from meters, power
    readings or intervals, and the spans whose energy is unknown (sql/silver/energy_increments.sql)."""
    table = run_model(con, _ENERGY_SQL, day_params(config, day, window), {"energy_tags": energy_tags_table(config)})
    return SILVER_ENERGY_INCREMENTS.conform(as_utc(table, ("start", "end")))
