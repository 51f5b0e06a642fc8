"""The contenders and set-up steps, each run in its own process by `bench.run`.

`python -m bench.workers TASK JSON` runs one task and prints one line `BENCH_RESULT {json}` with its
figures and the process's own peak RSS, so every contender is measured alone and its memory is its own.
Times are taken around the work itself, not the interpreter's start-up and imports.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """This process's own peak RSS in MB.

    Linux's ru_maxrss carries over the parent's peak into a child it starts (the parent's memory at the
    fork counts), so a worker started by `bench.run` after it wrote a 0.25 GB export would report the
    generator's gigabyte. VmHWM is the high-water mark of the process's own memory since it began.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux (where /proc exists); elsewhere the inherited peak is the best there is.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def task_limit(args: dict) -> dict:
    """DuckDB alone: parse the CSV and write Parquet, nothing else."""
    import duckdb

    out = Path(args["out"])
    out.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false").fetchall()
        start = time.perf_counter()
        rows = con.execute(
            f"copy (select * from read_csv('{_quoted(args['file'])}')) to '{_quoted(str(out))}' (format parquet)"
        ).fetchall()
        seconds = time.perf_counter() - start
    finally:
        con.close()
    out.unlink(missing_ok=True)
    return {"seconds": seconds, "rows": int(rows[0][0])}


def task_land(args: dict) -> dict:
    """Our landing: every new file in the landing folder into the lakehouse (parse, type, UTC, quality,
    validation, dedup against bronze, quarantine, ledger, Delta commit)."""
    from assets.bronze.landing import Lakehouse, land_new_files

    from .plant import bench_plant

    config = bench_plant(args["machines"])
    start = time.perf_counter()
    result = land_new_files(Lakehouse(args["lakehouse"]), config, Path(args["landing"]))
    seconds = time.perf_counter() - start
    files = result.landed
    return {
        "seconds": seconds,
        "rows": sum(f.rows_in for f in files),
        "rows_new": sum(f.rows_new for f in files),
        "rows_duplicate": sum(f.rows_duplicate for f in files),
        "rows_quarantined": sum(f.rows_quarantined for f in files),
        "statuses": sorted({f.status for f in files}),
    }


def task_silver_history(args: dict) -> dict:
    """Set-up: model the given production days into silver (as the silver assets do) and publish the marts.

    The history is built with the same functions the daily job runs, one Delta commit per table and day,
    so the tables' logs grow as they would in production; only Dagster's run bookkeeping is skipped.
    """
    import pyarrow as pa

    from assets.bronze.landing import Lakehouse
    from assets.marts.publish import publish_marts
    from assets.plant.calendar import calendar_table
    from assets.silver.day import SILVER_MODELS, modelled_day
    from assets.storage import delta
    from assets.storage.schemas import SILVER_PLANT_CALENDAR

    from .plant import bench_plant

    config = bench_plant(args["machines"])
    lakehouse = Lakehouse(args["lakehouse"])
    days = [dt.date.fromisoformat(d) for d in args["days"]]
    start = time.perf_counter()
    for day in days:
        calendar = SILVER_PLANT_CALENDAR.conform(calendar_table(config, [day]))
        delta.replace_days(lakehouse.uri(SILVER_PLANT_CALENDAR.name), SILVER_PLANT_CALENDAR, [day], calendar, {})
        for silver in SILVER_MODELS:
            with modelled_day(lakehouse, config, day, silver) as table:
                if isinstance(table, pa.Table):
                    table = silver.spec.conform(table)
                delta.replace_days(lakehouse.uri(silver.spec.name), silver.spec, [day], table, {})
    silver_seconds = time.perf_counter() - start
    publish_marts(args["lakehouse"], config, days)
    return {"seconds": time.perf_counter() - start, "silver_seconds": silver_seconds, "days": len(days)}


