"""The `iiot-lakehouse` command: write the demo plant's exports, and run the pipeline in-process.

Runs are executed with the Dagster instance in DAGSTER_HOME (default ./.dagster_home), so they show
in the web UI's run history beside the scheduled runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from pathlib import Path

# The commands import the lakehouse (Dagster, DuckDB, Arrow ...) inside the functions that use it, for the
# start-up time of the command: `--help`, a wrong argument or `sql` answer without loading Dagster.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class CommandError(Exception):
    """A failure the user can act on; printed without a traceback."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    from assets.plant.source_formats import SOURCE_FORMATS

    parser = argparse.ArgumentParser(prog="iiot-lakehouse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write the demo plant's historian exports into $LANDING_ROOT")
    demo.add_argument("--days", type=int, default=14, help="production days to generate (default 14)")
    demo.add_argument("--start", type=_date, help="first production day (default: DAYS days before today)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--format",
        dest="fmt",
        choices=SOURCE_FORMATS,
        help="export format to write (default: the AVEVA Historian CSV of the plant's historian source)",
    )
    run = sub.add_parser("run", help="land new files, then rebuild the production days they touched")
    run.add_argument("--start", type=_date, help="first production day to rebuild (with --end)")
    run.add_argument("--end", type=_date, help="last production day to rebuild, inclusive")
    run.add_argument(
        "--rebuild-all",
        action="store_true",
        help="rebuild every production day built so far with the current plant config (required after a "
        "change of the time zone or day_start)",
    )
    sql = sub.add_parser("sql", help="query the published marts read-only (no file access, settings locked)")
    sql.add_argument("query", nargs="?", help="the SQL to run (default: read it from stdin)")
    sql.add_argument("--format", dest="sql_format", choices=("table", "csv"), default="table", help="output format")
    sql.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit of the query (default 2GB)")
    sql.add_argument("--max-rows", type=int, default=10_000, help="rows printed at most (default 10000)")
    sql.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds the statement may run, its rows written included, before it is interrupted (default 60; 0: none)",
    )
    download = sub.add_parser(
        "marts-download", help="copy the published marts file (local or in object storage) to DEST"
    )
    download.add_argument("dest", type=Path, help="file (or existing folder) to write marts.duckdb to")
    worker = sub.add_parser(
        "worker", help="run a Celery step worker (IIOT_EXECUTOR=celery; broker from CELERY_BROKER_URL)"
    )
    worker.add_argument("--concurrency", type=int, default=1, help="steps this worker runs at once (default 1)")
    worker.add_argument("--name", help="worker name, made unique per host (default: iiot-<pid>)")
    worker.add_argument("--loglevel", default="INFO", help="Celery log level (default INFO)")
    doctor = sub.add_parser(
        "doctor", help="check the tables, the ledger against bronze and quarantine, and the marts; name each problem"
    )
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="repair what was found: restore damaged logs, land lost points again, rebuild their days",
    )
    return parser


INSTANCE_YAML = """\
# Written by iiot-lakehouse on first use. Plants are often air-gapped: no telemetry, and no newsletter
# sign-up in the UI (nux).
telemetry:
  enabled: false
nux:
  enabled: false
# Runs submitted by the UI, the schedule, the sensors or `dagster job backfill` wait in a queue that
# `dagster-daemon run` (started by `make ui`'s `dagster dev`) drains within these limits.
# `iiot-lakehouse run` executes in its own process and needs no daemon.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # start dequeued runs side by side: each run process takes seconds to start
    dequeue_use_threads: true
    dequeue_num_workers: 4
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      # a backfill of many days leaves a run slot for landing new files
      - key: iiot/job
        value: daily
        limit: 3
      - key: iiot/job
        value: landing
        limit: 1
      - key: iiot/job
        value: maintenance
        limit: 1
  # One writer per Delta table where a write is not a blind append (see the assets' pools). Slots are
  # claimed per step (op granularity) by the process that runs the job, before a step is started or
  # sent to a Celery worker, and held in the instance's storage: they hold across runs and workers.
  pools:
    default_limit: 1
    granularity: op
# A run whose process dies keeps its pool slots until someone frees them. `dagster-daemon run` watches the
# queued and launched runs: a run that does not start, or does not finish canceling, within its timeout is
# marked failed; one that runs longer than max_runtime_seconds is canceled (the runs of `iiot-lakehouse run`
# are exempt: the CLI frees the slots of its dead runs when it next starts, see orchestration/recovery.py);
# and the slots still held by a run that has ended are freed after free_slots_after_run_end_seconds.
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  start_timeout_seconds: 300
  cancel_timeout_seconds: 120
  max_runtime_seconds: 21600
  free_slots_after_run_end_seconds: 60
"""

