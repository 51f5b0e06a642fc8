"""Tests of the production calendar. Every expected number is derived by hand in a comment.

Dates used: 2026-03-02 is a Monday. Europe/Berlin changes to CEST on Sunday 2026-03-29 at 02:00 CET
(01:00 UTC; the clock jumps to 03:00) and back to CET on Sunday 2026-10-25 at 03:00 CEST (01:00 UTC; the
clock goes back to 02:00). Before 03-29 and from 10-25 on, Berlin is UTC+1; in between UTC+2.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from assets.plant.calendar import (
    CALENDAR_SCHEMA,
    CalendarWindow,
    calendar_table,
    calendar_windows,
    local_to_utc,
    production_day_of,
    production_day_window,
    production_days_between,
)
from assets.plant.config import PlantConfig, parse_plant_config

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
D = dt.date
HOUR = 3600

THREE_SHIFTS = [
    {"name": "early", "start": "06:00", "end": "14:00"},
    {"name": "late", "start": "14:00", "end": "22:00"},
    {"name": "night", "start": "22:00", "end": "06:00"},
]
DEMO_BREAKS = [
    {"name": "early_break", "start": "10:00", "end": "10:30"},
    {"name": "late_break", "start": "18:00", "end": "18:30"},
    {"name": "night_break", "start": "02:00", "end": "02:30"},
]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def make_config(
    day_start: str = "06:00",
    shifts: list | None = None,
    breaks: list | None = None,
    working_days: list | None = None,
    timezone: str = "Europe/Berlin",
) -> PlantConfig:
    """A minimal valid plant whose calendar is what the test needs; the rest is filler."""
    return parse_plant_config(
        {
            "plant": {"site": "Test", "timezone": timezone},
            "calendar": {
                "day_start": day_start,
                "working_days": working_days or WEEKDAYS,
                "shifts": shifts or THREE_SHIFTS,
                "breaks": DEMO_BREAKS if breaks is None else breaks,
            },
            "sources": [{"name": "historian", "format": "aveva_historian_csv", "folder": "historian"}],
            "lines": [
                {
                    "name": "L1",
                    "area": "A",
                    "machines": [
                        {
                            "name": "M1",
                            "ideal_cycle_time_s": 1.0,
                            "state_tag": "L1.M1.State",
                            "states": {1: "running"},
                            "total_count_tag": "L1.M1.Total",
                            "good_count_tag": "L1.M1.Good",
                        }
                    ],
                }
            ],
        }
    )


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def seconds(windows: list[CalendarWindow], kind: str, **match) -> float:
    """Total seconds of the rows of one kind (optionally filtered by attribute values)."""
    return sum(w.duration_s for w in windows if w.kind == kind and all(getattr(w, k) == v for k, v in match.items()))


def rows(windows: list[CalendarWindow], kind: str) -> list[CalendarWindow]:
    return [w for w in windows if w.kind == kind]


# --- wall clock -> UTC ---------------------------------------------------------------------------------


def test_local_to_utc_ambiguous_takes_first_and_gap_takes_end_of_gap():
    # 02:30 on 2026-03-29 does not exist in Berlin: the clock jumps 02:00 CET -> 03:00 CEST = 01:00 UTC.
    assert local_to_utc(BERLIN, D(2026, 3, 29), dt.time(2, 30)) == utc(2026, 3, 29, 1, 0)
    assert local_to_utc(BERLIN, D(2026, 3, 29), dt.time(2, 0)) == utc(2026, 3, 29, 1, 0)
    # 03:00 CEST exists and is the same instant as the end of the gap.
    assert local_to_utc(BERLIN, D(2026, 3, 29), dt.time(3, 0)) == utc(2026, 3, 29, 1, 0)
    # 02:30 on 2026-10-25 happens twice; the first is 02:30 CEST = 00:30 UTC (the second is 01:30 UTC).
    assert local_to_utc(BERLIN, D(2026, 10, 25), dt.time(2, 30)) == utc(2026, 10, 25, 0, 30)
    # New York skips 02:00-03:00 on 2026-03-08: 02:15 -> 03:00 EDT = 07:00 UTC.
    assert local_to_utc(ZoneInfo("America/New_York"), D(2026, 3, 8), dt.time(2, 15)) == utc(2026, 3, 8, 7, 0)
    # Lord Howe shifts by only 30 min: 02:00 -> 02:30 (+10:30 -> +11:00) on 2026-10-04; 02:10 -> 15:30 UTC.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    assert local_to_utc(lord_howe, D(2026, 10, 4), dt.time(2, 10)) == utc(2026, 10, 3, 15, 30)
    result = local_to_utc(BERLIN, D(2026, 3, 2), dt.time(6, 0))
    assert result == utc(2026, 3, 2, 5, 0) and result.tzinfo is UTC


# --- demo-like plant: day_start 06:00, three shifts, Mon-Fri -------------------------------------------


def test_demo_monday_is_fully_scheduled():
    cfg = make_config()
    w = calendar_windows(cfg, D(2026, 3, 2))
    # Day: Mon 06:00 CET (05:00 UTC) -> Tue 06:00 CET (05:00 UTC) = 86400 s.
    assert rows(w, "day") == [CalendarWindow(D(2026, 3, 2), "day", None, None, utc(2026, 3, 2, 5), utc(2026, 3, 3, 5))]
    # early 8 h + late 8 h + night (Mon 22:00 -> Tue 06:00) 8 h = 24 h = 86400 s; Sunday's night does not
    # run (Sunday is not a working day) and would lie in Sunday's production day anyway.
    assert seconds(w, "shift") == 86400
    assert [r.shift_name for r in rows(w, "shift")] == ["early", "late", "night"]
    # Breaks 3 x 30 min = 5400 s; planned = 86400 - 5400 = 81000 s.
    assert seconds(w, "break") == 5400
    assert seconds(w, "planned") == 81000
    night = rows(w, "shift")[2]
    assert (night.start, night.end) == (utc(2026, 3, 2, 21), utc(2026, 3, 3, 5))
    assert (night.shift_start, night.shift_end) == (night.start, night.end)
    # The night break (Tue 02:00 CET = 01:00 UTC) belongs to Monday's night shift.
    (night_break,) = [r for r in rows(w, "break") if r.name == "night_break"]
    assert (night_break.shift_name, night_break.start, night_break.end) == (
        "night",
        utc(2026, 3, 3, 1),
        utc(2026, 3, 3, 1, 30),
    )
    # Planned for early: 06:00-10:00 and 10:30-14:00 CET -> 05:00-09:00 and 09:30-13:00 UTC.
    assert [(r.start, r.end) for r in rows(w, "planned") if r.shift_name == "early"] == [
        (utc(2026, 3, 2, 5), utc(2026, 3, 2, 9)),
        (utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 13)),
    ]


def test_demo_saturday_has_no_shift_and_friday_keeps_its_night():
    cfg = make_config()
    # Saturday's production day starts Sat 06:00, exactly when Friday's night shift ends: nothing overlaps.
    saturday = calendar_windows(cfg, D(2026, 3, 7))
    assert [r.kind for r in saturday] == ["day"]
    assert seconds(saturday, "shift") == 0
    # Friday: early + late + night (Fri 22:00 -> Sat 06:00 CET = Fri 21:00 -> Sat 05:00 UTC) = 86400 s.
    friday = calendar_windows(cfg, D(2026, 3, 6))
    assert seconds(friday, "shift") == 86400
    night = rows(friday, "shift")[-1]
    assert (night.shift_name, night.end) == ("night", utc(2026, 3, 7, 5))
    assert seconds(friday, "planned") == 81000


def test_week_totals_do_not_depend_on_day_start():
    # Mon..Fri, five days of 24 h shifts = 432000 s and 5 x 5400 = 27000 s of breaks, whichever
    # day_start cuts them. The days Sun 03-01 .. Sat 03-07 run from Sun day_start to the next Sun
    # day_start, which holds all of Mon 06:00 .. Sat 06:00 and no other shift time: the week before
    # ends with Friday's night at Sat 02-28 06:00, the week after starts Mon 03-09 06:00.
    week = [D(2026, 3, 1) + dt.timedelta(days=i) for i in range(7)]
    for day_start in ("00:00", "06:00", "13:37"):
        w = [r for day in week for r in calendar_windows(make_config(day_start=day_start), day)]
        assert seconds(w, "shift") == 432000, day_start
        assert seconds(w, "break") == 27000, day_start
        assert seconds(w, "planned") == 405000, day_start


# --- day_start 00:00: the night shift is split between two production days ------------------------------


def test_midnight_day_start_splits_the_night_shift():
    cfg = make_config(day_start="00:00")
    monday = calendar_windows(cfg, D(2026, 3, 2))
    # early 8 h + late 8 h + night 22:00-24:00 2 h = 18 h = 64800 s; Sunday's night did not run.
    assert seconds(monday, "shift") == 18 * HOUR
    assert seconds(monday, "shift", shift_name="night") == 2 * HOUR
    night = rows(monday, "shift")[-1]
    # Clipped to Tue 00:00 CET = Mon 23:00 UTC, the full occurrence still visible.
    assert (night.start, night.end) == (utc(2026, 3, 2, 21), utc(2026, 3, 2, 23))
    assert (night.shift_start, night.shift_end) == (utc(2026, 3, 2, 21), utc(2026, 3, 3, 5))
    # Monday's 02:00 break would belong to Sunday's night shift, which did not run: only 2 x 1800 s.
    assert seconds(monday, "break") == 3600
    assert seconds(monday, "planned") == 18 * HOUR - 3600

    tuesday = calendar_windows(cfg, D(2026, 3, 3))
    # 6 h of Monday's night + 18 h = 24 h; breaks: Monday night's 02:00 + early + late = 5400 s.
    assert seconds(tuesday, "shift") == 24 * HOUR
    night_rows = [r for r in rows(tuesday, "shift") if r.shift_name == "night"]
    assert [(r.start, r.end, r.shift_start) for r in night_rows] == [
        (utc(2026, 3, 2, 23), utc(2026, 3, 3, 5), utc(2026, 3, 2, 21)),  # Monday's, 00:00-06:00
        (utc(2026, 3, 3, 21), utc(2026, 3, 3, 23), utc(2026, 3, 3, 21)),  # Tuesday's, 22:00-24:00
    ]
    assert seconds(tuesday, "break") == 5400
    assert seconds(tuesday, "planned") == 24 * HOUR - 5400


def test_midnight_day_start_saturday_gets_the_tail_of_friday_night():
    cfg = make_config(day_start="00:00")
    saturday = calendar_windows(cfg, D(2026, 3, 7))
    # Friday's night shift: Sat 00:00-06:00 = 6 h; no Saturday shifts start.
    assert seconds(saturday, "shift") == 6 * HOUR
    (shift,) = rows(saturday, "shift")
    assert (shift.shift_name, shift.shift_start, shift.shift_end) == ("night", utc(2026, 3, 6, 21), utc(2026, 3, 7, 5))
    # Its 02:00-02:30 break lands on Saturday (01:00-01:30 UTC) and belongs to Friday's night shift.
    (brk,) = rows(saturday, "break")
    assert (brk.name, brk.shift_name, brk.start, brk.end, brk.shift_start) == (
        "night_break",
        "night",
        utc(2026, 3, 7, 1),
        utc(2026, 3, 7, 1, 30),
        utc(2026, 3, 6, 21),
    )
    assert seconds(saturday, "planned") == 6 * HOUR - 1800
    # Sunday: Saturday is not a working day, so nothing runs into Sunday.
    assert seconds(calendar_windows(cfg, D(2026, 3, 8)), "shift") == 0


# --- DST ---------------------------------------------------------------------------------------------------


def test_spring_forward_day_is_23_hours_and_night_shift_is_7_hours():
    cfg = make_config(day_start="00:00", working_days=ALL_DAYS)
    # 03-29 00:00 CET = 03-28 23:00 UTC -> 03-30 00:00 CEST = 03-29 22:00 UTC: 23 h = 82800 s.
    start, end = production_day_window(cfg, D(2026, 3, 29))
    assert (start, end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert (end - start).total_seconds() == 82800
    # The night shift from 03-28 22:00 CET (21:00 UTC) to 03-29 06:00 CEST (04:00 UTC) is 7 h:
    # 2 h (21:00-23:00 UTC) in day 03-28, 5 h (23:00-04:00 UTC) in day 03-29.
    sat = calendar_windows(cfg, D(2026, 3, 28))
    sun = calendar_windows(cfg, D(2026, 3, 29))
    sat_night = [r for r in rows(sat, "shift") if r.shift_start == utc(2026, 3, 28, 21)]
    sun_night = [r for r in rows(sun, "shift") if r.shift_start == utc(2026, 3, 28, 21)]
    assert [r.duration_s for r in sat_night] == [2 * HOUR]
    assert [r.duration_s for r in sun_night] == [5 * HOUR]
    assert sun_night[0].shift_end - sun_night[0].shift_start == dt.timedelta(hours=7)
    # Day 03-29 shifts: 5 h + early 8 h + late 8 h + night 22-24 2 h = 23 h: the whole (short) day.
    assert seconds(sun, "shift") == 82800
    # The 02:00-02:30 break never happens on 03-29 (both ends map to 01:00 UTC): no night break row.
    assert [r.name for r in rows(sun, "break")] == ["early_break", "late_break"]
    assert seconds(sun, "planned") == 82800 - 3600


def test_fall_back_day_is_25_hours_and_night_shift_is_9_hours():
    cfg = make_config(day_start="00:00", working_days=ALL_DAYS)
    # 10-25 00:00 CEST = 10-24 22:00 UTC -> 10-26 00:00 CET = 10-25 23:00 UTC: 25 h = 90000 s.
    start, end = production_day_window(cfg, D(2026, 10, 25))
    assert (start, end) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    sun = calendar_windows(cfg, D(2026, 10, 25))
    # Night 10-24 22:00 CEST (20:00 UTC) -> 10-25 06:00 CET (05:00 UTC) = 9 h; 7 h of it on 10-25.
    (night,) = [r for r in rows(sun, "shift") if r.shift_start == utc(2026, 10, 24, 20)]
    assert night.shift_end == utc(2026, 10, 25, 5)
    assert night.duration_s == 7 * HOUR
    assert (night.shift_end - night.shift_start).total_seconds() == 9 * HOUR
    # 7 + 8 + 8 + 2 = 25 h of shifts: the whole (long) day.
    assert seconds(sun, "shift") == 90000
    # The 02:00 break is in the repeated hour: first occurrence, 02:00-02:30 CEST = 00:00-00:30 UTC.
    (brk,) = [r for r in rows(sun, "break") if r.name == "night_break"]
    assert (brk.start, brk.end) == (utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30))
    assert seconds(sun, "planned") == 90000 - 5400


def test_dst_days_with_six_oclock_day_start():
    cfg = make_config(day_start="06:00", working_days=ALL_DAYS)
    # 03-28 06:00 CET (05:00 UTC) -> 03-29 06:00 CEST (04:00 UTC) = 23 h.
    assert production_day_window(cfg, D(2026, 3, 28)) == (utc(2026, 3, 28, 5), utc(2026, 3, 29, 4))
    # 10-24 06:00 CEST (04:00 UTC) -> 10-25 06:00 CET (05:00 UTC) = 25 h.
    assert production_day_window(cfg, D(2026, 10, 24)) == (utc(2026, 10, 24, 4), utc(2026, 10, 25, 5))
    # The DST Sundays themselves are ordinary 24 h days with this day_start.
    for day in (D(2026, 3, 29), D(2026, 10, 25)):
        start, end = production_day_window(cfg, day)
        assert (end - start).total_seconds() == 86400
    # The night shift lies wholly in the day it started in: 7 h on 03-28, 9 h on 10-24.
    assert seconds(calendar_windows(cfg, D(2026, 3, 28)), "shift") == 82800
    assert seconds(calendar_windows(cfg, D(2026, 10, 24)), "shift") == 90000


def test_day_start_inside_the_skipped_hour():
    cfg = make_config(day_start="02:30", working_days=ALL_DAYS)
    # 02:30 on 03-29 does not exist: day 03-29 starts when the gap ends, 03:00 CEST = 01:00 UTC.
    # 03-28: 02:30 CET (01:30 UTC) -> 01:00 UTC = 23.5 h; 03-29: 01:00 UTC -> 03-30 02:30 CEST (00:30 UTC)
    # = 23.5 h. Together 47 h, the 48 h of two days minus the skipped hour.
    assert production_day_window(cfg, D(2026, 3, 28)) == (utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1))
    assert production_day_window(cfg, D(2026, 3, 29)) == (utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30))


# --- production_day_of / production_days_between ----------------------------------------------------------


def test_production_day_of_at_the_day_start_boundary():
    cfg = make_config()  # day_start 06:00
    # Mon 03-02 06:00 CET = 05:00 UTC opens Monday; one second earlier is still Sunday's day.
    assert production_day_of(cfg, utc(2026, 3, 2, 5)) == D(2026, 3, 2)
    assert production_day_of(cfg, utc(2026, 3, 2, 4, 59, 59)) == D(2026, 3, 1)
    assert production_day_of(cfg, utc(2026, 3, 3, 4, 59, 59, 999999)) == D(2026, 3, 2)
    # Any timezone-aware input works: Tue 00:30 Berlin is still Monday's production day.
    assert production_day_of(cfg, dt.datetime(2026, 3, 3, 0, 30, tzinfo=BERLIN)) == D(2026, 3, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        production_day_of(cfg, dt.datetime(2026, 3, 2, 6))


def test_production_day_of_in_the_repeated_hour():
    cfg = make_config(day_start="00:00")
    # Both 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC) on 10-25 are in day 10-25,
    # which ends at 10-26 00:00 CET = 10-25 23:00 UTC.
    assert production_day_of(cfg, utc(2026, 10, 25, 0, 30)) == D(2026, 10, 25)
    assert production_day_of(cfg, utc(2026, 10, 25, 1, 30)) == D(2026, 10, 25)
    assert production_day_of(cfg, utc(2026, 10, 25, 22, 59, 59)) == D(2026, 10, 25)
    assert production_day_of(cfg, utc(2026, 10, 25, 23)) == D(2026, 10, 26)
    assert production_day_of(cfg, utc(2026, 10, 24, 21, 59, 59)) == D(2026, 10, 24)


def test_production_day_of_with_day_start_in_the_repeated_hour():
    cfg = make_config(day_start="02:30")
    # Day 10-25 starts at the first 02:30 (CEST) = 00:30 UTC. At 01:15 UTC the clock reads 02:15 CET,
    # earlier than 02:30, yet the instant is after the day started: it belongs to 10-25, not 10-24.
    assert production_day_of(cfg, utc(2026, 10, 25, 1, 15)) == D(2026, 10, 25)
    # 00:15 UTC = 02:15 CEST, the first pass through that reading, is still in 10-24.
    assert production_day_of(cfg, utc(2026, 10, 25, 0, 15)) == D(2026, 10, 24)
    # Day 10-25 runs 00:30 UTC -> 10-26 02:30 CET (01:30 UTC) = 25 h.
    start, end = production_day_window(cfg, D(2026, 10, 25))
    assert (end - start).total_seconds() == 90000


@pytest.mark.parametrize("day_start", ["00:00", "02:30", "06:00"])
def test_production_day_of_agrees_with_the_windows(day_start):
    # Every quarter hour across both DST weekends must fall in the window of the day it is assigned to.
    cfg = make_config(day_start=day_start)
    for first in (utc(2026, 3, 27), utc(2026, 10, 23)):
        for k in range(4 * 24 * 4):
            instant = first + dt.timedelta(minutes=15 * k)
            start, end = production_day_window(cfg, production_day_of(cfg, instant))
            assert start <= instant < end, instant


def test_production_days_between():
    cfg = make_config()  # day_start 06:00 = 05:00 UTC in March
    # Exactly Mon 06:00 -> Wed 06:00: the end instant opens Wednesday's day, which is included.
    assert production_days_between(cfg, utc(2026, 3, 2, 5), utc(2026, 3, 4, 5)) == [
        D(2026, 3, 2),
        D(2026, 3, 3),
        D(2026, 3, 4),
    ]
    # One second before Monday's start also touches Sunday's day; one second before Wed's start does not.
    assert production_days_between(cfg, utc(2026, 3, 2, 4, 59, 59), utc(2026, 3, 4, 4, 59, 59)) == [
        D(2026, 3, 1),
        D(2026, 3, 2),
        D(2026, 3, 3),
    ]
    # A single instant lies in one day.
    assert production_days_between(cfg, utc(2026, 3, 2, 12), utc(2026, 3, 2, 12)) == [D(2026, 3, 2)]
    # Across the fall-back weekend (day_start 06:00 = 04:00 UTC before, 05:00 UTC after).
    assert production_days_between(cfg, utc(2026, 10, 24, 4), utc(2026, 10, 25, 4, 59)) == [D(2026, 10, 24)]
    assert production_days_between(cfg, utc(2026, 10, 24, 4), utc(2026, 10, 25, 5)) == [
        D(2026, 10, 24),
        D(2026, 10, 25),
    ]
    with pytest.raises(ValueError, match="before start"):
        production_days_between(cfg, utc(2026, 3, 3), utc(2026, 3, 2))


# --- breaks crossing midnight, breaks at a shift start, overlapping breaks ----------------------------------


def test_break_crossing_midnight_inside_a_night_shift():
    night_only = [{"name": "night", "start": "22:00", "end": "06:00"}]
    midnight_break = [{"name": "midnight", "start": "23:45", "end": "00:15"}]

    cfg = make_config(day_start="06:00", shifts=night_only, breaks=midnight_break)
    monday = calendar_windows(cfg, D(2026, 3, 2))
    # The whole Mon 22:00 -> Tue 06:00 shift is in Monday's day; the break is one 30 min piece,
    # Mon 23:45 -> Tue 00:15 CET = 22:45 -> 23:15 UTC.
    (brk,) = rows(monday, "break")
    assert (brk.start, brk.end) == (utc(2026, 3, 2, 22, 45), utc(2026, 3, 2, 23, 15))
    # Planned: 22:00-23:45 (6300 s) and 00:15-06:00 (20700 s) = 27000 s.
    assert [r.duration_s for r in rows(monday, "planned")] == [6300, 20700]

    cfg = make_config(day_start="00:00", shifts=night_only, breaks=midnight_break)
    monday = calendar_windows(cfg, D(2026, 3, 2))
    # Monday: only Monday's night 22:00-24:00; its break piece 23:45-24:00 = 900 s. The break that
    # started Sunday 23:45 had no shift (Sunday not working), so 00:00-00:15 Monday is not a break.
    assert [(r.start, r.end) for r in rows(monday, "break")] == [(utc(2026, 3, 2, 22, 45), utc(2026, 3, 2, 23))]
    assert seconds(monday, "planned") == 7200 - 900
    tuesday = calendar_windows(cfg, D(2026, 3, 3))
    # Tuesday: Monday night's 00:00-00:15 and Tuesday night's 23:45-24:00, each 900 s, different shifts.
    assert [(r.start, r.end, r.shift_start) for r in rows(tuesday, "break")] == [
        (utc(2026, 3, 2, 23), utc(2026, 3, 2, 23, 15), utc(2026, 3, 2, 21)),
        (utc(2026, 3, 3, 22, 45), utc(2026, 3, 3, 23), utc(2026, 3, 3, 21)),
    ]
    # Shifts 6 h + 2 h = 28800 s, planned 28800 - 1800 = 27000 s.
    assert seconds(tuesday, "shift") == 28800
    assert seconds(tuesday, "planned") == 27000


def test_break_from_the_previous_date_into_a_shift_starting_at_midnight():
    cfg = make_config(
        day_start="00:00",
        shifts=[{"name": "a", "start": "00:00", "end": "08:00"}],
        breaks=[{"name": "midnight", "start": "23:45", "end": "00:15"}],
    )
    monday = calendar_windows(cfg, D(2026, 3, 2))
    # The break occurrence that starts Sunday 23:45 ends Monday 00:15, inside Monday's 00:00 shift.
    (brk,) = rows(monday, "break")
    assert (brk.start, brk.end, brk.shift_name) == (utc(2026, 3, 1, 23), utc(2026, 3, 1, 23, 15), "a")
    assert seconds(monday, "planned") == 8 * HOUR - 900


def test_overlapping_breaks_are_subtracted_once_from_planned_time():
    cfg = make_config(
        breaks=[
            {"name": "b1", "start": "10:00", "end": "10:30"},
            {"name": "b2", "start": "10:15", "end": "10:45"},
        ]
    )
    w = calendar_windows(cfg, D(2026, 3, 2))
    # Early shift 8 h minus the union 10:00-10:45 (45 min) = 7 h 15 min = 26100 s.
    assert seconds(w, "planned", shift_name="early") == 26100


def test_break_outside_any_shift_is_ignored():
    cfg = make_config(
        shifts=[{"name": "early", "start": "06:00", "end": "14:00"}],
        breaks=[{"name": "lunch", "start": "14:30", "end": "15:00"}],
    )
    w = calendar_windows(cfg, D(2026, 3, 2))
    assert rows(w, "break") == []
    assert seconds(w, "planned") == 8 * HOUR


# --- invariants over many days -----------------------------------------------------------------------------


@pytest.mark.parametrize("day_start", ["00:00", "03:00", "06:00", "22:30"])
def test_invariants_across_the_year(day_start):
    cfg = make_config(day_start=day_start)
    days = [D(2026, 3, 20) + dt.timedelta(days=i) for i in range(15)] + [
        D(2026, 10, 18) + dt.timedelta(days=i) for i in range(15)
    ]
    for day in days:
        w = calendar_windows(cfg, day)
        (day_row,) = rows(w, "day")
        # Days tile time: each day ends where the next begins.
        assert day_row.end == production_day_window(cfg, day + dt.timedelta(days=1))[0]
        for r in w:
            assert r.start.tzinfo is UTC and r.end.tzinfo is UTC
            assert day_row.start <= r.start < r.end <= day_row.end
            if r.kind != "day":
                assert r.shift_start <= r.start and r.end <= r.shift_end
        # Per shift occurrence: shift time = break time + planned time (breaks here do not overlap).
        for s in rows(w, "shift"):
            part = dict(shift_name=s.shift_name, shift_start=s.shift_start)
            assert seconds(w, "break", **part) + seconds(w, "planned", **part) == s.duration_s
        # The sort order: kinds in order, then start.
        keys = [(["day", "shift", "break", "planned"].index(r.kind), r.start) for r in w]
        assert keys == sorted(keys)
    # Every shift occurrence is counted exactly once in full across consecutive days.
    march = [r for day in days[1:14] for r in calendar_windows(cfg, day) if r.kind == "shift"]
    by_occurrence: dict = {}
    for r in march:
        by_occurrence.setdefault((r.shift_name, r.shift_start, r.shift_end), 0)
        by_occurrence[(r.shift_name, r.shift_start, r.shift_end)] += r.duration_s
    first_day_start = production_day_window(cfg, days[1])[0]
    last_day_end = production_day_window(cfg, days[13])[1]
    for (_, start, end), total in by_occurrence.items():
        if first_day_start <= start and end <= last_day_end:
            assert total == (end - start).total_seconds()


def test_rejects_a_datetime_as_day():
    with pytest.raises(TypeError):
        calendar_windows(make_config(), dt.datetime(2026, 3, 2, 12))


# --- calendar_table ----------------------------------------------------------------------------------------


def test_calendar_table_schema_and_sums():
    cfg = make_config()
    week = [D(2026, 3, 2) + dt.timedelta(days=i) for i in range(7)]  # Mon..Sun
    table = calendar_table(cfg, week + [D(2026, 3, 2)])  # a repeated day must not double-count
    assert table.schema == CALENDAR_SCHEMA
    assert table.schema.field("start").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("day").type == pa.date32()
    assert not table.schema.field("duration_s").nullable
    assert table.num_rows == sum(len(calendar_windows(cfg, day)) for day in week)

    def total(kind: str) -> float:
        kinds, durations = table["kind"].to_pylist(), table["duration_s"].to_pylist()
        return sum(d for k, d in zip(kinds, durations, strict=True) if k == kind)

    # 7 days: Mon-Fri 86400 s each, Sat 86400 s, Sun 86400 s (no DST in this week) = 604800 s.
    assert total("day") == 7 * 86400
    # Mon-Fri fully scheduled = 432000 s; breaks 5 x 5400 = 27000 s; planned 405000 s.
    assert total("shift") == 432000
    assert total("break") == 27000
    assert total("planned") == 405000
    first = table.slice(0, 1).to_pylist()[0]
    assert first["day"] == D(2026, 3, 2) and first["kind"] == "day"
    assert first["start"] == utc(2026, 3, 2, 5) and first["shift_start"] is None
    assert table["day"].to_pylist() == sorted(table["day"].to_pylist())


def test_calendar_table_of_no_days_is_empty_with_the_schema():
    table = calendar_table(make_config(), [])
    assert table.num_rows == 0 and table.schema == CALENDAR_SCHEMA


# --- a 24-hour shift ---------------------------------------------------------------------------------------


def test_a_shift_that_ends_when_it_starts_is_one_whole_day():
    cfg = make_config(
        day_start="06:00",
        shifts=[{"name": "continuous", "start": "06:00", "end": "06:00"}],
        breaks=[{"name": "lunch", "start": "12:00", "end": "12:30"}],
        working_days=ALL_DAYS,
    )
    # Mon 03-02 06:00 CET (05:00 UTC) -> Tue 03-03 06:00 CET (05:00 UTC): one shift of 24 h = 86400 s,
    # the whole production day, with one 30 min break: planned 86400 - 1800 = 84600 s.
    monday = calendar_windows(cfg, D(2026, 3, 2))
    (shift,) = rows(monday, "shift")
    assert (shift.start, shift.end) == (utc(2026, 3, 2, 5), utc(2026, 3, 3, 5))
    assert seconds(monday, "break") == 1800
    assert seconds(monday, "planned") == 84600
    # Across the spring change the shift is the day's 23 h of wall clock: 03-28 06:00 CET (05:00 UTC) to
    # 03-29 06:00 CEST (04:00 UTC) = 82800 s; across the fall change 10-24 06:00 CEST (04:00 UTC) to
    # 10-25 06:00 CET (05:00 UTC) = 90000 s. Each equals its production day.
    assert seconds(calendar_windows(cfg, D(2026, 3, 28)), "shift") == 82800
    assert seconds(calendar_windows(cfg, D(2026, 10, 24)), "shift") == 90000


def test_a_24_hour_shift_with_midnight_day_start_splits_over_two_days():
    cfg = make_config(
        day_start="00:00",
        shifts=[{"name": "continuous", "start": "06:00", "end": "06:00"}],
        breaks=[],
        working_days=["mon"],
    )
    # Only Monday's shift runs: Mon 06:00 -> Tue 06:00. Day Mon holds 18 h of it, day Tue 6 h, day Wed none.
    assert seconds(calendar_windows(cfg, D(2026, 3, 2)), "shift") == 18 * HOUR
    assert seconds(calendar_windows(cfg, D(2026, 3, 3)), "shift") == 6 * HOUR
    assert seconds(calendar_windows(cfg, D(2026, 3, 4)), "shift") == 0


def test_a_24_hour_shift_overlaps_any_other_shift():
    with pytest.raises(Exception, match="shifts 'continuous' and 'early' overlap"):
        make_config(
            shifts=[
                {"name": "continuous", "start": "06:00", "end": "06:00"},
                {"name": "early", "start": "06:00", "end": "14:00"},
            ]
        )