def task_day(args: dict) -> dict:
    """A production day end to end as `iiot-lakehouse run` does it: the landing job, then the daily job
    (silver and the published marts) for the day."""
    os.environ["DAGSTER_HOME"] = args["dagster_home"]
    import dagster as dg

    from orchestration.cli import ensure_dagster_home
    from orchestration.cli.run_pipeline import QUIET_LOGS
    from orchestration.definitions import DAILY_JOB, LANDING_JOB, build_definitions
    from orchestration.resources import LakehouseResource

    ensure_dagster_home()
    resource_ = LakehouseResource(
        lakehouse_root=args["lakehouse"], landing_root=args["landing"], plant_config=args["plant_config"]
    )
    defs = build_definitions(resource_)
    instance = dg.DagsterInstance.get()
    start = time.perf_counter()
    land = defs.resolve_job_def(LANDING_JOB).execute_in_process(instance=instance, run_config=QUIET_LOGS)
    landed = time.perf_counter()
    daily = defs.resolve_job_def(DAILY_JOB).execute_in_process(
        instance=instance, partition_key=args["day"], run_config=QUIET_LOGS
    )
    end = time.perf_counter()
    rows = 0
    for event in land.get_asset_materialization_events():
        if "rows_in" in event.materialization.metadata:
            rows = event.materialization.metadata["rows_in"].value
    return {
        "seconds": end - start,
        "land_seconds": landed - start,
        "daily_seconds": end - landed,
        "rows": rows,
        "success": land.success and daily.success,
    }


ANALYST_QUERIES = {
    "OEE by line, 30 days": """
        select line, sum(fully_productive_time_s) / nullif(sum(planned_production_time_s), 0) as oee
        from oee_line_daily where day > $last - 30 and day <= $last
        group by line order by line
    """,
    "top downtime reasons of a week": """
        select reason, sum(seconds) as seconds, sum(events) as events
        from downtime_pareto where period = 'week' and period_start = date_trunc('week', $last - 7)::date
        group by reason order by seconds desc limit 10
    """,
    "energy per good unit, trend": """
        select day, sum(kwh_total) / nullif(sum(good_count), 0) as kwh_per_unit
        from energy_daily where level = 'line' and day > $last - 90 and day <= $last
        group by day order by day
    """,
    "shift comparison, 30 days": """
        select shift_name, sum(fully_productive_time_s) / nullif(sum(planned_production_time_s), 0) as oee,
            sum(good_count) as good
        from oee_shift where day > $last - 30 and day <= $last
        group by shift_name order by shift_name
    """,
    "MTBF by machine, 90 days": """
        select line, machine, sum(run_time_s) / nullif(sum(failures), 0) as mtbf_s, sum(failures) as failures
        from reliability_daily where day > $last - 90 and day <= $last
        group by line, machine order by mtbf_s nulls last
    """,
}


def task_queries(args: dict) -> dict:
    """Analyst queries on the published marts file, opened read-only as an analyst would."""
    import duckdb

    last = dt.date.fromisoformat(args["last_day"])
    con = duckdb.connect(args["marts"], read_only=True)
    out = {}
    try:
        for name, query in ANALYST_QUERIES.items():
            times = []
            rows = 0
            for _ in range(args["repeat"]):
                start = time.perf_counter()
                rows = con.sql(query, params={"last": last}).to_arrow_table().num_rows
                times.append(time.perf_counter() - start)
            out[name] = {"seconds": statistics.median(times), "rows": rows}
    finally:
        con.close()
    return {"queries": out}


def task_history(args: dict) -> dict:
    """Set-up: land the history exports, then model their days, in one process (nothing here is measured,
    and one interpreter start-up fewer per history level keeps the tiny scale quick)."""
    land = task_land(args)
    silver = task_silver_history(args)
    return {"land": land, "silver": silver}


TASKS = {
    "limit": task_limit,
    "land": task_land,
    "silver_history": task_silver_history,
    "history": task_history,
    "day": task_day,
    "queries": task_queries,
}


def _quoted(path: str) -> str:
    # COPY ... TO and read_csv's file name take no bind parameter here; the paths are the benchmark's own.
    return path.replace("'", "''")


def main(argv: list[str]) -> None:
    task, raw = argv[0], argv[1]
    result = TASKS[task](json.loads(raw))
    result["peak_rss_mb"] = peak_rss_mb()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    # Skip interpreter teardown: the Delta reader's native threads can abort the process at exit.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