# What earlier versions wrote, unchanged by the user: replaced by the current INSTANCE_YAML.
_EARLIER_INSTANCE_YAML_SHA256 = {
    "21bf789cfecfafeb16d114d5d2b19f17c850473431496315ab5f6317a0cde914",
    "8801f9a5db4cc702fb4d5133f222958d4df36d2e9031fdb63bc95ff302405a02",
    "c86bda0f7167edd3e168d2f90e2a98c6013bd91885a6b2e9d2d1fa49b44f3afd",
    "7073b04075c369971a2685fef544f6df74e1b65f071e77089fc33d34b13a80d2",
}


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default ./.dagster_home), with an instance config if there is none yet."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path.cwd() / ".dagster_home")
        os.environ["DAGSTER_HOME"] = home
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or _generated_earlier(config):
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    return path


def open_instance():
    """The Dagster instance of DAGSTER_HOME. Its SQLite databases are created on first open; two processes
    creating them at once (two runs started together on a new home) stamp the schema version twice and
    leave a home no later run can open, so the first open is made under a lock file."""
    import dagster as dg
    from filelock import FileLock

    home = ensure_dagster_home()
    with FileLock(str(home / ".instance.lock")):
        return dg.DagsterInstance.get()


def _generated_earlier(config: Path) -> bool:
    import hashlib

    return hashlib.sha256(config.read_bytes()).hexdigest() in _EARLIER_INSTANCE_YAML_SHA256


def _demo_to_object_store(landing_uri: str, config, start: dt.date, args: argparse.Namespace) -> list[str]:
    """Write the demo exports to a local folder, then upload each under the landing prefix."""
    import tempfile

    from assets.demo.generator import write_demo_exports
    from assets.storage import object_store

    options = object_store.storage_options_from_env()
    with tempfile.TemporaryDirectory(prefix="iiot-demo-") as folder:
        local = Path(folder)
        paths = write_demo_exports(local, config, start=start, days=args.days, seed=args.seed, fmt=args.fmt)
        uris = []
        for path in paths:
            uri = f"{landing_uri}/{Path(path).relative_to(local).as_posix()}"
            object_store.upload(Path(path), uri, options)
            uris.append(uri)
    return uris


def cmd_demo(args: argparse.Namespace) -> int:
    from assets.demo.generator import demo_source, write_demo_exports
    from assets.plant.calendar import production_day_of
    from assets.plant.config import load_plant_config
    from assets.storage import object_store

    from .resources import settings_from_env

    settings = settings_from_env()
    config = load_plant_config(settings["plant_config"])
    if args.days < 1:
        raise CommandError("--days must be at least 1")
    # by default the days up to the last one that has ended, so that `run` can build every one of them
    start = args.start or (production_day_of(config, dt.datetime.now(dt.UTC)) - dt.timedelta(days=args.days))
    fmt = args.fmt
    if object_store.is_remote(settings["landing_root"]):
        landing = settings["landing_root"].rstrip("/")
        paths = _demo_to_object_store(landing, config, start, args)
    else:
        landing = Path(settings["landing_root"]).expanduser().resolve()
        paths = write_demo_exports(landing, config, start=start, days=args.days, seed=args.seed, fmt=fmt)
    written = f"{fmt} export files" if fmt else "export files"
    print(
        f"demo plant {config.site}: wrote {len(paths)} {written} for {args.days} production days "
        f"from {start} into {landing}"
    )
    if fmt and not any(s.format == fmt for s in config.sources):
        print()
        print(f"The plant config ({settings['plant_config']}) has no {fmt} source, so `iiot-lakehouse run`")
        print(f"will not land {landing}/{fmt}. Add this source to its `sources:` list:")
        print()
        print(_source_yaml(demo_source(config, fmt)))
    return 0


def _source_yaml(source) -> str:
    """A plant-config `sources:` entry for a source, as the user pastes it."""
    import yaml

    entry = {"name": source.name, "format": source.format, "folder": source.folder, "timezone": source.timezone}
    if source.options:
        entry["options"] = dict(source.options)
    text = yaml.safe_dump([entry], sort_keys=False, default_flow_style=False, allow_unicode=True)
    return "\n".join("  " + line for line in text.rstrip().splitlines())


