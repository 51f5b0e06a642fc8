"""`iiot-lakehouse land`: land new files into bronze, rebuild nothing, and say what came of it.

Prints the ledger's counts and where the quarantined rows went. Exit 1 when a file was rejected or a source
folder is missing, with the last line saying so (as `run`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import dagster as dg

from assets.storage import delta, delta_read
from assets.storage.object_store import UnsafeStoreError
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE

from ..recovery.guard import RunGuard
from ..resources import resource_from_env
from .errors import CommandError
from .instance import ensure_dagster_home, open_instance
from .run_pipeline import QUIET_LOGS, _check_landing_folders, _failure, _pending_files, landing_summary


def cmd_land(args: argparse.Namespace) -> int:
    with RunGuard() as guard:
        return _cmd_land(guard)


def _cmd_land(guard: RunGuard) -> int:
    ensure_dagster_home()
    lakehouse = resource_from_env()
    try:
        lakehouse.check_store()
    except UnsafeStoreError as exc:
        raise CommandError(str(exc)) from None
    instance = open_instance()
    guard.attach(instance)
    config, landing = lakehouse.plant(), lakehouse.landing_path()

    print(f"landing new files from {lakehouse.landing_root}")
    problems: list[str] = []
    pending = None
    if isinstance(landing, Path):
        problems += _check_landing_folders(landing, config)
        pending = _pending_files(lakehouse, config, landing)
    if pending is not None and pending.nothing_to_do:
        # nothing new: no Dagster run is started
        print(f"  files landed: 0, rejected: 0, already landed: {pending.already_landed}")
        for note in pending.notes:
            print(f"  note: {note}")
        if problems:
            raise CommandError("; ".join(problems))
        print("nothing new to land")
        return 0

    from ..definitions import LANDING_JOB, build_definitions

    defs = build_definitions(lakehouse)
    started = dt.datetime.now(dt.UTC)
    land = guard.execute(defs.resolve_job_def(LANDING_JOB), run_config=QUIET_LOGS, raise_on_error=False)
    if not land.success:
        raise CommandError(f"landing failed (run {land.run_id}): {_failure(land, lakehouse.lakehouse_root)}")
    metadata = {}
    for event in land.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(BRONZE_POINTS.name):
            metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    print("  " + landing_summary(metadata))
    for note in metadata.get("notes") or []:
        print(f"  note: {note}")
    quarantined = metadata.get("rows_quarantined") or 0
    if quarantined:
        print(
            f"  {quarantined} value(s) quarantined into {delta.table_uri(lakehouse.lakehouse_root, QUARANTINE.name)}; "
            "list them: iiot-lakehouse quarantine"
        )
        for source_file, rows in _quarantined_by_file(lakehouse, started):
            print(f"    {source_file}: {rows} quarantined")
    days = metadata.get("touched_days") or []
    if days:
        print(f"  production days with new data: {', '.join(days)}; rebuild them: iiot-lakehouse run")
    rejected = metadata.get("rejected_files") or {}
    if rejected:
        problems.insert(
            0, f"{len(rejected)} file(s) rejected: " + "; ".join(f"{f}: {why}" for f, why in rejected.items())
        )
    if problems:
        raise CommandError("; ".join(problems))
    print("landed; nothing rebuilt")
    return 0


def _quarantined_by_file(lakehouse, since: dt.datetime) -> list[tuple[str, int]]:
    """The files this landing wrote to the ledger with quarantined rows, and how many each."""
    rows = delta_read.query_table(
        lakehouse.lakehouse_root,
        FILE_LEDGER,
        f"select source_file, rows_quarantined from {FILE_LEDGER.name} "
        "where landed_at >= ? and rows_quarantined > 0 order by source_file",
        [since],
        storage_options=lakehouse.storage_options(),
    )
    return [(r["source_file"], r["rows_quarantined"]) for r in rows]
