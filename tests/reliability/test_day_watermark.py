"""A day that failed, or was interrupted, is rebuilt (the day watermark, assets/silver/watermarks.py).

Each silver build of a day records itself after its commit, each marts publish after the publish. A
day whose silver build did not finish is neither read beside a neighbour (its half a day would fail the
neighbour's audit, or worse, pass it) nor forgotten: a plain `run` rebuilds it, as it rebuilds days
landed but never built and the days of a deleted marts file, and says which and why.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import dagster as dg

from assets.bronze.assets import land_exports
from assets.marts.publish import stale_days
from orchestration.resources import LakehouseResource
from tests.helpers.cli import CLI, CliPlant
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import marts_rows

# Monday 2 and Tuesday 3 March 2026, Europe/Berlin (UTC+1, no DST change), day_start 06:00: each
# production day is 24 h = 86,400 s. The machine runs from 07:00 each day and counts 10 units by 08:00.
ROWS = [
    r("2026-03-02 07:00:00", "L1.FILLER.State", 1),
    r("2026-03-02 08:00:00", "L1.FILLER.Total", 10),
    r("2026-03-03 07:00:00", "L1.FILLER.State", 1),
    r("2026-03-03 08:00:00", "L1.FILLER.Total", 20),
]
LANDED = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
SILVER_BUT_CALENDAR = (
    "silver__machine_states, silver__count_increments, silver__energy_increments, "
    "silver__sensor_intervals, silver__tag_quality, silver__production_runs, silver__orders"
)


def test_a_day_whose_silver_build_did_not_finish_is_not_read_beside_its_neighbour(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export("h.csv", ROWS)
    plant.land()
    # 2 March's run got as far as its calendar (killed, or still running in another process) ...
    calendar_only = [a for a in plant.day_assets if dg.AssetKey("silver__plant_calendar") in a.keys]
    assert dg.materialize(calendar_only, partition_key="2026-03-02", resources={"lakehouse": plant.resource}).success
    stale = [str(s) for s in stale_days(str(plant.root), plant.config)]
    assert stale[0] == f"2026-03-02: its last build did not finish: no {SILVER_BUT_CALENDAR}"
    assert re.fullmatch(rf"2026-03-03: points landed \({LANDED}\) but no build of the day finished", stale[1])
    assert len(stale) == 2

    # ... when 3 March is built: its marts rebuild the day before only if that day's silver is whole.
    # Read beside it, 2 March would have a calendar and no machine states, and fail the audit.
    plant.build_day("2026-03-03")
    assert plant.query("select day, calendar_time_s from oee_daily order by day") == [(dt_date("2026-03-03"), 86400.0)]
    assert [s.day.isoformat() for s in stale_days(str(plant.root), plant.config)] == ["2026-03-02"]

    plant.build_day("2026-03-02")
    assert plant.query("select day, calendar_time_s from oee_daily order by day") == [
        (dt_date("2026-03-02"), 86400.0),
        (dt_date("2026-03-03"), 86400.0),
    ]
    assert stale_days(str(plant.root), plant.config) == []


def dt_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_run_rebuilds_days_landed_but_never_built_and_the_days_of_a_lost_marts_file(tmp_path):
    plant = CliPlant(tmp_path)
    write_aveva(plant.landing / "historian" / "h.csv", ROWS)
    # a landing whose run died before it built its days: the points are in bronze, no day is built
    resource = LakehouseResource(
        lakehouse_root=str(plant.lake), landing_root=str(plant.landing), plant_config=str(plant.config)
    )
    assert dg.materialize([land_exports], resources={"lakehouse": resource}).success

    first = plant.run()
    assert first.returncode == 0, first.stderr[-3000:]
    lines = first.stdout.splitlines()
    assert lines[1] == "  files landed: 0, rejected: 0, already landed: 1"
    for day in ("2026-03-02", "2026-03-03"):
        wanted = rf"  production day {day}: points landed \({LANDED}\) but no build of the day finished: rebuilt"
        assert any(re.fullmatch(wanted, line) for line in lines), first.stdout
        assert f"  production day {day}: ok" in lines
    built = marts_rows(plant.lake / "marts.duckdb")
    # each day is whole: 24 h of calendar time for the one machine (Berlin in March: no clock change)
    assert [(row[4], row[5]) for row in built["oee_daily"]] == [
        (dt_date("2026-03-02"), 86400.0),
        (dt_date("2026-03-03"), 86400.0),
    ]

    # the marts file is lost: doctor names both days, and run rebuilds them, to the same numbers
    (plant.lake / "marts.duckdb").unlink()
    doctor = subprocess.run(
        [*CLI, "doctor"], cwd=plant.tmp, env=plant.env, capture_output=True, text=True, timeout=300, check=False
    )
    assert doctor.returncode == 1, doctor.stderr[-3000:]
    assert doctor.stdout.splitlines() == [
        f"marts: marts.duckdb: production day {day} is out of date: the published marts file is missing"
        for day in ("2026-03-02", "2026-03-03")
    ]
    second = plant.run()
    assert second.returncode == 0, second.stderr[-3000:]
    for day in ("2026-03-02", "2026-03-03"):
        assert f"  production day {day}: the published marts file is missing: rebuilt" in second.stdout
    assert marts_rows(plant.lake / "marts.duckdb") == built

    third = plant.run()
    assert third.returncode == 0, third.stderr[-3000:]
    assert third.stdout.splitlines()[-1] == (
        "nothing new to land; no production day gained new data or is stale; nothing to rebuild"
    )
