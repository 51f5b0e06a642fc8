"""Stops, failures and the Pareto count planned production time (issue 13, section 3), end to end:
an AVEVA CSV written here, landed, modelled, marts published, then queried.

Every second of a stop in downtime_events lies in exactly one of in_planned_time_s, in_breaks_s,
outside_shifts_s and not_modelled_yet_s; downtime_pareto and the reliability marts count only the first.
All times below are Europe/Berlin, CET (UTC+1) in March 2026; 2 March is a Monday.
"""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart

STATE, RUN, JAM = "L1.FILLER.State", 1, 3
SPLIT = (
    "select strftime(start, '%Y-%m-%d %H:%M'), duration_s, in_planned_time_s, in_breaks_s, outside_shifts_s, "
    "not_modelled_yet_s, category, reason, cast(day as varchar) from downtime_events order by start"
)
RELIABILITY = (
    "select cast(day as varchar), run_time_s, failures, failure_time_s, mtbf_s, mttr_s from reliability_daily "
    "order by day"
)
PARETO_DAY = (
    "select reason, seconds, events, share, cumulative_share, rank from downtime_pareto "
    "where period = 'day' and machine = 'FILLER' and period_start = ? order by rank"
)


def counters(local: str) -> list[str]:
    return [r(local, "L1.FILLER.Total", 0), r(local, "L1.FILLER.Reject", 0)]


