"""Sensors: new files in the landing folder start a landing run; landed data starts the days it touched."""

import hashlib
import json

import dagster as dg

from assets.core.landing import discover_files
from assets.core.schemas import BRONZE_POINTS

from .resources import LakehouseResource


def build_sensors(land_job, daily_job) -> list[dg.SensorDefinition]:
    @dg.sensor(
        name="landing_folder_sensor",
        job=land_job,
        minimum_interval_seconds=60,
        description="Starts a landing run when a file appears or changes in a source's landing folder.",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        current: dict[str, str] = {}
        root = lakehouse.landing_path()
        for source in lakehouse.plant().sources:
            paths, _notes = discover_files(root, source)
            for path in paths:
                stat = path.stat()
                current[path.relative_to(root).as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
        changed = sorted(name for name, sig in current.items() if seen.get(name) != sig)
        context.update_cursor(json.dumps(current, sort_keys=True))
        if not changed:
            return dg.SkipReason("no new or changed files in the landing folders")
        run_key = hashlib.sha256(json.dumps({n: current[n] for n in changed}).encode()).hexdigest()[:32]
        return dg.RunRequest(run_key=run_key, tags={"iiot/new_files": str(len(changed))})

    @dg.asset_sensor(
        asset_key=dg.AssetKey(BRONZE_POINTS.name),
        name="landed_days_sensor",
        job=daily_job,
        description="After landing, rebuilds every production day that gained new points.",
    )
    def landed_days_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        materialization = asset_event.asset_materialization
        touched = materialization.metadata.get("touched_days") if materialization else None
        days = touched.value if touched is not None else []
        for day in days:
            yield dg.RunRequest(run_key=f"{asset_event.run_id}:{day}", partition_key=day)

    return [landing_folder_sensor, landed_days_sensor]
