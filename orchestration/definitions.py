"""The Dagster definitions: every layer's assets, the jobs, the morning schedule and the sensors."""

from __future__ import annotations

import dagster as dg

from assets.bronze.assets import land_exports
from assets.marts.assets import build_mart_assets
from assets.report.assets import build_report_assets
from assets.silver.assets import build_silver_assets
from assets.storage.assets import maintenance__delta_tables

from .alerts import AlertResource, alerts_from_env, build_alert_sensor
from .executors import executor_from_env
from .freshness import build_freshness
from .jobs import DAILY_JOB, LANDING_JOB, build_jobs
from .partitions import production_day_partitions
from .resources import LakehouseResource, resource_from_env
from .schedules import build_maintenance_schedule, build_schedules
from .sensors import build_sensors


def build_definitions(
    lakehouse: LakehouseResource | None = None,
    executor: dg.ExecutorDefinition | None = None,
    alerts: AlertResource | None = None,
) -> dg.Definitions:
    """Definitions for one plant; the plant YAML sets the partitions (time zone, day start), the
    environment the executor of the steps (IIOT_EXECUTOR, see executors.py) and where alerts go (ALERT_*,
    see alerts.py)."""
    lakehouse = lakehouse or resource_from_env()
    config = lakehouse.plant()
    partitions = production_day_partitions(config)
    freshness_checks, freshness_job, freshness_schedule = build_freshness(config)
    land_job, daily_job = build_jobs(partitions, freshness_checks)
    return dg.Definitions(
        assets=[
            land_exports,
            *build_silver_assets(partitions),
            *build_mart_assets(partitions),
            *build_report_assets(partitions),
            maintenance__delta_tables,
        ],
        asset_checks=freshness_checks,
        jobs=[land_job, daily_job, freshness_job],
        schedules=[*build_schedules(daily_job, config), build_maintenance_schedule(config), freshness_schedule],
        sensors=[
            *build_sensors(land_job, daily_job, running=config.automation.landing_sensors),
            build_alert_sensor(running=config.automation.alerts),
        ],
        resources={"lakehouse": lakehouse, "alerts": alerts or alerts_from_env()},
        executor=executor or executor_from_env(),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded by `dagster dev -w workspace.yaml`; reads the environment then, not at import."""
    return build_definitions()


__all__ = ["DAILY_JOB", "LANDING_JOB", "build_definitions", "defs"]
