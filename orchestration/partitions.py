"""Production-day partitions: daily, in the plant's time zone, starting at calendar.day_start."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.plant.calendar import partition_day
from assets.plant.config import PlantConfig

__all__ = ["partition_day", "production_day_partitions", "split_by_partition"]


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


def split_by_partition(
    partitions_def: dg.PartitionsDefinition, days: list[dt.date]
) -> tuple[list[dt.date], list[dt.date]]:
    """The days that are partitions (they have ended), and those that are not: the production day still
    running, a later one, or one before calendar.first_day. Exports carry the running day's points
    too, so landing touches a day that cannot be built until it has ended."""
    ready = [d for d in days if partitions_def.has_partition_key(d.isoformat())]
    return ready, [d for d in days if d not in ready]
