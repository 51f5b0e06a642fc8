"""Write, audit, publish: a day whose marts fail the audit is not published, and the run says why.

The marts of a run are built aside and audited (sql/audit/marts_audit.sql); only a copy whose rebuilt
days pass replaces the published marts.duckdb and the gold tables. These tests publish the worked
example's day, then make the same day fail a check, and assert that analysts still see the previous
numbers, exactly, and that the run, the check result and the CLI name the day, machine, check and values.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest
import yaml
from deltalake import DeltaTable

from assets.marts.assets import BOUNDS_CHECK
from assets.storage import delta
from assets.storage.schemas import SILVER_MACHINE_STATES, UTC_TS
from tests.helpers.exports import HEADER
from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS, assert_worked_example_oee

DAY = "2026-03-02"
BREAKS = [{"name": "breakfast", "start": "09:00", "end": "09:30"}, {"name": "lunch", "start": "12:00", "end": "12:30"}]
REPO = Path(__file__).resolve().parents[2]


def published(root: Path) -> dict:
    """The published oee_daily row of the day, and every mart's rows of the day in the file and in gold."""
    con = duckdb.connect(str(root / "marts.duckdb"), read_only=True)
    try:
        cur = con.execute("select * from oee_daily where day = ?", [dt.date.fromisoformat(DAY)])
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
        tables = {
            name: con.execute(f"select * from {name} order by all").fetchall()
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
        }
    finally:
        con.close()
    gold = {}
    for folder in sorted((root / "gold").iterdir()):
        table = DeltaTable(str(folder))
        gold[folder.name] = (table.version(), sorted(map(str, table.to_pyarrow_table().to_pylist())))
    return {"oee_daily": row, "tables": tables, "gold": gold}


def corrupt_states(plant) -> None:
    """A modelling bug, simulated: silver gains a second `running` interval over the morning of the day,
    06:00:01-13:00:01 local (05:00:01-12:00:01 UTC), on top of the states that already tile it."""
    uri = delta.table_uri(str(plant.root), SILVER_MACHINE_STATES.name)
    day = dt.date.fromisoformat(DAY)
    states = DeltaTable(uri).to_pyarrow_table(filters=[("day", "=", day)])
    start = dt.datetime(2026, 3, 2, 5, 0, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 2, 12, 0, 1, tzinfo=dt.UTC)
    extra = SILVER_MACHINE_STATES.conform(
        pa.table(
            {
                "day": [day],
                "line": ["L1"],
                "machine": ["FILLER"],
                "start": pa.array([start], UTC_TS),
                "end": pa.array([end], UTC_TS),
                "duration_s": [25_200.0],
                "category": ["running"],
                "reason": pa.array([None], pa.string()),
                "state_code": ["1"],
                "event_start": pa.array([start], UTC_TS),
                "event_end": pa.array([end], UTC_TS),
                "is_minor_stop": [False],
            }
        )
    )
    delta.replace_days(uri, SILVER_MACHINE_STATES, [day], pa.concat_tables([states, extra.cast(states.schema)]))


