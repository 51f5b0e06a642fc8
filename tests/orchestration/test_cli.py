"""The iiot-lakehouse command end to end on the demo plant, as a user runs it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from deltalake import DeltaTable

CLI = [sys.executable, "-m", "orchestration.cli"]
REPO = Path(__file__).resolve().parents[2]


def cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture
def workdir(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env["PYTHONPATH"] = str(REPO)
    return tmp_path, env


def count(con: duckdb.DuckDBPyConnection, path: Path, sql: str):
    con.register("t", DeltaTable(str(path)).to_pyarrow_dataset())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.unregister("t")


@pytest.mark.slow
def test_demo_then_run_lands_models_and_publishes_with_defaults(workdir):
    cwd, env = workdir
    demo = cli(["demo", "--days", "4", "--start", "2026-03-02"], cwd, env)
    assert demo.returncode == 0, demo.stderr
    # 4 daily historian files + the re-export, and the orders export of each day
    assert "wrote 9 export files for 4 production days" in demo.stdout

    run = cli(["run"], cwd, env)
    assert run.returncode == 0, run.stderr[-3000:]
    marts = cwd / "data" / "lakehouse" / "marts.duckdb"
    assert f"marts published in {marts}" in run.stdout
    assert "OEE per line, production days 2026-03-02 .. 2026-03-05" in run.stdout
    for day in ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"):
        assert f"production day {day}: ok" in run.stdout

    con = duckdb.connect(str(marts), read_only=True)
    rows = con.execute("select count(*), count(distinct (line, machine)), min(day), max(day) from oee_daily").fetchall()
    con.close()
    assert rows == [(24, 6, dt.date(2026, 3, 2), dt.date(2026, 3, 5))]

    # Nothing lost, nothing doubled: every row of every file is in bronze or in quarantine.
    lake = cwd / "data" / "lakehouse"
    con = duckdb.connect()
    ledger = count(
        con,
        lake / "bronze__file_ledger",
        "select sum(rows_in), sum(rows_landed), sum(rows_quarantined), sum(rows_new), count(*) from t",
    )
    points = count(con, lake / "bronze_historian__points", "select count(*), count(distinct (tag, ts)) from t")
    con.close()
    rows_in, rows_landed, rows_quarantined, rows_new, files = ledger[0]
    assert files == 9
    assert rows_in == rows_landed + rows_quarantined
    assert points == [(rows_new, rows_new)]
    landing = cwd / "data" / "landing"
    data_rows = sum(
        len(p.read_text().splitlines()) - 1 for folder in ("historian", "orders") for p in (landing / folder).iterdir()
    )
    assert rows_in == data_rows

    # The runs are in the Dagster instance the UI reads: one landing run and one per day.
    with dg.DagsterInstance.from_config(str(cwd / ".dagster_home")) as instance:
        assert len(instance.get_runs()) == 5

    # A second run finds nothing new; a range rebuild works and changes nothing.
    again = cli(["run"], cwd, env)
    assert again.returncode == 0
    assert "no production day gained new data" in again.stdout
    before = marts.read_bytes()
    rebuild = cli(["run", "--start", "2026-03-03", "--end", "2026-03-03"], cwd, env)
    assert rebuild.returncode == 0, rebuild.stderr[-3000:]
    con = duckdb.connect(str(marts), read_only=True)
    assert con.execute("select count(*) from oee_daily").fetchall() == [(24,)]
    con.close()
    assert len(before) > 0


def test_errors_are_clear_and_exit_non_zero(workdir):
    cwd, env = workdir
    half = cli(["run", "--start", "2026-03-02"], cwd, env)
    assert half.returncode == 1
    assert "give both --start and --end" in half.stderr

    bad = cwd / "plant.yaml"
    bad.write_text("plant: {site: X, timezone: Mars/Olympus}\n")
    broken = cli(["run"], cwd, env | {"PLANT_CONFIG": str(bad)})
    assert broken.returncode == 1
    assert "plant.timezone: is not a known IANA time zone: 'Mars/Olympus'" in broken.stderr


def test_run_refuses_to_build_a_production_day_that_has_not_ended(workdir):
    cwd, env = workdir
    (cwd / "data" / "landing" / "historian").mkdir(parents=True)  # a missing LANDING_ROOT is an error of its own
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    run = cli(["run", "--start", tomorrow, "--end", tomorrow], cwd, env)
    assert run.returncode == 1
    assert f"iiot-lakehouse: error: not a production day that has ended: {tomorrow}" in run.stderr
