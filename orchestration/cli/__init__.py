"""The `iiot-lakehouse` command: write the demo plant's exports, and run the pipeline in-process.

Runs are executed with the Dagster instance in DAGSTER_HOME (default ./.dagster_home), so they show
in the web UI's run history beside the scheduled runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
import traceback
from pathlib import Path

from assets.plant.config import PlantConfigError
from assets.plant.source_formats import SOURCE_FORMATS

# Each command lives in its own module, imported when the command runs: `--help`, a wrong argument or `sql`
# answer without loading Dagster. demo.py, run_pipeline.py (`run`), land.py, sql.py, marts_download.py,
# worker.py, doctor.py, and the quick ones that read the lakehouse without Dagster (reading.py): check_config.py,
# tags.py, quarantine.py, status.py; instance.py holds DAGSTER_HOME and its dagster.yaml; help.py the epilogs.
from ..recovery.stopped import RunStopped
from .errors import CommandError
from .help import EPILOGS
from .instance import ensure_dagster_home

__all__ = ["ensure_dagster_home", "main", "run"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iiot-lakehouse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, **kwargs) -> argparse.ArgumentParser:
        # each command's --help ends with examples and the environment variables it reads
        return sub.add_parser(
            name, epilog=EPILOGS[name], formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs
        )

    demo = add("demo", help="write the demo plant's historian exports into $LANDING_ROOT")
    demo.add_argument("--days", type=int, default=14, help="production days to generate (default 14)")
    demo.add_argument("--start", type=_date, help="first production day (default: DAYS days before today)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--format",
        dest="fmt",
        choices=SOURCE_FORMATS,
        help="export format to write (default: the AVEVA Historian CSV of the plant's historian source)",
    )
    run = add("run", help="land new files, then rebuild the production days they touched")
    run.add_argument("--start", type=_date, help="first production day to rebuild (with --end)")
    run.add_argument("--end", type=_date, help="last production day to rebuild, inclusive")
    run.add_argument(
        "--rebuild-all",
        action="store_true",
        help="rebuild every production day built so far with the current plant config (required after a "
        "change of the time zone or day_start)",
    )
    sql = add("sql", help="query the published marts read-only (no file access, settings locked)")
    sql.add_argument("query", nargs="?", help="the SQL to run (default: read it from stdin)")
    sql.add_argument("--utc", action="store_true", help="show timestamps in UTC (default: the plant's time zone)")
    sql.add_argument("--format", dest="sql_format", choices=("table", "csv"), default="table", help="output format")
    sql.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit of the query (default 2GB)")
    sql.add_argument("--max-rows", type=int, default=10_000, help="rows printed at most (default 10000)")
    sql.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds the statement may run, its rows written included, before it is interrupted (default 60; 0: none)",
    )
    download = add("marts-download", help="copy the published marts file (local or in object storage) to DEST")
    download.add_argument("dest", type=Path, help="file (or existing folder) to write marts.duckdb to")
    worker = add("worker", help="run a Celery step worker (IIOT_EXECUTOR=celery; broker from CELERY_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=1, help="steps this worker runs at once (default 1)")
    worker.add_argument("--name", help="worker name, made unique per host (default: iiot-<pid>)")
    worker.add_argument("--loglevel", default="INFO", help="Celery log level (default INFO)")
    doctor = add(
        "doctor", help="check the tables, the ledger against bronze and quarantine, and the marts; name each problem"
    )
    doctor.add_argument(
        "--repair",
        action="store_true",
        help="repair what was found: restore damaged logs, land lost points again, rebuild their days",
    )
    add("land", help="land new files into bronze only (no rebuild); say what landed and what was quarantined")
    add(
        "check-config", help="validate the plant YAML; list its sources' folders, mapped tags never seen, unmapped tags"
    )
    tags = add("tags", help="the tag catalog: every tag landed, first and last seen, points, bad share, mapping")
    tags.add_argument("--source", help="only the tags of this source")
    tags.add_argument("--unmapped", action="store_true", help="only the tags the plant config does not map")
    tags.add_argument("--like", metavar="PATTERN", help="only tags matching this SQL LIKE pattern, any case (%%: any)")
    quarantine = add("quarantine", help="the quarantined rows by file and reason, with line numbers and raw text")
    quarantine.add_argument("--file", help="only this file (path relative to LANDING_ROOT, or its name)")
    quarantine.add_argument("--reason", help="only reasons containing this text, any case")
    quarantine.add_argument("--limit", type=int, default=100, help="rows shown at most (default 100)")
    add("status", help="last file landed, last day published, days waiting, failing checks, stale sources")
    return parser


# command -> (module, function), imported when the command runs
COMMANDS = {
    "demo": ("demo", "cmd_demo"),
    "run": ("run_pipeline", "cmd_run"),
    "land": ("land", "cmd_land"),
    "sql": ("sql", "cmd_sql"),
    "marts-download": ("marts_download", "cmd_marts_download"),
    "worker": ("worker", "cmd_worker"),
    "doctor": ("doctor", "cmd_doctor"),
    "check-config": ("check_config", "cmd_check_config"),
    "tags": ("tags", "cmd_tags"),
    "quarantine": ("quarantine", "cmd_quarantine"),
    "status": ("status", "cmd_status"),
}


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        module, function = COMMANDS[args.command]
        return getattr(importlib.import_module(f".{module}", __name__), function)(args)
    except CommandError as exc:
        print(f"iiot-lakehouse: error: {exc}", file=sys.stderr)
        return 1
    except RunStopped as exc:
        print(f"iiot-lakehouse: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the last word to the user, with the trace for a bug report
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
