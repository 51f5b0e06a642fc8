"""Data quality per tag and day: carried-in values and tags silent on the day."""

from __future__ import annotations

from conftest import EVERY_DAY, mart, one_machine_config
from conftest import aveva_row as r


def test_coverage_with_a_carried_in_state_and_a_tag_without_points_in_the_day(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-01 12:00:00", "L1.FILLER.State", 1),  # carried into 2 Mar, no point on the day
            r("2026-03-01 12:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 12:00:00", "L1.FILLER.Total", 100),
            r("2026-03-01 12:00:00", "L1.FILLER.TempC", 20),  # a sensor that fell silent before the day
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    rows = mart(
        plant,
        "select tag, points, round(coverage, 6), longest_gap_s from data_quality_daily order by tag",
    )
    # The day is 2 Mar 06:00 to 3 Mar 06:00 local: 86,400 s. A machine tag holds its last value until the
    # next point, so State (carried in) and Total cover the whole day; a sensor holds at most
    # sensor_max_gap_s (default 900 s) from its 1 Mar 12:00 point, so TempC covers none of it; Reject and
    # kWh never report. Every gap is the whole day, but Total's: its 12:00 point splits the day into 6 h
    # before and 18 h (64,800 s) after.
    assert rows == [
        ("L1.FILLER.Reject", 0, 0.0, 86_400.0),
        ("L1.FILLER.State", 0, 1.0, 86_400.0),
        ("L1.FILLER.TempC", 0, 0.0, 86_400.0),
        ("L1.FILLER.Total", 1, 1.0, 64_800.0),
        ("L1.FILLER.kWh", 0, 0.0, 86_400.0),
    ]
