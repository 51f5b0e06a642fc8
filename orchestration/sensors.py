"""Sensors: each new file in a landing folder starts its own landing run; landed data starts the days it touched."""

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from functools import partial

import dagster as dg

from assets.bronze.landing import PARTIAL_SUFFIXES, discover_files, known_files, local_version, settle_seconds
from assets.marts.publish import stale_days
from assets.storage import object_store
from assets.storage.schemas import BRONZE_POINTS

from .partitions import split_by_partition
from .resources import LakehouseResource

MAX_REQUESTS_PER_TICK = 200


def build_sensors(land_job, daily_job, running: bool = True) -> list[dg.SensorDefinition]:
    """The landing sensors; running by default, stopped when the plant YAML's automation.landing_sensors is false."""
    status = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(
        name="landing_folder_sensor",
        job=land_job,
        minimum_interval_seconds=30,
        default_status=status,
        description="One landing run per new file (run key: its content hash), once the file has stopped "
        "growing; never a second run for content already landed.",
    )
    def landing_folder_sensor(context: dg.SensorEvaluationContext, lakehouse: LakehouseResource):
        cursor = json.loads(context.cursor) if context.cursor else {}
        sizes: dict[str, int] = cursor.get("sizes", {})
        requested: dict[str, str] = cursor.get("requested", {})
        now = time.time()
        known = None
        requests: list[dg.RunRequest] = []
        waiting: list[str] = []
        new_sizes: dict[str, int] = {}
        for rel, size, mtime_ns, version, content_sha256 in _landing_files(lakehouse):
            signature = f"{size}:{mtime_ns}:{version}"
            new_sizes[rel] = size
            if requested.get(rel) == signature:
                continue
            if now - mtime_ns / 1e9 < settle_seconds() or sizes.get(rel) != size:
                waiting.append(rel)  # too young, or still growing
                continue
            if len(requests) >= MAX_REQUESTS_PER_TICK:
                continue
            digest = content_sha256()
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
        default_status=status,
        description="After landing, rebuilds every production day that gained new points, and every day whose "
        "last build did not finish or whose inputs are newer than its marts (the day watermark).",
    )
    def landed_days_sensor(
        context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry, lakehouse: LakehouseResource
    ):
        materialization = asset_event.asset_materialization
        touched = materialization.metadata.get("touched_days") if materialization else None
        days = [dt.date.fromisoformat(d) for d in (touched.value if touched is not None else [])]
        ready, waiting = split_by_partition(daily_job.partitions_def, days)
        if waiting:
            # the running day is built by the morning schedule once it has ended
            context.log.info(f"not over yet, built once ended: {', '.join(map(str, waiting))}")
        stale = [
            s
            for s in stale_days(lakehouse.lakehouse_root, lakehouse.plant(), lakehouse.storage_options())
            if s.day not in ready and daily_job.partitions_def.has_partition_key(s.day.isoformat())
        ]
        for s in stale:
            context.log.info(f"production day {s}: rebuilt")
        for day in sorted(ready + [s.day for s in stale]):
            yield dg.RunRequest(run_key=f"{asset_event.run_id}:{day}", partition_key=day.isoformat())

    return [landing_folder_sensor, landed_days_sensor]


def _landing_files(lakehouse: LakehouseResource) -> Iterator[tuple[str, int, int, str, Callable[[], str]]]:
    """Each file waiting in a source's folder: path relative to LANDING_ROOT, size, modification time
    (ns; an object's LastModified), version and a function hashing its content.

    A local file's version is its device, inode and change time, so a file replaced with the same size
    and a preserved modification time is seen as new. An object's is left empty: the settle time has
    passed before a request, so a later rewrite carries a later LastModified.
    """
    root = lakehouse.landing_path()
    sources = lakehouse.plant().sources
    if isinstance(root, str):  # an s3:// landing prefix
        options = lakehouse.storage_options()
        for remote in object_store.list_landing(root, options):
            in_source = any(remote.rel.startswith(f"{s.folder.strip('/')}/") for s in sources)
            if in_source and not remote.rel.lower().endswith(PARTIAL_SUFFIXES):
                uri = f"{root}/{remote.rel}"
                yield (
                    remote.rel,
                    remote.size,
                    int(remote.modified.timestamp() * 1e9),
                    "",
                    partial(object_store.sha256, uri, options),
                )
        return
    for source in sources:
        paths, _notes = discover_files(root, source)
        for path in paths:
            stat = path.stat()
            rel = path.relative_to(root).as_posix()
            yield rel, stat.st_size, stat.st_mtime_ns, local_version(stat), partial(_sha256, path)


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(8 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