def test_a_day_that_fails_the_audit_keeps_the_previous_numbers_and_fails_the_run(plant_factory):
    plant = plant_factory(one_machine_config(breaks=BREAKS))
    plant.export("History_20260302.csv", ROWS)
    plant.land()
    good = plant.build_day(DAY)
    check = {
        e.asset_key.to_user_string(): e for e in good.get_asset_check_evaluations() if e.check_name == BOUNDS_CHECK
    }
    # the marts whose YAML names audit checks: oee_daily, oee_shift, oee_line_daily, oee_site_daily,
    # oee_line_shift, oee_product_daily
    assert {k: (c.passed, c.metadata["problem_count"].value) for k, c in check.items()} == {
        f"mart__{m}": (True, 0)
        for m in ("oee_daily", "oee_shift", "oee_line_daily", "oee_site_daily", "oee_line_shift", "oee_product_daily")
    }
    before = published(plant.root)
    assert_worked_example_oee(before["oee_daily"])

    corrupt_states(plant)
    mart_asset = [a for a in plant.day_assets if dg.AssetKey("mart__oee_daily") in a.keys]
    failed = dg.materialize(
        mart_asset, partition_key=DAY, resources={"lakehouse": plant.resource}, raise_on_error=False
    )
    assert not failed.success

    # The extra interval lies in planned production time for 06:00:01-09:00 (10,799 s), 09:30-12:00
    # (9,000 s) and 12:30-13:00:01 (1,801 s) = 21,600 s: run time 22,380 + 21,600 = 43,980 s, above the
    # 25,200 s of planned production time. The day's states add up to 86,400 + 25,200 = 111,600 s, and its
    # categories to 57,600 outside the shift + 3,600 breaks + 0 + 43,980 run + 0 + 2,820 unplanned = 108,000 s.
    # The counter readings at 08:00 and 11:00 fall in both running intervals, so they count twice: total
    # 2 x 19,271 = 38,542, good 2 x 18,848 = 37,696; availability 43,980 / 25,200 = 1.745238095, performance
    # 38,542 / 43,980 = 0.8763528877, oee = 37,696 / 25,200 = 1.495873016 (above 1 and above its performance).
    # The line and the site are the one machine. The day before has no silver, so only the day is rebuilt.
    # The day's one shift (early, 06:00-14:00 Berlin = from 05:00 UTC) holds all of it: the machine's and
    # the line's shift rows fail the same checks, named by their shift (the site has no shift rows). The plant
    # has no products: the whole day is on product 'unknown', whose oee_product_daily row is the machine's and
    # fails the same bounds, named by its product.
    oee = "ratio_in_range: oee 1.495873016 outside 0..1 (performance 0.8763528877)"
    availability = "ratio_in_range: availability 1.745238095 outside 0..1"
    run = "times_nest: run_time_s 43980 > planned_production_time_s 25200"

    def in_shift(problem: str) -> str:
        check, detail = problem.split(": ", 1)
        return f"{check}: shift early from 2026-03-02 05:00 UTC: {detail}"

    def of_product(problem: str) -> str:
        check, detail = problem.split(": ", 1)
        return f"{check}: product unknown: {detail}"

    expected = [
        f"2026-03-02 L1/FILLER: {of_product(run)}",
        f"2026-03-02 L1/FILLER: {run}",
        f"2026-03-02 L1/FILLER: {in_shift(run)}",
        "2026-03-02 L1/FILLER: seconds_add_up: outside shifts 57600 + breaks 3600 + not scheduled 0 + run 43980"
        " + planned stops 0 + unplanned stops 2820 = 108000 != calendar_time_s 86400",
        "2026-03-02 L1/FILLER: states_tile_day: machine states 111600 s != calendar_time_s 86400",
        f"2026-03-02 L1/FILLER: {availability}",
        f"2026-03-02 L1/FILLER: {oee}",
        f"2026-03-02 L1/FILLER: {of_product(availability)}",
        f"2026-03-02 L1/FILLER: {of_product(oee)}",
        f"2026-03-02 L1/FILLER: {in_shift(availability)}",
        f"2026-03-02 L1/FILLER: {in_shift(oee)}",
        f"2026-03-02 line L1: {run}",
        f"2026-03-02 line L1: {in_shift(run)}",
        f"2026-03-02 line L1: {availability}",
        f"2026-03-02 line L1: {oee}",
        f"2026-03-02 line L1: {in_shift(availability)}",
        f"2026-03-02 line L1: {in_shift(oee)}",
        f"2026-03-02 site Hamburg: {run}",
        f"2026-03-02 site Hamburg: {availability}",
        f"2026-03-02 site Hamburg: {oee}",
    ]

    # each mart's blocking check failed with the problems in its rows as metadata: the machine's day rows are
    # oee_daily's, its shift rows oee_shift's, its product's oee_product_daily's, the line's oee_line_daily's
    # and oee_line_shift's, the site's oee_site_daily's
    def mart_of(problem: str) -> str:
        if ": product " in problem:
            return "oee_product_daily"
        level = "line" if " line " in problem else "site" if " site " in problem else "machine"
        shift = ": shift " in problem
        return {
            ("machine", False): "oee_daily",
            ("machine", True): "oee_shift",
            ("line", False): "oee_line_daily",
            ("line", True): "oee_line_shift",
            ("site", False): "oee_site_daily",
        }[(level, shift)]

    evaluations = {
        e.asset_key.to_user_string(): e for e in failed.get_asset_check_evaluations() if e.check_name == BOUNDS_CHECK
    }
    assert set(evaluations) == {f"mart__{mart_of(p)}" for p in expected}
    for key, evaluation in evaluations.items():
        mine = [p for p in expected if f"mart__{mart_of(p)}" == key]
        assert not evaluation.passed
        assert evaluation.metadata["problem_count"].value == len(mine)
        assert [shown(p) for p in evaluation.metadata["problems"].value] == mine
        assert evaluation.metadata["first_problem"].value == mine[0]
    # the run failed once (no retry of the same numbers), naming the day, the machine, the check and the values
    (failure,) = failed.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description
    # the first problem comes last, where a one-line summary picks it up
    assert message.splitlines() == [
        "marts not published: 20 audit problem(s) on 2026-03-02; the published marts keep their previous numbers",
        *reversed(expected),
    ]
    assert failed.get_asset_materialization_events() == []

    # analysts see the previous numbers: the file, every mart's rows and gold (same versions) unchanged
    after = published(plant.root)
    assert_worked_example_oee(after["oee_daily"])
    assert after == before
    assert not [p for p in plant.root.iterdir() if ".building-" in p.name]


