"""Idempotency: the same file, the same partition and the whole range run again change nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.demo.generator import write_demo_exports
from assets.marts.assets import build_mart_assets
from assets.marts.inputs import SILVER_INPUTS
from assets.marts.published import marts_path
from assets.plant.config import load_plant_config
from assets.silver.assets import build_silver_assets
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource
from tests.helpers import workers
from tests.helpers.demo import DAYS, PLANT_CONFIG
from tests.helpers.figures import report
from tests.helpers.lakehouse import copy_lakehouse
from tests.helpers.tables import history, marts_rows, query, sorted_rows, version

REPO = Path(__file__).resolve().parents[2]
BRONZE_TABLES = (BRONZE_POINTS.name, QUARANTINE.name, FILE_LEDGER.name, TAG_CATALOG.name)
RERUNS = 3
RANGE_RUNS = 3  # the CLI over the whole range: the first run, then two that must change nothing


def versions(lake: Path, tables) -> dict[str, int | None]:
    return {name: version(lake, name) for name in tables}


def duplicates(lake: Path) -> int:
    sql = "select count(*) from (select tag, ts from t group by all having count(*) > 1)"
    return query(lake, BRONZE_POINTS.name, sql)[0][0]


def rounded(marts: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Rows with floats to 9 decimals: DuckDB's parallel sums may differ in the last bit between runs."""
    return {
        name: sorted((tuple(round(v, 9) + 0.0 if isinstance(v, float) else v for v in row) for row in rows), key=repr)
        for name, rows in marts.items()
    }


def _hashable(row: tuple) -> tuple:
    # a list column (dim_shift's working days) as a tuple, so that rows can be compared as sets
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def last_bit_rows(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> int:
    return sum(len(set(map(_hashable, a[name])) - set(map(_hashable, b.get(name, [])))) for name in a)


def silver_content(lake: Path) -> dict[str, list[tuple]]:
    return {spec.name: sorted_rows(lake, spec.name) for spec in SILVER_INPUTS}


def test_the_same_files_landed_again_make_no_new_version(tmp_path, landed_demo, children):
    lake = copy_lakehouse(landed_demo[0], tmp_path / "lakehouse")
    before = versions(lake, BRONZE_TABLES)
    ledger = sorted_rows(lake, FILE_LEDGER.name)
    for _ in range(RERUNS):
        assert children.run(workers.land, str(lake), str(landed_demo[1]), PLANT_CONFIG) == 0
        assert versions(lake, BRONZE_TABLES) == before
    assert sorted_rows(lake, FILE_LEDGER.name) == ledger
    assert duplicates(lake) == 0
    report("same file", {"reruns": RERUNS, "versions": before, "files": len(ledger), "duplicated_points": 0})


@pytest.mark.slow
def test_the_same_partition_run_again_gives_identical_tables(tmp_path, silver_demo):
    lake = copy_lakehouse(silver_demo[0], tmp_path / "lakehouse")
    resource = LakehouseResource(lakehouse_root=str(lake), landing_root=str(silver_demo[1]), plant_config=PLANT_CONFIG)
    partitions = production_day_partitions(resource.plant())
    daily = [*build_silver_assets(partitions), *build_mart_assets(partitions)]
    day = DAYS[1]
    started = time.perf_counter()

    def run_day():
        result = dg.materialize(daily, partition_key=day, resources={"lakehouse": resource}, run_config=workers.QUIET)
        assert result.success

    run_day()
    silver, marts = silver_content(lake), marts_rows(marts_path(str(lake)))
    silver_versions = versions(lake, [s.name for s in SILVER_INPUTS])
    float_noise = 0
    for _ in range(RERUNS):
        run_day()
        assert rounded(silver_content(lake)) == rounded(silver)  # the partition replaced, not appended to
        float_noise += last_bit_rows(silver_content(lake), silver)
        again = marts_rows(marts_path(str(lake)))
        assert rounded(again) == rounded(marts)
        float_noise += last_bit_rows(again, marts)
    after = versions(lake, [s.name for s in SILVER_INPUTS])
    # every run replaces the day in one commit per table: one version each, whose content is the same
    assert all(after[name] == silver_versions[name] + RERUNS for name in after)
    for spec in SILVER_INPUTS:
        commits = [h for h in history(lake, spec.name) if h.get("production_day") == day]
        assert len(commits) == RERUNS + 2  # the serial build, the first run here, the re-runs
    report(
        "same partition",
        {
            "reruns": RERUNS,
            "silver_rows": sum(len(rows) for rows in silver.values()),
            "mart_rows": sum(len(rows) for rows in marts.values()),
            "new_versions_per_table_per_run": 1,
            "rows_differing_only_in_float_last_bits": float_noise,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=env["HOME_DIR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_whole_range_run_again_changes_nothing(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lakehouse"
    start, days = dt.date(2026, 3, 2), 2
    write_demo_exports(landing, load_plant_config(PLANT_CONFIG), start=start, days=days)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env |= {
        "LAKEHOUSE_ROOT": str(lake),
        "LANDING_ROOT": str(landing),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PYTHONPATH": str(REPO),
        "HOME_DIR": str(tmp_path),
    }
    args = ["run", "--start", start.isoformat(), "--end", (start + dt.timedelta(days=days - 1)).isoformat()]
    timings, float_noise = [], 0
    for i in range(RANGE_RUNS):
        began = time.perf_counter()
        run = cli(args, env)
        timings.append(round(time.perf_counter() - began, 1))
        assert run.returncode == 0, run.stderr[-3000:]
        if i == 0:
            bronze_versions = versions(lake, BRONZE_TABLES)
            silver, marts = silver_content(lake), marts_rows(marts_path(str(lake)))
            continue
        assert "files landed: 0" in run.stdout
        assert versions(lake, BRONZE_TABLES) == bronze_versions  # nothing new: no new Delta version
        assert rounded(silver_content(lake)) == rounded(silver)
        float_noise += last_bit_rows(silver_content(lake), silver)
        again = marts_rows(marts_path(str(lake)))
        assert rounded(again) == rounded(marts)
        float_noise += last_bit_rows(again, marts)
    assert duplicates(lake) == 0
    report(
        "whole range",
        {
            "days": days,
            "runs": RANGE_RUNS,
            "bronze_rows": query(lake, BRONZE_POINTS.name, "select count(*) from t")[0][0],
            "bronze_versions": bronze_versions,
            "silver_versions": versions(lake, [s.name for s in SILVER_INPUTS]),
            "rows_differing_only_in_float_last_bits": float_noise,
            "run_seconds": timings,
        },
    )
