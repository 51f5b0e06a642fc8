"""A production day whose marts fail the audit stays failing, loudly, until a publish of it passes.

The real `iiot-lakehouse run` and `status` in subprocesses, on a plant written here: one day's counter
jumps so far that its performance is impossible. The run publishes the other days and ends saying which
day failed; `status` lists the day and exits 1; the next plain `run` tries the day again and fails naming
the day, the machine, the check and the values.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.cli import CliPlant as Plant
from tests.helpers.cli import last_line
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva

# Mon 2026-03-02 .. Thu 2026-03-05 (Europe/Berlin, one early shift 06:00-14:00, ideal cycle time 1.0 s):
# the machine runs from Monday 07:00 on. Tuesday's readings 20 (08:00) and 200,000 (09:00) after Monday's
# 10 count 20 - 10 + 200,000 - 20 = 199,990 units in the 28,800 s of the shift it runs through:
# performance 199,990 / 28,800 = 6.944097222, outside 0..1.5.
ROWS = [
    r("2026-03-02 07:00:00", "L1.FILLER.State", 1),
    r("2026-03-02 08:00:00", "L1.FILLER.Total", 10),
    r("2026-03-03 08:00:00", "L1.FILLER.Total", 20),
    r("2026-03-03 09:00:00", "L1.FILLER.Total", 200_000),
    r("2026-03-04 08:00:00", "L1.FILLER.Total", 200_010),
    r("2026-03-05 08:00:00", "L1.FILLER.Total", 200_020),
]
PROBLEM = "2026-03-03 L1/FILLER: ratio_in_range: performance 6.944097222 outside 0..1.5"


@pytest.mark.slow
def test_a_day_that_fails_its_audit_is_listed_by_status_and_tried_again_by_every_run(tmp_path):
    plant = Plant(tmp_path)
    write_aveva(plant.landing / "historian" / "a.csv", ROWS)
    first = plant.run("--rebuild-all")
    assert first.returncode == 1, first.stderr[-3000:]
    assert f"  production day 2026-03-03: FAILED: {PROBLEM}\n" in first.stdout
    assert "  production day 2026-03-02: ok\n" in first.stdout
    assert "marts published in " in first.stdout
    # Wednesday's publish rebuilds Tuesday with it (the day before), so it fails on Tuesday's rows too;
    # the output's last line says so, after the published days' summary
    assert first.stdout.strip().splitlines()[-1] == "2 production day(s) FAILED, not published: 2026-03-03, 2026-03-04"
    assert last_line(first).startswith(f"iiot-lakehouse: error: 2 production day(s) failed: {PROBLEM}; ")

    status = plant.cli("status")
    assert status.returncode == 1, status.stdout
    assert re.search(r"\n  2026-03-03: its marts failed the audit at [^\n]+\n", status.stdout), status.stdout
    assert "days failing their audit: 1; see why: iiot-lakehouse run\n" in status.stdout
    assert re.search(r"\n  2026-03-03: its last publish failed at [^\n]+; the marts keep", status.stdout)
    assert "status: ok" not in status.stdout
    assert last_line(status) == "iiot-lakehouse: error: 1 production day(s) failing their audit: 2026-03-03"

    again = plant.run()
    assert again.returncode == 1, again.stderr[-3000:]
    assert re.search(r"  production day 2026-03-03: its marts failed the audit at [^\n]+: rebuilt\n", again.stdout)
    assert f"  production day 2026-03-03: FAILED: {PROBLEM}\n" in again.stdout
    assert "nothing to rebuild" not in again.stdout
    assert last_line(again).startswith("iiot-lakehouse: error: ")
    assert PROBLEM in last_line(again)