def shown(p: dict) -> str:
    """A problem of a check's metadata as the run's message writes it."""
    where = f"{p['line']}/{p['machine']}" if p["machine"] else f"{p['level']} {p['line'] or p['site']}"
    return f"{p['day']} {where}: {p['check']}: {p['detail']}"


def cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "orchestration.cli", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_the_cli_fails_naming_the_day_machine_check_and_values_and_publishes_nothing(tmp_path):
    """A plant engineer types an ideal cycle time twice the real one: performance far above 1 is impossible."""
    config = one_machine_config(breaks=BREAKS)
    plant_yaml = tmp_path / "plant.yaml"
    plant_yaml.write_text(yaml.safe_dump(config), encoding="utf-8")
    landing = tmp_path / "landing" / "historian"
    landing.mkdir(parents=True)
    (landing / "History_20260302.csv").write_text(HEADER + "".join(ROWS), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "PLANT_CONFIG": str(plant_yaml),
        "LANDING_ROOT": str(tmp_path / "landing"),
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LANDING_SETTLE_SECONDS": "0",  # the export was written just now
    }
    first = cli(["run", "--start", DAY, "--end", DAY], tmp_path, env)
    assert first.returncode == 0, first.stderr[-3000:]
    root = tmp_path / "lakehouse"
    before = published(root)
    assert_worked_example_oee(before["oee_daily"])

    config["lines"][0]["machines"][0]["ideal_cycle_time_s"] = 2.0
    plant_yaml.write_text(yaml.safe_dump(config), encoding="utf-8")
    second = cli(["run", "--start", DAY, "--end", DAY], tmp_path, env)
    assert second.returncode == 1
    # performance = 2.0 s x 19,271 units / 22,380 s run = 1.722162645 > 1.5; oee = 2.0 x 18,848 / 25,200
    # = 1.496 stays below the performance it comes from, so only performance fails, on the machine, the
    # line and the site (one machine each)
    assert second.stderr.strip().splitlines()[-1] == (
        "iiot-lakehouse: error: 1 production day(s) failed: 2026-03-02 L1/FILLER: ratio_in_range: "
        "performance 1.722162645 outside 0..1.5"
    )
    assert "production day 2026-03-02: FAILED: 2026-03-02 L1/FILLER: ratio_in_range: performance" in second.stdout

    after = published(root)
    assert after == before
    assert after["oee_daily"]["ideal_cycle_time_s"] == 1.0
    assert after["oee_daily"]["performance"] == 19_271 / 22_380

    # the Dagster instance the UI reads holds each mart's failed check with the problems of its rows: the
    # machine's and the line's day and shift rows, and the site's day
    performance = "performance 1.722162645 outside 0..1.5"
    in_shift = f"shift early from 2026-03-02 05:00 UTC: {performance}"
    details = {
        "oee_daily": [performance],
        "oee_shift": [in_shift],
        "oee_line_daily": [performance],
        "oee_line_shift": [in_shift],
        "oee_site_daily": [performance],
    }
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        for mart, expected in details.items():
            records = instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(dg.AssetKey(f"mart__{mart}"), BOUNDS_CHECK), limit=10
            )
            # (each run also leaves a record of the check as planned)
            evaluations = [
                r.event.dagster_event.event_specific_data
                for r in records
                if r.event.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ]
            assert [e.passed for e in evaluations] == [False, True], mart  # newest first
            assert [p["detail"] for p in evaluations[0].metadata["problems"].value] == expected, mart
