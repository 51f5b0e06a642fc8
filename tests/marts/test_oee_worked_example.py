"""The worked OEE example, end to end: CSV export -> bronze -> silver -> oee_daily."""

from __future__ import annotations

from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS, assert_worked_example_oee

# ROWS and the oee_daily row they give are derived by hand in tests/helpers/worked_example.py.


def test_worked_example_end_to_end(plant_factory):
    plant = plant_factory(
        one_machine_config(
            breaks=[
                {"name": "breakfast", "start": "09:00", "end": "09:30"},
                {"name": "lunch", "start": "12:00", "end": "12:30"},
            ]
        )
    )
    plant.export("History_20260302.csv", ROWS)
    landing = plant.land()
    checks = {e.check_name: (e.passed, e.metadata) for e in landing.get_asset_check_evaluations()}
    assert checks["bronze_historian__points_schema"][0] is True
    assert checks["bronze_historian__points_schema"][1]["rows_checked"].value == len(ROWS)
    assert checks["rows_in_equal_landed_plus_quarantined"][0] is True
    day = plant.build_day("2026-03-02")
    assert {e.check_name for e in day.get_asset_check_evaluations() if e.passed} == {
        "silver__plant_calendar_schema",
        "silver__machine_states_schema",
        "states_tile_the_day",
        "silver__count_increments_schema",
        "silver__energy_increments_schema",
        "silver__sensor_intervals_schema",
        "silver__tag_quality_schema",
        "silver__production_runs_schema",
        "silver__orders_schema",
        "ratios_and_times_in_bounds",  # on the marts the audit reads
        "published_after_audit",  # on the others
    }

    assert_worked_example_oee(plant.oee("2026-03-02"))


def test_rebuilding_a_day_gives_the_same_mart(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export("History_20260302.csv", ROWS)
    plant.land()
    plant.build_day("2026-03-02")
    first = plant.query("select * from oee_daily order by machine, day")
    plant.build_day("2026-03-02")
    assert plant.query("select * from oee_daily order by machine, day") == first
    assert plant.query("select count(*) from oee_daily") == [(1,)]
