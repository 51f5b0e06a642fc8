"""The tags the plant's machine model uses, as a table: read by the landing's tag catalog, the silver
models and the marts' tag dimension alike, so it sits beside the plant's definitions below them all."""

from __future__ import annotations

import pyarrow as pa

from assets.plant.config import PlantConfig


def model_tags_table(config: PlantConfig) -> pa.Table:
    """Every tag the machine model uses, with its machine and role."""
    rows = []
    for m in config.machines:
        if m.state_tag is not None:
            rows.append((m.line, m.name, m.state_tag, "state"))
        rows.extend((m.line, m.name, tag, f"{kind}_count") for kind, tag in m.counter_tags.items())
        rows.extend((m.line, m.name, tag, f"energy_{kind}") for kind, tag in m.energy_tags.items())
        if m.product_tag is not None:
            rows.append((m.line, m.name, m.product_tag, "product"))
    names = ["line", "machine", "tag", "role"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})


def sensor_tags_table(config: PlantConfig) -> pa.Table:
    """The condition-monitoring tags the plant YAML gives a machine (`sensor_tags`), with its line."""
    rows = [(m.line, m.name, tag) for m in config.machines for tag in m.sensor_tags]
    names = ["line", "machine", "tag"]
    return pa.table({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})
