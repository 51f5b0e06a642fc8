"""A plant of any size for the benchmark, written as the same YAML-shaped dict a plant engineer writes."""

from __future__ import annotations

from dataclasses import dataclass

from assets.plant.config import PlantConfig, parse_plant_config

STATES = {
    1: "running",
    2: {"category": "planned_stop", "reason": "Changeover"},
    3: {"category": "unplanned_stop", "reason": "Jam"},
    4: {"category": "not_scheduled", "reason": "No orders"},
    5: {"category": "unplanned_stop", "reason": "Breakdown"},
}
MODEL_TAGS = ("State", "Total", "Reject", "kWh")


@dataclass(frozen=True)
class BenchTag:
    """One historian tag the export generator writes: its machine and what kind of signal it is."""

    tag: str
    kind: str  # state | total | reject | kwh | sensor
    machine: int
    cycle_s: float


def plant_dict(machines: int, machines_per_line: int = 5) -> dict:
    """A plant with `machines` machines in lines of `machines_per_line`, three shifts on working days."""
    lines = []
    for m in range(machines):
        line = m // machines_per_line
        if m % machines_per_line == 0:
            lines.append({"name": f"L{line + 1:02d}", "area": "Packaging", "machines": []})
        name = f"M{m % machines_per_line + 1:02d}"
        prefix = f"L{line + 1:02d}.{name}"
        lines[-1]["machines"].append(
            {
                "name": name,
                "ideal_cycle_time_s": round(0.5 + 0.05 * (m % 7), 2),
                "state_tag": f"{prefix}.State",
                "states": STATES,
                "total_count_tag": f"{prefix}.Total",
                "reject_count_tag": f"{prefix}.Reject",
                "counter_rollover": 65536,
                "energy_kwh_tag": f"{prefix}.kWh",
            }
        )
    return {
        "plant": {"site": "Bench", "timezone": "Europe/Berlin"},
        "calendar": {
            "day_start": "06:00",
            "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "first_day": "2025-01-01",
            "shifts": [
                {"name": "early", "start": "06:00", "end": "14:00"},
                {"name": "late", "start": "14:00", "end": "22:00"},
                {"name": "night", "start": "22:00", "end": "06:00"},
            ],
            "breaks": [{"name": "early_break", "start": "10:00", "end": "10:30"}],
        },
        "sources": [
            {"name": "historian", "format": "aveva_historian_csv", "folder": "historian", "timezone": "Europe/Berlin"}
        ],
        "lines": lines,
    }


def bench_plant(machines: int, machines_per_line: int = 5) -> PlantConfig:
    """The validated plant config of `plant_dict`."""
    return parse_plant_config(plant_dict(machines, machines_per_line), origin=f"bench plant of {machines} machines")


def bench_tags(config: PlantConfig, tags_per_machine: int = 8) -> list[BenchTag]:
    """The model tags of every machine, then condition-monitoring sensors up to `tags_per_machine`."""
    tags = []
    for k, machine in enumerate(config.machines):
        tags.append(BenchTag(machine.state_tag, "state", k, machine.ideal_cycle_time_s))
        for kind, tag in machine.counter_tags.items():
            tags.append(BenchTag(tag, kind, k, machine.ideal_cycle_time_s))
        for tag in machine.energy_tags.values():
            tags.append(BenchTag(tag, "kwh", k, machine.ideal_cycle_time_s))
        prefix = machine.state_tag.rsplit(".", 1)[0]
        for s in range(max(0, tags_per_machine - len(MODEL_TAGS))):
            tags.append(BenchTag(f"{prefix}.Sensor{s + 1:02d}", "sensor", k, machine.ideal_cycle_time_s))
    return sorted(tags, key=lambda t: t.tag)
