"""Data quality per tag and day: carried-in values and tags silent on the day."""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart, silver


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


def test_sensor_values_carried_into_the_day_hold_at_most_the_sensor_gap(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:50:00", "L1.FILLER.TempC", 20),  # 10 min before the day: holds 5 min into it
            r("2026-03-02 12:00:00", "L1.FILLER.TempC", 21),
            r("2026-03-02 05:40:00", "L1.FILLER.Vib", 1.5),  # superseded before the day by...
            r("2026-03-02 05:55:00", "L1.FILLER.Vib", None, quality=1),  # ...a bad point, carried in as bad
            r("2026-03-02 06:30:00", "L1.FILLER.Vib", 2.5),
            r("2026-03-02 05:40:00", "L1.FILLER.Pres", 3.5),  # its 15 min end before the day: seen, not held
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # The day is 2 Mar 06:00 to 3 Mar 06:00 local (05:00 to 05:00 UTC), 86,400 s; a sensor value holds
    # until the next point, at most sensor_max_gap_s = 900 s.
    # TempC: 20 from 06:00 to 06:05 (300 s), 21 from 12:00 to 12:15 (900 s): 1,200 s, 0.013889 of the day;
    #   gaps 6 h and 18 h. Vib: the bad point carried in covers nothing; 2.5 from 06:30 to 06:45 (900 s),
    #   0.010417 of the day; gaps 30 min and 23.5 h (84,600 s). Pres: no point on the day, nothing held.
    rows = mart(
        plant,
        "select tag, points, round(coverage, 6), longest_gap_s from data_quality_daily "
        "where tag in ('L1.FILLER.TempC', 'L1.FILLER.Vib', 'L1.FILLER.Pres') order by tag",
    )
    assert rows == [
        ("L1.FILLER.Pres", 0, 0.0, 86_400.0),
        ("L1.FILLER.TempC", 1, 0.013889, 64_800.0),
        ("L1.FILLER.Vib", 1, 0.010417, 84_600.0),
    ]
    # The intervals, in UTC: the bad point from 04:55 holds until 05:10, clipped to the day's 05:00 start.
    intervals = silver(
        plant,
        "silver__sensor_intervals",
        "select tag, strftime(start, '%H:%M'), strftime(\"end\", '%H:%M'), value, quality from t order by tag, start",
    )
    assert intervals == [
        ("L1.FILLER.TempC", "05:00", "05:05", 20.0, "good"),
        ("L1.FILLER.TempC", "11:00", "11:15", 21.0, "good"),
        ("L1.FILLER.Vib", "05:00", "05:10", None, "bad"),
        ("L1.FILLER.Vib", "05:30", "05:45", 2.5, "good"),
    ]
