"""Child-process entry points for the reliability tests.

The tests start these through a multiprocessing fork server that has imported this module once, so a
child costs a fork, not a fresh interpreter, and a test can kill dozens of them. Every entry point
leaves with `os._exit(code)` after flushing: the Delta reader's native threads can abort the
interpreter at exit (delta-rs #2184), and the exit code a test reads must be ours.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import dagster as dg
import duckdb

from assets.bronze.landing import KILL_AT_ENV, Lakehouse, land_new_files
from assets.marts.publish import publish_marts
from assets.marts.published import marts_path
from assets.plant.config import load_plant_config
from assets.silver.assets import build_silver_assets
from assets.storage import delta, delta_read
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _leave(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _write_json(path: str | None, payload: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, default=str), encoding="utf-8")


def land(
    lake: str,
    landing: str,
    plant_config: str,
    kill_at: str | None = None,
    out: str | None = None,
    staging_tmp: str | None = None,
) -> None:
    """Land every new file; with kill_at, cut the power at that named point of the commit order.

    staging_tmp puts the landing's staging folders there, so that a test can see what a kill leaves.
    """
    code = 0
    try:
        if staging_tmp:
            tempfile.tempdir = staging_tmp
        if kill_at:
            os.environ[KILL_AT_ENV] = kill_at
        else:
            os.environ.pop(KILL_AT_ENV, None)
        started = time.perf_counter()
        result = land_new_files(Lakehouse(lake), load_plant_config(plant_config), Path(landing))
        _write_json(
            out,
            {
                "seconds": time.perf_counter() - started,
                "files": [
                    [f.source_file, f.status, f.rows_in, f.rows_new, f.rows_duplicate, f.rows_quarantined]
                    for f in result.files
                ],
            },
        )
    except BaseException:  # noqa: BLE001 - a child reports every failure through its exit code
        traceback.print_exc()
        code = 1
    _leave(code)


def materialize_days(lake: str, landing: str, plant_config: str, days: list[str], out: str | None = None) -> None:
    """Build the silver tables of some production days with Dagster, one partition after the other."""
    code = 0
    try:
        resource = LakehouseResource(lakehouse_root=lake, landing_root=landing, plant_config=plant_config)
        assets = build_silver_assets(production_day_partitions(resource.plant()))
        for day in days:
            result = dg.materialize(
                assets, partition_key=day, resources={"lakehouse": resource}, run_config=QUIET, raise_on_error=False
            )
            if not result.success:
                code = 1
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 1
    _write_json(out, {"code": code})
    _leave(code)


def replace_day(lake: str, table: str, day: str, tag: str, barrier, out: str | None = None) -> None:
    """Rewrite one production day of a silver table from its current content, at the barrier's signal.

    Two of these on the same day race for the same Delta version: one must win, the other either
    commits after it (serialised) or is refused; the day must never hold both copies.
    """
    from assets.storage.schemas import ALL_TABLES

    (spec,) = [s for s in ALL_TABLES if s.name == table]
    uri = delta.table_uri(lake, table)
    outcome = "committed"
    try:
        days = [dt.date.fromisoformat(day)]
        with delta_read.duckdb_session() as con:
            delta_read.register_table(con, "t", uri, spec, partitions=delta_read.date_partitions("day", days))
            rows = con.sql("select * from t").to_arrow_table()
        barrier.wait(timeout=60)
        delta.replace_days(uri, spec, days, spec.conform(rows), metadata={"writer": tag})
    except Exception as exc:  # noqa: BLE001 - a refused commit is an outcome, not a crash
        outcome = f"refused: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    _write_json(out, {"outcome": outcome})
    _leave(0)


def publish_loop(lake: str, plant_config: str, toggle_day: str, publishes: int, out: str) -> None:
    """Republish the marts `publishes` times, silver alternately without and with one production day,
    and record what each published version holds (so two versions in a row always differ)."""
    from deltalake import DeltaTable

    from assets.marts.inputs import SILVER_INPUTS

    code = 0
    versions = []
    durations = []
    try:
        config = load_plant_config(plant_config)
        tables = [DeltaTable(delta.table_uri(lake, spec.name)) for spec in SILVER_INPUTS]
        # per table: the version whose commit wrote the day, and the one before it
        with_day = [next(h["version"] for h in t.history() if h.get("production_day") == toggle_day) for t in tables]
        for i in range(publishes):
            for table, version in zip(tables, with_day, strict=True):
                table.update_incremental()
                table.restore(version if i % 2 else version - 1)
            started = time.perf_counter()
            publish_marts(lake, config, [dt.date.fromisoformat(toggle_day)])
            durations.append(time.perf_counter() - started)
            versions.append(marts_fingerprint(str(marts_path(lake))))
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 1
    _write_json(out, {"versions": versions, "durations": durations})
    _leave(code)


# The day-scoped marts every published version holds for the same production days.
DAY_MARTS = ("oee_daily", "oee_line_daily", "oee_site_daily", "reliability_daily", "energy_daily")


def fingerprint_of(con: duckdb.DuckDBPyConnection) -> list:
    """Row count and production days of each day-scoped mart, read in one transaction."""
    con.execute("begin transaction").fetchall()
    try:
        out = []
        for name in DAY_MARTS:
            count, days = con.execute(
                f"select count(*), list(distinct day order by day) from {name}"  # noqa: S608 - our own names
            ).fetchall()[0]
            out.append([name, count, [str(d) for d in days or []]])
    finally:
        con.execute("commit").fetchall()
    return out


def marts_fingerprint(path: str) -> list:
    con = duckdb.connect(path, read_only=True, config={"threads": 1})
    try:
        return fingerprint_of(con)
    finally:
        con.close()


def analyst_loop(path: str, stop_file: str, out: str) -> None:
    """Query the published marts read-only in a loop until told to stop; record every answer and error."""
    seen: dict[str, int] = {}
    errors: list[str] = []
    reads = 0
    while not os.path.exists(stop_file):
        if not os.path.exists(path):
            time.sleep(0.01)
            continue
        try:
            key = json.dumps(marts_fingerprint(path))
            seen[key] = seen.get(key, 0) + 1
            reads += 1
            time.sleep(0.1)  # an analyst's loop, not a spin that starves the publisher of the 2 cores
        except Exception as exc:  # noqa: BLE001 - every error is a finding
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
    _write_json(out, {"reads": reads, "seen": seen, "errors": errors})
    _leave(0)