def cmd_run(args: argparse.Namespace) -> int:
    from .recovery import RunGuard

    # a signal stops the run cleanly, a dead run's slots are freed, a slot wait is bounded (recovery.py)
    with RunGuard() as guard:
        return _cmd_run(args, guard)


def _cmd_run(args: argparse.Namespace, guard) -> int:
    import dagster as dg

    from assets.silver import config_history
    from assets.storage.object_store import UnsafeStoreError

    from .resources import resource_from_env

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

    from assets.marts.published import marts_path, marts_uri
    from assets.storage.schemas import BRONZE_POINTS

    from .definitions import DAILY_JOB, LANDING_JOB, build_definitions
    from .partitions import split_by_partition
    from .summary import line_energy_table, line_oee_table

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
        # names each failed day and why (for an audit: the machine, check and values; else the root cause)
        reasons = "; ".join(reason if reason.startswith(str(day)) else f"{day}: {reason}" for day, reason in failed)
        problems.append(f"{len(failed)} production day(s) failed: {reasons}")
    if problems:
        raise CommandError("; ".join(problems))
    return 0


def _stale_days(lakehouse, config) -> list:
    """The production days that have ended and are stale by the day watermark (assets/silver/watermarks.py)."""
    from assets.marts.publish import stale_days

    from .partitions import production_day_partitions

    partitions = production_day_partitions(config)
    stale = stale_days(lakehouse.lakehouse_root, config, lakehouse.storage_options())
    return [s for s in stale if partitions.has_partition_key(s.day.isoformat())]


def _remove_days_of_earlier_calendar(lakehouse, config, days: list[dt.date]) -> None:
    """Days of the earlier calendar that the current one cannot build yet: out of silver and the marts."""
    from assets.marts.publish import publish_marts
    from assets.silver import config_history

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
    from assets.bronze.pending import missing_source_folders, source_folders

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
    from assets.bronze.pending import pending_files

    try:
        return pending_files(lakehouse.lakehouse(), config, landing)
    except Exception:  # noqa: BLE001 - only a shortcut: the landing run reports the real error
        return None


def worker_command(concurrency: int = 1, name: str | None = None, loglevel: str = "INFO") -> list[str]:
    """The Celery command line of a step worker: the `dagster` queue, one task fetched at a time (a
    step can take minutes; prefetching would park steps behind a busy worker while others idle)."""
    from .celery_worker import QUEUE

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "orchestration.celery_worker",
        "worker",
        "-Q",
        QUEUE,
        "--concurrency",
        str(concurrency),
        "--prefetch-multiplier",
        "1",
        "--loglevel",
        loglevel,
        "-n",
        f"{name or f'iiot-{os.getpid()}'}@%h",
    ]


def cmd_worker(args: argparse.Namespace) -> int:
    from .executors import ExecutorConfigError, celery_urls

    if args.concurrency < 1:
        raise CommandError("--concurrency must be at least 1")
    try:
        broker, _ = celery_urls()
    except ExecutorConfigError as exc:
        raise CommandError(str(exc)) from None
    ensure_dagster_home()
    command = worker_command(args.concurrency, args.name, args.loglevel)
    print(f"step worker on the Celery queue at {_redact(broker)}", flush=True)
    os.execv(command[0], command)
    return 0  # not reached: the process is now the worker


