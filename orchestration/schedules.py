"""The morning schedule: build the production day that has just ended."""

from __future__ import annotations

import dagster as dg

from assets.core.plant import PlantConfig


def build_schedules(daily_job, config: PlantConfig) -> list:
    # An hour after the day ends, so that the night's last exports have arrived and landed.
    start = config.calendar.day_start
    return [
        dg.build_schedule_from_partitioned_job(
            daily_job,
            name="daily_oee_schedule",
            description="Each morning, model the production day that ended an hour ago and publish its marts.",
            hour_of_day=(start.hour + 1) % 24,
            minute_of_hour=start.minute,
        )
    ]
