"""Silver and the OEE mart on edge days: midnight, shifts across midnight, DST, counters, bad data."""

from __future__ import annotations

import datetime as dt

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import silver

THREE_SHIFTS = [
    {"name": "early", "start": "06:00", "end": "14:00"},
    {"name": "late", "start": "14:00", "end": "22:00"},
    {"name": "night", "start": "22:00", "end": "06:00"},
]
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_a_stop_across_midnight_is_split_between_the_two_days(plant_factory):
    # day_start 00:00, night shift 22:00-06:00 on every day. Jam from 23:00 to 01:00 local (CET, UTC+1).
    plant = plant_factory(one_machine_config(shifts=THREE_SHIFTS, day_start="00:00", working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-02 00:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 23:00:00", "L1.FILLER.State", 3),
            r("2026-03-03 01:00:00", "L1.FILLER.State", 1),
            r("2026-03-03 23:59:00", "L1.FILLER.State", 1),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    states = silver(
        plant,
        "silver__machine_states",
        "select day, strftime(start, '%d %H:%M'), strftime(\"end\", '%d %H:%M'), category from t order by start",
    )
    # UTC: the jam runs 22:00 (day 2) .. 00:00 (day 3); day 3 starts at 23:00 UTC on the 2nd.
    assert states == [
        (dt.date(2026, 3, 2), "01 23:00", "02 22:00", "running"),
        (dt.date(2026, 3, 2), "02 22:00", "02 23:00", "unplanned_stop"),
        (dt.date(2026, 3, 3), "02 23:00", "03 00:00", "unplanned_stop"),
        (dt.date(2026, 3, 3), "03 00:00", "03 23:00", "running"),
    ]
    day2, day3 = plant.oee("2026-03-02"), plant.oee("2026-03-03")
    assert (day2["scheduled_time_s"], day2["unplanned_stop_time_s"], day2["run_time_s"]) == (86_400, 3_600, 82_800)
    assert (day3["scheduled_time_s"], day3["unplanned_stop_time_s"], day3["run_time_s"]) == (86_400, 3_600, 82_800)


def test_a_night_shift_across_midnight_belongs_to_the_day_it_started_with_day_start_0600(plant_factory):
    # Night shift only, 22:00-06:00, on Mondays; day_start 06:00: Monday's production day holds all of it.
    plant = plant_factory(
        one_machine_config(shifts=[{"name": "night", "start": "22:00", "end": "06:00"}], working_days=("mon",))
    )
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-03 02:00:00", "L1.FILLER.State", 2),  # changeover 02:00-02:45
            r("2026-03-03 02:45:00", "L1.FILLER.State", 1),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    monday, tuesday = plant.oee("2026-03-02"), plant.oee("2026-03-03")
    assert (monday["scheduled_time_s"], monday["planned_stop_time_s"], monday["run_time_s"]) == (28_800, 2_700, 26_100)
    assert round(monday["availability"], 4) == round(26_100 / 28_800, 4) == 0.9062
    assert (tuesday["scheduled_time_s"], tuesday["planned_production_time_s"], tuesday["availability"]) == (0, 0, None)


def test_dst_days_are_23_and_25_hours_long(plant_factory):
    plant = plant_factory(one_machine_config(shifts=THREE_SHIFTS, day_start="00:00", working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-28 12:00:00", "L1.FILLER.State", 1),
            r("2026-10-24 12:00:00", "L1.FILLER.State", 1),
        ],
    )
    plant.land()
    for day in ("2026-03-29", "2026-10-25"):
        plant.build_day(day)
    spring, autumn = plant.oee("2026-03-29"), plant.oee("2026-10-25")
    # Spring forward: 02:00 -> 03:00, the day has 23 h; the night shift 22:00-06:00 that began on the
    # 28th contributes 00:00-06:00 = 5 real hours, early 8 h, late 8 h, night from 22:00 2 h: 23 h.
    assert (spring["calendar_time_s"], spring["scheduled_time_s"], spring["run_time_s"]) == (82_800, 82_800, 82_800)
    assert spring["availability"] == 1.0
    # Fall back: 03:00 -> 02:00, 25 h; 00:00-06:00 holds 7 real hours.
    assert (autumn["calendar_time_s"], autumn["scheduled_time_s"], autumn["run_time_s"]) == (90_000, 90_000, 90_000)


def test_counter_wrap_and_reset(plant_factory):
    # Rollover at 65,536, ideal cycle 1 s (at most 2 units/s are plausible).
    plant = plant_factory(one_machine_config(rollover=65_536))
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:59:00", "L1.FILLER.Total", 65_000),
            r("2026-03-02 05:59:00", "L1.FILLER.Reject", 10),
            r("2026-03-02 06:05:00", "L1.FILLER.Total", 65_500),  # +500 in 6 min
            r("2026-03-02 06:06:00", "L1.FILLER.Total", 20),  # wrapped: +56 in 60 s (36 to the top, 20 after)
            r("2026-03-02 07:00:00", "L1.FILLER.Total", 3_000),  # +2,980
            r("2026-03-02 07:00:30", "L1.FILLER.Total", 15),  # PLC restart: 35,551 in 30 s is impossible: reset, +15
            r("2026-03-02 08:00:00", "L1.FILLER.Total", 1_015),  # +1,000
            r("2026-03-02 08:00:00", "L1.FILLER.Reject", 30),  # +20
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    events = silver(
        plant,
        "silver__count_increments",
        "select strftime(ts, '%H:%M:%S'), kind, increment, event from t where kind = 'total' order by ts",
    )
    assert events == [
        ("05:05:00", "total", 500.0, "count"),
        ("05:06:00", "total", 56.0, "rollover"),
        ("06:00:00", "total", 2_980.0, "count"),
        ("06:00:30", "total", 15.0, "reset"),
        ("07:00:00", "total", 1_000.0, "count"),
    ]
    row = plant.oee("2026-03-02")
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (4_551, 20, 4_531)


def test_bad_quality_and_unmapped_codes_count_as_unknown_stops_never_as_running(plant_factory):
    plant = plant_factory(one_machine_config())  # early shift 06:00-14:00
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 08:00:00", "L1.FILLER.State", None, quality=1),  # bad: 08:00-09:00 unknown
            r("2026-03-02 09:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 10:00:00", "L1.FILLER.State", 99),  # not in the map: 10:00-10:30 unknown
            r("2026-03-02 10:30:00", "L1.FILLER.State", 1),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    unknown = silver(
        plant,
        "silver__machine_states",
        "select strftime(start, '%H:%M'), category, reason, state_code from t where reason = 'unknown' order by start",
    )
    assert unknown == [("07:00", "unplanned_stop", "unknown", None), ("09:00", "unplanned_stop", "unknown", "99")]
    row = plant.oee("2026-03-02")
    assert (row["unplanned_stop_time_s"], row["run_time_s"]) == (5_400, 23_400)


def test_a_day_with_no_data_at_all_is_all_unknown(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export("h.csv", [r("2026-03-20 05:00:00", "L1.FILLER.State", 1)])
    plant.land()
    plant.build_day("2026-03-02")
    row = plant.oee("2026-03-02")
    assert (row["planned_production_time_s"], row["unplanned_stop_time_s"], row["run_time_s"]) == (28_800, 28_800, 0)
    assert row["availability"] == 0.0
    # OEE = fully productive 0 / planned 28,800 = 0; it was NULL (A x P x Q with P undefined), one rule for a
    # machine row and another for its line's (issue #13). The day's data_quality_ok says it rests on no data.
    assert row["performance"] is None and row["quality"] is None and row["oee"] == 0.0
    assert row["data_quality_ok"] is False
    assert row["data_quality_reason"].startswith("no valid machine state for 480.0 min")