def _redact(url: str) -> str:
    """A broker URL without its password, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def cmd_sql(args: argparse.Namespace) -> int:
    from assets.marts.published import fetch_published_marts, marts_uri

    from .analyst_sql import AnalystSqlError
    from .analyst_sql import main as run_sql
    from .resources import resource_from_env

    try:
        lakehouse = resource_from_env()
        # a remote lakehouse's marts are downloaded to this machine's cache first, then queried there
        target = fetch_published_marts(lakehouse.lakehouse_root, lakehouse.storage_options())
        if not target.is_file():
            raise CommandError(
                f"no published marts at {marts_uri(lakehouse.lakehouse_root)}; run `iiot-lakehouse run` first"
            )
        return run_sql(target, args.query, args.sql_format, args.memory_limit, args.max_rows, args.timeout)
    except AnalystSqlError as exc:
        raise CommandError(str(exc)) from None


def cmd_marts_download(args: argparse.Namespace) -> int:
    import shutil

    from assets.marts.published import MARTS_FILE, marts_path, marts_uri
    from assets.storage import object_store

    from .resources import resource_from_env

    lakehouse = resource_from_env()
    source = marts_uri(lakehouse.lakehouse_root)
    dest = args.dest / MARTS_FILE if args.dest.is_dir() else args.dest
    if object_store.is_remote(source):
        options = lakehouse.storage_options()
        if not object_store.exists(source, options):
            raise CommandError(f"no published marts at {source}; run `iiot-lakehouse run` first")
        object_store.download(source, dest, options)
    else:
        if not marts_path(lakehouse.lakehouse_root).is_file():
            raise CommandError(f"no published marts at {source}; run `iiot-lakehouse run` first")
        shutil.copyfile(source, dest)
    print(f"marts copied from {source} to {dest}")
    print(f"  open read-only with: duckdb -readonly {dest}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print each problem with its table and file; with --repair, repair them, land and rebuild like
    `run`, then check again. Exit 1 while any problem is left; the last line counts them."""
    from assets.bronze.landing import _heal_tag_catalog, point_span
    from assets.plant.calendar import production_day_of
    from orchestration import doctor

    from .resources import resource_from_env

    resource = resource_from_env()
    lakehouse, config = resource.lakehouse(), resource.plant()
    problems = doctor.check(lakehouse, config)
    for problem in problems:
        print(problem)
    if args.repair and problems:
        print(f"repairing {len(problems)} problem(s)")
        plan = doctor.repair(lakehouse, problems)
        for line in plan.done:
            print(f"  {line}")
        ended = production_day_of(config, dt.datetime.now(dt.UTC))
        if plan.all_days:
            first, last = point_span(lakehouse)
            if first is not None:
                start = production_day_of(config, first)
                span = (production_day_of(config, last) - start).days + 1
                plan.days |= {start + dt.timedelta(days=i) for i in range(span)}
        # the dropped files land again, and the days they touch are rebuilt, as `run` does them
        try:
            cmd_run(argparse.Namespace(start=None, end=None, rebuild_all=False))
        except CommandError as exc:
            print(f"  run: {exc}")
        unlanded = doctor.restore_ledger_rows(lakehouse, plan)
        if plan.relanded or plan.heal_tag_catalog:
            _heal_tag_catalog(lakehouse, config)
        for day in sorted(d for d in plan.days if d < ended and d >= config.calendar.first_day):
            try:
                cmd_run(argparse.Namespace(start=day, end=day, rebuild_all=False))
            except CommandError as exc:
                print(f"  run {day}: {exc}")
        for name in unlanded:
            print(f"  {name}: not landed again (is it still in LANDING_ROOT, unchanged?)")
        print("checking again")
        problems = doctor.check(lakehouse, config)
        for problem in problems:
            print(problem)
    if problems:
        if args.repair:
            raise CommandError(f"{len(problems)} problem(s) left")
        raise CommandError(f"{len(problems)} problem(s) found; repair with: iiot-lakehouse doctor --repair")
    print("no problems found")
    return 0


def _failure(result, lakehouse_root: str | None = None) -> str:
    """The root cause of a failed run, from its step failure's error chain: a full disk, a read-only file
    system or a corrupt Delta log in words; else the failure's own description, or the innermost error
    (the one a retry policy wrapped), never "Exceeded max_retries"."""
    from assets.storage.errors import describe_corrupt_log, describe_storage_error

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


def run(argv: list[str] | None = None) -> int:
    from .recovery import RunStopped

    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "sql":
            return cmd_sql(args)
        if args.command == "marts-download":
            return cmd_marts_download(args)
        if args.command == "worker":
            return cmd_worker(args)
        if args.command == "doctor":
            return cmd_doctor(args)
        return cmd_run(args)
    except CommandError as exc:
        print(f"iiot-lakehouse: error: {exc}", file=sys.stderr)
        return 1
    except RunStopped as exc:
        print(f"iiot-lakehouse: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the last word to the user, with the trace for a bug report
        from assets.plant.config import PlantConfigError

        if isinstance(exc, PlantConfigError):
            print(f"iiot-lakehouse: error in the plant config: {exc}", file=sys.stderr)
            return 1
        traceback.print_exc()
        print(f"iiot-lakehouse: error: {exc}", file=sys.stderr)
        return 1


def main() -> None:
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without running interpreter teardown: the Delta reader's native threads can abort the
    # process at exit (delta-rs #2184) after the work is done; the exit code must be ours.
    os._exit(code)


if __name__ == "__main__":
    main()
