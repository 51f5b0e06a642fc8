"""Sensors: each new file in a landing folder starts its own landing run; landed data starts the days it touched."""

import hashlib
import json
import os
import time

import dagster as dg

from assets.core.landing import discover_files, known_files
from assets.core.schemas import BRONZE_POINTS

from .resources import LakehouseResource

# A file must be this old, and its size unchanged since the last tick, before it is landed: an export
# still being written is left for a later tick.
DEFAULT_SETTLE_SECONDS = 30.0
MAX_REQUESTS_PER_TICK = 200


def settle_seconds() -> float:
    return float(os.environ.get("LANDING_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def build_sensors(land_job, daily_job) -> list[dg.SensorDefinition]:
    @dg.sensor(
        name="landing_folder_sensor",
        job=land_job,
        minimum_interval_seconds=30,
        description="One landing run per new file (run key: its content hash), once the file has stopped "
        "growing; never a second run for content already landed.",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
        cursor = json.loads(context.cursor) if context.cursor else {}
        sizes: dict[str, int] = cursor.get("sizes", {})
        requested: dict[str, str] = cursor.get("requested", {})
        root = lakehouse.landing_path()
        now = time.time()
        known = None
        requests: list[dg.RunRequest] = []
        waiting: list[str] = []
        new_sizes: dict[str, int] = {}
        for source in lakehouse.plant().sources:
            paths, _notes = discover_files(root, source)
            for path in paths:
                rel = path.relative_to(root).as_posix()
                stat = path.stat()
                signature = f"{stat.st_size}:{stat.st_mtime_ns}"
                new_sizes[rel] = stat.st_size
                if requested.get(rel) == signature:
                    continue
                if now - stat.st_mtime < settle_seconds() or sizes.get(rel) != stat.st_size:
                    waiting.append(rel)  # too young, or still growing
                    continue
                if len(requests) >= MAX_REQUESTS_PER_TICK:
                    continue
                digest = _sha256(path)
                known = known or known_files(lakehouse.lakehouse())
                requested[rel] = signature
                if digest in known.contents:
                    continue  # this content has landed (under this or another name): nothing to run
                requests.append(
                    dg.RunRequest(
                        run_key=digest,
                        run_config={"ops": {"land_exports": {"config": {"files": [rel]}}}},
                        tags={"iiot/file": rel[:200]},
                    )
                )
        requested = {rel: sig for rel, sig in requested.items() if rel in new_sizes}
        context.update_cursor(json.dumps({"sizes": new_sizes, "requested": requested}, sort_keys=True))
        if not requests:
            reason = f"{len(waiting)} file(s) still settling" if waiting else "no new files in the landing folders"
            return dg.SkipReason(reason)
        return requests

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


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(8 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