def test_vornes_worked_example_a_jam_shown_through_every_break_is_one_failure(plant_factory):
    # Shift 06:00-14:00 with breaks 08:00-08:15, 10:00-10:30 and 12:00-12:15. The state shows a jam through
    # every break and from 11:00 to 11:47, and running otherwise.
    plant = plant_factory(
        one_machine_config(
            breaks=[
                {"name": "first", "start": "08:00", "end": "08:15"},
                {"name": "second", "start": "10:00", "end": "10:30"},
                {"name": "third", "start": "12:00", "end": "12:15"},
            ]
        )
    )
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", STATE, RUN),
            *[
                row
                for start, end in (("08:00", "08:15"), ("10:00", "10:30"), ("11:00", "11:47"), ("12:00", "12:15"))
                for row in (r(f"2026-03-02 {start}:00", STATE, JAM), r(f"2026-03-02 {end}:00", STATE, RUN))
            ],
            *counters("2026-03-02 05:00:00"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # Four jam events, each kept whole (UTC = CET - 1 h); the three in the breaks have no second in planned
    # production time: 15 min = 900 s, 30 min = 1,800 s, 15 min = 900 s in breaks; 11:00-11:47 = 2,820 s
    # lies wholly in planned time.
    assert mart(plant, SPLIT) == [
        ("2026-03-02 07:00", 900.0, 0.0, 900.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        ("2026-03-02 09:00", 1_800.0, 0.0, 1_800.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        ("2026-03-02 10:00", 2_820.0, 2_820.0, 0.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        ("2026-03-02 11:00", 900.0, 0.0, 900.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
    ]
    # planned production time = 8 h - (15 + 30 + 15) min = 28,800 - 3,600 = 25,200 s; run = 25,200 - 2,820
    # = 22,380 s. 1 failure (not 4) of 2,820 s: MTBF = 22,380 / 1 = 22,380 s, MTTR = 2,820 / 1 = 2,820 s.
    row = plant.oee("2026-03-02")
    assert (row["planned_production_time_s"], row["run_time_s"], row["unplanned_stop_time_s"]) == (
        25_200,
        22_380,
        2_820,
    )
    assert mart(plant, RELIABILITY) == [("2026-03-02", 22_380.0, 1, 2_820.0, 22_380.0, 2_820.0)]
    # the Pareto holds the one jam with time in planned production time: 2,820 s, 1 event, all the share
    assert mart(plant, PARETO_DAY, ["2026-03-02"]) == [("Jam", 2_820.0, 1, 1.0, 1.0, 1)]


def test_a_jam_across_a_break_is_one_failure_and_stops_outside_shifts_are_none(plant_factory):
    # Shift 06:00-14:00 with a break 09:00-09:30; production days start at 06:00.
    plant = plant_factory(one_machine_config(breaks=[{"name": "breakfast", "start": "09:00", "end": "09:30"}]))
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", STATE, RUN),
            r("2026-03-02 08:50:00", STATE, JAM),  # a jam that starts before the break and ends after it
            r("2026-03-02 09:40:00", STATE, RUN),
            r("2026-03-02 15:00:00", STATE, JAM),  # a jam wholly after the shift
            r("2026-03-02 16:00:00", STATE, RUN),
            r("2026-03-02 20:00:00", STATE, RUN, quality=1),  # no valid state through the night
            r("2026-03-03 05:30:00", STATE, RUN),
            *counters("2026-03-02 05:00:00"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    assert mart(plant, SPLIT) == [
        # 08:50-09:40 = 3,000 s: 08:50-09:00 and 09:30-09:40 in planned time (600 + 600 = 1,200 s), the
        # break's 1,800 s in breaks
        ("2026-03-02 07:50", 3_000.0, 1_200.0, 1_800.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        # 15:00-16:00 = 3,600 s, all after the shift
        ("2026-03-02 14:00", 3_600.0, 0.0, 0.0, 3_600.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        # 20:00 to 05:30 the next morning = 9.5 h = 34,200 s without a state, all outside shifts, still in
        # production day 2 March (which ends at 06:00 on 3 March)
        ("2026-03-02 19:00", 34_200.0, 0.0, 0.0, 34_200.0, 0.0, "unplanned_stop", "unknown", "2026-03-02"),
    ]
    # planned = 8 h - 30 min = 27,000 s; run = 27,000 - 1,200 = 25,800 s. One failure of 1,200 s (the jam
    # after the shift is none): MTBF = 25,800 s, MTTR = 1,200 s.
    assert mart(plant, RELIABILITY) == [("2026-03-02", 25_800.0, 1, 1_200.0, 25_800.0, 1_200.0)]
    # Only the 1,200 s in planned time make the Pareto: the night without a state (34,200 s) is not its top
    # "unknown" stop, and the jam after the shift is no stop of it.
    assert mart(plant, PARETO_DAY, ["2026-03-02"]) == [("Jam", 1_200.0, 1, 1.0, 1.0, 1)]


def test_a_night_shift_across_midnight_and_the_month_adds_up_its_days(plant_factory):
    # Only a night shift, 22:00-06:00 Monday to Friday (a shift runs on the date it starts), with a break
    # 00:00-00:30; production days run from midnight to midnight, so the shift crosses a day edge.
    plant = plant_factory(
        one_machine_config(
            shifts=[{"name": "night", "start": "22:00", "end": "06:00"}],
            breaks=[{"name": "midnight", "start": "00:00", "end": "00:30"}],
            day_start="00:00",
        )
    )
    plant.export(
        "h.csv",
        [
            r("2026-03-01 23:00:00", STATE, RUN),
            r("2026-03-02 23:40:00", STATE, JAM),  # across midnight and the break
            r("2026-03-03 00:50:00", STATE, RUN),
            r("2026-03-03 05:50:00", STATE, JAM),  # across the end of the shift
            r("2026-03-03 06:20:00", STATE, RUN),
            r("2026-03-04 00:00:00", STATE, RUN),
            *counters("2026-03-01 23:00:00"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    assert mart(plant, SPLIT) == [
        # 23:40-00:50 = 70 min = 4,200 s, one event of production day 2 March: 23:40-00:00 and 00:30-00:50
        # in planned time (1,200 + 1,200 = 2,400 s), 00:00-00:30 in the break (1,800 s)
        ("2026-03-02 22:40", 4_200.0, 2_400.0, 1_800.0, 0.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
        # 05:50-06:20 = 1,800 s: 600 s before the shift ends, 1,200 s after it
        ("2026-03-03 04:50", 1_800.0, 600.0, 0.0, 1_200.0, 0.0, "unplanned_stop", "Jam", "2026-03-03"),
    ]
    # 2 Mar: planned = Monday's night 22:00-24:00 = 7,200 s, jammed 23:40-24:00 = 1,200 s: run 6,000 s; the
    #        jam that starts there fails for 2,400 s (both of its parts, counted on the day it starts).
    # 3 Mar: planned = 00:00-06:00 less the break = 19,800 s, plus Tuesday's night 22:00-24:00 = 7,200 s:
    #        27,000 s; jammed 00:30-00:50 and 05:50-06:00 = 1,800 s: run 25,200 s; one failure of 600 s.
    assert mart(plant, RELIABILITY) == [
        ("2026-03-02", 6_000.0, 1, 2_400.0, 6_000.0, 2_400.0),
        ("2026-03-03", 25_200.0, 1, 600.0, 25_200.0, 600.0),
    ]
    # March = the two days: run 31,200 s, 2 failures, 3,000 s: MTBF 15,600 s, MTTR 1,500 s
    assert mart(
        plant,
        "select cast(month as varchar), days, run_time_s, failures, failure_time_s, mtbf_s, mttr_s "
        "from reliability_monthly",
    ) == [("2026-03-01", 2, 31_200.0, 2, 3_000.0, 15_600.0, 1_500.0)]
    # the week's line Pareto: the two jams' 2,400 + 600 = 3,000 s
    assert mart(
        plant,
        "select reason, seconds, events from downtime_pareto where period = 'week' and machine is null",
    ) == [("Jam", 3_000.0, 2)]


def test_a_stop_whose_end_lies_in_a_day_not_modelled_yet_is_split_when_that_day_is(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))  # shift 06:00-14:00 every day
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", STATE, RUN),
            r("2026-03-02 13:00:00", STATE, JAM),  # until 07:00 the next day: 18 h = 64,800 s
            r("2026-03-03 07:00:00", STATE, RUN),
            *counters("2026-03-02 05:00:00"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # 2 March's look-ahead sees the end, but 3 March has no calendar yet: 13:00-14:00 in planned time
    # (3,600 s), 14:00-06:00 outside shifts (57,600 s), 06:00-07:00 on 3 March not modelled yet (3,600 s)
    assert mart(plant, SPLIT) == [
        ("2026-03-02 12:00", 64_800.0, 3_600.0, 0.0, 57_600.0, 3_600.0, "unplanned_stop", "Jam", "2026-03-02"),
    ]
    assert mart(plant, "select failures, failure_time_s from reliability_daily") == [(1, 3_600.0)]
    plant.build_day("2026-03-03")
    # 3 March's shift holds the last hour: 3,600 + 3,600 = 7,200 s in planned time
    assert mart(plant, SPLIT) == [
        ("2026-03-02 12:00", 64_800.0, 7_200.0, 0.0, 57_600.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
    ]
    assert mart(plant, "select cast(day as varchar), failures, failure_time_s from reliability_daily order by day") == [
        ("2026-03-02", 1, 7_200.0),
        ("2026-03-03", 0, 0.0),
    ]


def test_a_stop_of_six_days_counts_its_planned_time_on_days_no_rebuild_reads(plant_factory):
    # Built day by day, 7 March is published with 6 March and 2 March (where the open stop began), so silver
    # is read for 1-3 and 5-8 March: 4 March, in the middle of the stop, is read by none of them.
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))  # shift 06:00-14:00 every day
    plant.export(
        "h.csv",
        [
            r("2026-03-01 05:00:00", STATE, RUN),
            r("2026-03-02 10:00:00", STATE, JAM),
            r("2026-03-07 12:00:00", STATE, RUN),
            *counters("2026-03-01 05:00:00"),
        ],
    )
    plant.land()
    for day in range(2, 8):
        plant.build_day(f"2026-03-{day:02d}")
    # 2 Mar 10:00 to 7 Mar 12:00 = 5 days + 2 h = 122 h = 439,200 s. In the shift: 2 Mar 10:00-14:00 = 4 h,
    # 3-6 Mar 4 x 8 h = 32 h, 7 Mar 06:00-12:00 = 6 h: 42 h = 151,200 s; the other 80 h = 288,000 s outside.
    assert mart(plant, SPLIT) == [
        ("2026-03-02 09:00", 439_200.0, 151_200.0, 0.0, 288_000.0, 0.0, "unplanned_stop", "Jam", "2026-03-02"),
    ]
    assert mart(plant, "select failures, failure_time_s from reliability_daily where failures > 0") == [(1, 151_200.0)]
