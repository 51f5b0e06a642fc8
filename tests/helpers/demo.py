"""The demo plant as the reliability tests run it: its config, the first day of its exports, three days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from assets.plant.config import DEFAULT_PLANT_CONFIG

DEMO_START = dt.date(2026, 3, 2)
PLANT_CONFIG = str(DEFAULT_PLANT_CONFIG)
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]

# Every schedule and sensor of the plant YAML's `automation:` section, switched off.
AUTOMATION_OFF = {
    "daily_schedule": False,
    "landing_sensors": False,
    "maintenance_schedule": False,
    "alerts": False,
    "freshness_checks": False,
}


def demo_plant_yaml(path: Path, **changes: dict) -> Path:
    """The demo plant.yaml written to `path`, with `changes` merged into its top-level sections."""
    raw = yaml.safe_load(DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8"))
    for section, values in changes.items():
        raw[section] = {**(raw.get(section) or {}), **values}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path
