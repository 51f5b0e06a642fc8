"""`iiot-lakehouse run`: land new files, then rebuild the production days they touched, and say what came of it.

The Dagster definitions (every asset module) are imported only once there is something to land or build:
a run with nothing new answers without them.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import dagster as dg

from assets.bronze.pending import missing_source_folders, pending_files, source_folders
from assets.marts.publish import publish_marts, stale_days
from assets.marts.published import marts_path, marts_uri
from assets.silver import config_history
from assets.storage.errors import describe_corrupt_log, describe_storage_error
from assets.storage.object_store import UnsafeStoreError
from assets.storage.schemas import BRONZE_POINTS

from ..partitions import production_day_partitions, split_by_partition
from ..recovery.guard import RunGuard
from ..resources import resource_from_env
from ..summary import line_energy_table, line_oee_table
from .errors import CommandError
from .instance import ensure_dagster_home, open_instance

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def cmd_run(args: argparse.Namespace) -> int:
    # a signal stops the run cleanly, a dead run's slots are freed, a slot wait is bounded (recovery/guard.py)
    with RunGuard() as guard:
        return _cmd_run(args, guard)


def _cmd_run(args: argparse.Namespace, guard: RunGuard) -> int:
    if (args.start is None) != (args.end is None):
        raise CommandError("give both --start and --end, or neither")
    if args.start and args.end < args.start:
        raise CommandError(f"--end {args.end} is before --start {args.start}")
    if args.start and args.rebuild_all:
        raise CommandError("give --rebuild-all or --start/--end, not both")

    ensure_dagster_home()
    lakehouse = resource_from_env()
    try:
        lakehouse.check_store()
    except UnsafeStoreError as exc:
        raise CommandError(str(exc)) from None

    # at start, whatever there is to do: a run of this CLI whose process died is failed and its slots freed
    instance = open_instance()
    guard.attach(instance)

    config, landing = lakehouse.plant(), lakehouse.landing_path()
    # a changed plant config is said before anything lands; a changed calendar needs --rebuild-all
    check = config_history.check_config(
        lakehouse.lakehouse_root, config, lakehouse.plant_config, lakehouse.storage_options()
    )
    for line in check.report(args.rebuild_all):
        print(line)
    if refusal := check.refusal(args.rebuild_all):
        raise CommandError(refusal)

    print(f"landing new files from {lakehouse.landing_root}")
    problems: list[str] = []  # each makes the exit code non-zero; together they are the last line
    pending = None
    if isinstance(landing, Path):
        problems += _check_landing_folders(landing, config)
        pending = _pending_files(lakehouse, config, landing)
    nothing_new = pending is not None and pending.nothing_to_do
    if nothing_new:
        # nothing new: no Dagster run is started (its start, event log and checks cost seconds)
        print(f"  files landed: 0, rejected: 0, already landed: {pending.already_landed}")
        for note in pending.notes:
            print(f"  note: {note}")
        if not (args.start or args.rebuild_all) and not _stale_days(lakehouse, config):
            print("nothing new to land; no production day gained new data or is stale; nothing to rebuild")
            if problems:
                raise CommandError("; ".join(problems))
            return 0

    from ..definitions import DAILY_JOB, LANDING_JOB, build_definitions

    defs = build_definitions(lakehouse)
    metadata = {}
    if not nothing_new:
        land = guard.execute(defs.resolve_job_def(LANDING_JOB), run_config=QUIET_LOGS, raise_on_error=False)
        if not land.success:
            raise CommandError(f"landing failed (run {land.run_id}): {_failure(land, lakehouse.lakehouse_root)}")
        for event in land.get_asset_materialization_events():
            if event.asset_key == dg.AssetKey(BRONZE_POINTS.name):
                metadata = {k: v.value for k, v in event.materialization.metadata.items()}
        print("  " + landing_summary(metadata))
        for note in metadata.get("notes") or []:
            print(f"  note: {note}")
        rejected = metadata.get("rejected_files") or {}
        if rejected:
            problems.insert(
                0, f"{len(rejected)} file(s) rejected: " + "; ".join(f"{f}: {why}" for f, why in rejected.items())
            )

    if args.start:
        days = [args.start + dt.timedelta(days=i) for i in range((args.end - args.start).days + 1)]
    else:
        days = [dt.date.fromisoformat(d) for d in metadata.get("touched_days") or []]
    if args.rebuild_all:
        days = sorted(set(days) | set(check.rebuild_days(config)))
    daily = defs.resolve_job_def(DAILY_JOB)
    days, waiting = split_by_partition(daily.partitions_def, days)
    if not args.start:
        # the day watermark: days whose last build did not finish, or whose inputs are newer than their marts
        for stale in _stale_days(lakehouse, config):
            if stale.day not in days:
                print(f"  production day {stale}: rebuilt")
                days.append(stale.day)
        days.sort()
    if waiting and args.start:
        raise CommandError(f"not a production day that has ended: {', '.join(map(str, waiting))}")
    if args.rebuild_all:
        _remove_days_of_earlier_calendar(lakehouse, config, [d for d in waiting if d in check.built_days])
    run_tags = {config_history.REBUILD_ALL_TAG: "true"} if args.rebuild_all else None
    for day in waiting:
        print(f"  production day {day}: not over yet; built once it has ended (the morning schedule, or run again)")
    if not days and not waiting:
        print("no production day gained new data; nothing to rebuild")
    failed, published = [], []
    for day in days:
        result = guard.execute(
            daily, partition_key=day.isoformat(), run_config=QUIET_LOGS, raise_on_error=False, tags=run_tags
        )
        reason = None if result.success else _failure(result, lakehouse.lakehouse_root)
        print(f"  production day {day}: {'ok' if reason is None else f'FAILED: {reason}'}")
        if reason is not None:
            failed.append((day, reason))
        if any(e.asset_key == dg.AssetKey("mart__oee_daily") for e in result.get_asset_materialization_events()):
            published.append(day)

    target = marts_path(lakehouse.lakehouse_root)
    if published and target.exists():
        print()
        print(line_oee_table(target, published))
        print()
        energy = line_energy_table(target, published)
        if energy:
            print(energy)
            print()
        print(f"marts published in {marts_uri(lakehouse.lakehouse_root)}")
        if marts_uri(lakehouse.lakehouse_root) != str(target):
            print("  get a copy with: iiot-lakehouse marts-download DEST (or query it: iiot-lakehouse sql)")
        else:
            print(f"  open read-only with: duckdb -readonly {target}")
    elif days:
        print("marts not published")
    if failed:
        # the failure is stdout's last line too: after the published days' summary it would read as a success
        print(f"{len(failed)} production day(s) FAILED, not published: {', '.join(str(d) for d, _ in failed)}")
        # names each failed day and why (for an audit: the machine, check and values; else the root cause)
        reasons = "; ".join(reason if reason.startswith(str(day)) else f"{day}: {reason}" for day, reason in failed)
        problems.append(f"{len(failed)} production day(s) failed: {reasons}")
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def _stale_days(lakehouse, config) -> list:
    """The production days that have ended and are stale by the day watermark (assets/silver/watermarks.py)."""

    partitions = production_day_partitions(config)
    stale = stale_days(lakehouse.lakehouse_root, config, lakehouse.storage_options())
    return [s for s in stale if partitions.has_partition_key(s.day.isoformat())]


def _remove_days_of_earlier_calendar(lakehouse, config, days: list[dt.date]) -> None:
    """Days of the earlier calendar that the current one cannot build yet: out of silver and the marts."""
    if not days:
        return
    config_history.remove_days(lakehouse.lakehouse_root, days, lakehouse.storage_options())
    publish_marts(lakehouse.lakehouse_root, config, days, lakehouse.storage_options())
    for day in days:
        print(f"  production day {day}: removed (built with the earlier calendar); built once it has ended")


def landing_summary(metadata: dict) -> str:
    """The landing's counts: files landed, rejected and already landed apart, then the values."""
    rejected = metadata.get("files_rejected", 0)
    duplicate = metadata.get("files_duplicate", 0)
    # the job's files_landed counts every file it read (rejected and same-content copies too)
    landed = metadata.get("files_landed", 0) - rejected - duplicate
    already = metadata.get("files_skipped", 0) + duplicate
    # rows_in counts values (a point or a quarantined row each): a wide file's line holds one per channel
    labels = {
        "lines_in": "lines in",
        "rows_in": "values in",
        "rows_new": "values new",
        "rows_duplicate": "values duplicate",
        "rows_quarantined": "values quarantined",
    }
    values = ", ".join(f"{label}: {metadata[k]}" for k, label in labels.items() if k in metadata)
    # left for a later run (too young, changed while read) and refused (a link, a hard link): see the notes
    later = ", ".join(
        f"{label}: {metadata[k]}"
        for k, label in (("files_deferred", "left for later"), ("files_refused", "refused"))
        if metadata.get(k)
    )
    return (
        f"files landed: {landed}, rejected: {rejected}, already landed: {already}"
        + (f", {later}" if later else "")
        + (f"\n  {values}" if values else "")
    )


