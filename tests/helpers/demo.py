"""The demo plant as the reliability tests run it: its config, the first day of its exports, three days."""

from __future__ import annotations

import datetime as dt

from assets.plant.config import DEFAULT_PLANT_CONFIG

DEMO_START = dt.date(2026, 3, 2)
PLANT_CONFIG = str(DEFAULT_PLANT_CONFIG)
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
