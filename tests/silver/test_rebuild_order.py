"""Rebuilding a day when the next one already exists, in either order: a night shift across the day's
edge (day_start 00:00) and a stop across midnight stay whole."""

from __future__ import annotations

import datetime as dt

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import mart

SHIFTS = [
    {"name": "early", "start": "06:00", "end": "14:00"},
    {"name": "night", "start": "22:00", "end": "06:00"},
]


def _plant(plant_factory):
    config = one_machine_config(shifts=SHIFTS, day_start="00:00", working_days=["mon", "tue", "wed"])
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 00:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 23:00:00", "L1.FILLER.State", 3),  # a jam 23:00-01:00 across midnight
            r("2026-03-03 01:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 00:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 00:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 23:00:00", "L1.FILLER.Total", 3_000),  # 22:00-23:00
            r("2026-03-03 06:00:00", "L1.FILLER.Total", 12_000),  # 01:00-06:00, read at the shift end
        ],
    )
    plant.land()
    return plant


def _snapshot(plant):
    night = mart(
        plant,
        "select calendar_time_s, scheduled_time_s, run_time_s, unplanned_stop_time_s, total_count "
        "from oee_shift where shift_name = 'night' and day = ?",
        [dt.date(2026, 3, 2)],
    )
    events = mart(
        plant, "select strftime(start, '%H:%M'), duration_s, cast(day as varchar), shift_name from downtime_events"
    )
    days = mart(plant, "select cast(day as varchar), unplanned_stop_time_s, total_count from oee_daily order by day")
    return night, events, days


def test_the_night_shift_and_a_stop_across_midnight_are_whole_in_either_build_order(plant_factory):
    plant = _plant(plant_factory)
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    forward = _snapshot(plant)
    # night 22:00-06:00: 8 h, the jam 2 h of it; 3,000 + 9,000 pieces
    assert forward[0] == [(28_800, 28_800, 21_600, 7_200, 12_000)]
    # 23:00 CET = 22:00 UTC; one event of 2 h on 2 March, in the night shift
    assert forward[1] == [("22:00", 7_200.0, "2026-03-02", "night")]
    # 2 Mar: early shift (no pieces read in it) and the night's first 2 h: 1 h jam, 3,000 pieces
    # 3 Mar: the night's last 6 h (1 h jam, 9,000 pieces) and the early shift
    assert forward[2] == [("2026-03-02", 3_600, 3_000), ("2026-03-03", 3_600, 9_000)]
    plant.build_day("2026-03-02")  # rebuild 2 March when 3 March exists
    assert _snapshot(plant) == forward


def test_building_the_later_day_first_gives_the_same_marts(plant_factory):
    plant = _plant(plant_factory)
    plant.build_day("2026-03-03")
    plant.build_day("2026-03-02")
    night, events, days = _snapshot(plant)
    assert night == [(28_800, 28_800, 21_600, 7_200, 12_000)]
    assert events == [("22:00", 7_200.0, "2026-03-02", "night")]
    assert days == [("2026-03-02", 3_600, 3_000), ("2026-03-03", 3_600, 9_000)]