def _check_landing_folders(landing: Path, config) -> list[str]:
    """A missing LANDING_ROOT stops the run; a missing source folder is a problem the run ends with."""
    if not landing.is_dir():
        raise CommandError(
            f"LANDING_ROOT {landing} does not exist (set LANDING_ROOT, or create it); expected the sources' "
            f"folders: {', '.join(source_folders(landing, config))}"
        )
    missing = missing_source_folders(landing, config)
    if not missing:
        return []
    folders = ", ".join(f"{landing / s.folder} (source {s.name}, {s.format})" for s in missing)
    return [f"source folder(s) missing: {folders}; create them, or correct `folder:` in the plant config"]


def _pending_files(lakehouse, config, landing: Path):
    """What a landing would find, or None to land anyway (the question itself failed: the landing says why)."""
    try:
        return pending_files(lakehouse.lakehouse(), config, landing)
    except Exception:  # noqa: BLE001 - only a shortcut: the landing run reports the real error
        return None


def _failure(result, lakehouse_root: str | None = None) -> str:
    """The root cause of a failed run, from its step failure's error chain: a full disk, a read-only file
    system or a corrupt Delta log in words; else the failure's own description, or the innermost error
    (the one a retry policy wrapped), never "Exceeded max_retries"."""

    for event in result.all_events:
        if not event.is_failure or event.event_specific_data is None:
            continue
        described = getattr(getattr(event.event_specific_data, "user_failure_data", None), "description", None)
        if described:
            return described.strip().splitlines()[-1]
        error = getattr(event.event_specific_data, "error", None)
        chain = []
        while error is not None and len(chain) < 20:
            chain.append(error)
            error = error.cause or error.context
        for error in reversed(chain):
            cause = describe_storage_error(error.message) or describe_corrupt_log(error.message, lakehouse_root)
            if cause:
                return cause
        for error in reversed(chain):
            lines = error.message.strip().splitlines()
            if lines and error.cls_name != "RetryRequestedFromPolicy":
                return lines[-1]
        if chain:
            return chain[0].message.strip().splitlines()[-1]
    return "see the run in the Dagster UI"
