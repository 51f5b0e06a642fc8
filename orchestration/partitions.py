"""Production-day partitions: daily, in the plant's time zone, starting at calendar.day_start."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.core.plant import PlantConfig


def production_day_partitions(config: PlantConfig) -> dg.DailyPartitionsDefinition:
    """One partition per production day; its key is the plant-local date on which the day starts."""
    start = config.calendar.day_start
    return dg.DailyPartitionsDefinition(
        start_date=config.calendar.first_day.isoformat(),
        timezone=config.timezone,
        hour_offset=start.hour,
        minute_offset=start.minute,
        fmt="%Y-%m-%d",
    )


def partition_day(key: str) -> dt.date:
    """A partition key back to the production day it names."""
    return dt.date.fromisoformat(key)
