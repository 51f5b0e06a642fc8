"""The morning schedule (build the production day that has just ended) and the weekly maintenance."""

from __future__ import annotations

import dagster as dg

from assets.plant.config import PlantConfig

from .jobs import JOB_KIND_TAG


def schedule_status(on: bool) -> dg.DefaultScheduleStatus:
    """Running unless the plant YAML's automation section switches it off: a fresh deployment builds its
    days without anyone first starting the schedule in the UI."""
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


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
            default_status=schedule_status(config.automation.daily_schedule),
        )
    ]


MAINTENANCE_JOB = "delta_maintenance_job"


def build_maintenance_schedule(config: PlantConfig) -> dg.ScheduleDefinition:
    """Sunday night, in the plant's time zone: compact, vacuum and checkpoint every Delta table."""
    job = dg.define_asset_job(
        MAINTENANCE_JOB,
        selection=dg.AssetSelection.groups("maintenance"),
        tags={JOB_KIND_TAG: "maintenance"},
        description="Compact small files, vacuum files past the retention and checkpoint the log of every table.",
    )
    return dg.ScheduleDefinition(
        name="weekly_maintenance_schedule",
        job=job,
        # 03:30 on Sunday: after the daily build of most plants, before the week's first shift.
        cron_schedule="30 3 * * 0",
        execution_timezone=config.timezone,
        default_status=schedule_status(config.automation.maintenance_schedule),
        description="Each Sunday at 03:30 plant time, the weekly maintenance of the Delta tables.",
    )
