"""Each check of the marts audit finds its problem: the worked example's day is published, one number of it is
then made impossible in the published file, and the audit (sql/audit/marts_audit.sql) names the day, the
row, the check and the values. The publish path that runs the audit before publishing is in test_audit.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.marts.audit import audit_published_marts
from tests.helpers.lakehouse import Plant
from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS

DAY = "2026-03-02"
BREAKS = [{"name": "breakfast", "start": "09:00", "end": "09:30"}, {"name": "lunch", "start": "12:00", "end": "12:30"}]

# The worked example's machine-day (tests/helpers/worked_example.py): breaks 3,600 s, run 22,380 s, unplanned
# stops 2,820 s, no planned, minor or unknown time; total 19,271, good 18,848, reject 423. Its one machine is
# its line's output machine, and its line is the site's one line.
TIMES = "break_time_s 3600, not_scheduled_time_s 0, run_time_s 22380, planned_stop_time_s 0"
CASES = {
    "a negative good count": (
        "update oee_daily set good_count = -5",
        [
            "2026-03-02 L1/FILLER: count_not_negative: total_count 19271, good_count -5, reject_count 423",
            # the line's and the site's output, as published, no longer that of their output machine
            "2026-03-02 line L1: output_is_output_machines: output_good_count 18848 != good_count of the output "
            "machine(s) -5",
            "2026-03-02 site Hamburg: output_is_output_machines: output_good_count 18848 != good_count of the "
            "output machine(s) -5",
        ],
    ),
    "a negative minor stop time": (
        "update oee_daily set minor_stop_time_s = -1",
        [
            f"2026-03-02 L1/FILLER: time_not_negative: {TIMES}, unplanned_stop_time_s 2820, "
            "minor_stop_time_s -1, unknown_state_time_s 0"
        ],
    ),
    "a line's run time a minute more than its machine's": (
        "update oee_line_daily set run_time_s = run_time_s + 60",
        ["2026-03-02 line L1: rollup_equals_sum: run_time_s 22440 != sum over machines 22380"],
    ),
    "a line without its row": (
        "delete from oee_line_daily",
        ["2026-03-02 line L1: rollup_equals_sum: no line row"],
    ),
    # the old bug: a line's output summed over its machines; here as if a second machine had counted the same
    "a site's good units counted twice": (
        "update oee_site_daily set output_good_count = 2 * output_good_count",
        [
            "2026-03-02 site Hamburg: output_is_output_machines: output_good_count 37696 != good_count of the output "
            "machine(s) 18848"
        ],
    ),
    "a line's units not its output machine's": (
        "update oee_line_daily set output_total_count = 0",
        [
            "2026-03-02 line L1: output_is_output_machines: output_total_count 0 != total_count of the output "
            "machine(s) 19271"
        ],
    ),
}


@pytest.fixture(scope="module")
def published_day(tmp_path_factory):
    plant = Plant(tmp_path_factory.mktemp("audit_checks"), one_machine_config(breaks=BREAKS))
    plant.export("History_20260302.csv", ROWS)
    plant.land()
    plant.build_day(DAY)
    return plant


@pytest.mark.parametrize("case", list(CASES))
def test_each_check_names_the_row_and_its_values(published_day, case):
    plant = published_day
    config = plant.config
    day = dt.date.fromisoformat(DAY)
    assert audit_published_marts(str(plant.root), config, [day]) == []  # as published: nothing to say

    marts = plant.root / "marts.duckdb"
    pristine = marts.read_bytes()
    change, expected = CASES[case]
    try:
        con = duckdb.connect(str(marts))
        con.execute(change).fetchall()
        con.close()
        assert [str(p) for p in audit_published_marts(str(plant.root), config, [day])] == expected
    finally:
        marts.write_bytes(pristine)
