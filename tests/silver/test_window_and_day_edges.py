"""Hand-computed cases at the edges: counter readings on window edges, DST nights, long stops, meters
across day edges, roll-ups of mixed counters, text state codes, 23 h days, coverage and month edges."""

from __future__ import annotations

import datetime as dt

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, THREE_SHIFTS, one_machine_config
from tests.helpers.tables import mart

# --- (2) counter readings exactly on a window edge -------------------------------------------------------


def test_a_reading_at_a_break_start_a_not_scheduled_start_and_the_shift_end_counts_in_the_window_it_closes(
    plant_factory,
):
    # early shift 06:00-14:00 with a break 10:00-10:30; the machine is not scheduled 12:00-13:00.
    config = one_machine_config(breaks=[{"name": "coffee", "start": "10:00", "end": "10:30"}])
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 12:00:00", "L1.FILLER.State", 4),
            r("2026-03-02 13:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 14:00:00", "L1.FILLER.State", 4),
            # a reading shows the pieces made since the reading before it
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 06:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 10:00:00", "L1.FILLER.Total", 3_600),  # made 06:00-10:00, read as the break starts
            r("2026-03-02 10:30:00", "L1.FILLER.Total", 3_600),
            r("2026-03-02 12:00:00", "L1.FILLER.Total", 9_000),  # made 10:30-12:00, read as not_scheduled starts
            r("2026-03-02 13:00:00", "L1.FILLER.Total", 9_000),
            r("2026-03-02 14:00:00", "L1.FILLER.Total", 12_600),  # made 13:00-14:00, read at the shift end
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    oee = plant.oee("2026-03-02")
    # planned = 480 - 30 (break) - 60 (not scheduled) = 390 min = 23,400 s, all running
    assert oee["planned_production_time_s"] == 23_400
    assert oee["run_time_s"] == 23_400
    # every piece was made inside planned production time: 3,600 + 5,400 + 3,600 = 12,600
    assert oee["total_count"] == 12_600
    assert round(oee["performance"], 6) == round(12_600 / 23_400, 6)


def test_a_reading_at_the_day_start_counts_once_in_the_night_shift_it_closes(plant_factory):
    # day_start 06:00; early 06-14 and night 22-06 every day.
    shifts = [THREE_SHIFTS[0], THREE_SHIFTS[2]]
    plant = plant_factory(one_machine_config(shifts=shifts, working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-03 05:00:00", "L1.FILLER.Total", 1_000),
            r("2026-03-03 06:00:00", "L1.FILLER.Total", 4_600),  # 3,600 made 05:00-06:00, in the night shift
            r("2026-03-03 07:00:00", "L1.FILLER.Total", 8_200),  # 3,600 made 06:00-07:00, in the early shift
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    totals = mart(plant, "select cast(day as varchar), total_count from oee_daily order by day")
    # 2 Mar: 1,000 (early shift reading of 05:00 3 Mar is in the night shift) + 3,600 read at 06:00
    assert totals == [("2026-03-02", 4_600), ("2026-03-03", 3_600)]
    night = mart(
        plant, "select total_count from oee_shift where shift_name = 'night' and day = ?", [dt.date(2026, 3, 2)]
    )
    assert night == [(4_600,)]


# --- (1) DST nights with day_start 06:00 -------------------------------------------------------------------


def test_the_fall_back_night_shift_is_nine_hours_and_counts_both_passes_of_the_repeated_hour(plant_factory):
    plant = plant_factory(one_machine_config(shifts=THREE_SHIFTS, working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-10-24 05:00:00", "L1.FILLER.State", 1),
            r("2026-10-24 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-10-24 22:00:00", "L1.FILLER.Total", 0),
            r("2026-10-25 02:30:00", "L1.FILLER.Total", 1_000),  # first pass (CEST)
            r("2026-10-25 02:30:00", "L1.FILLER.Total", 2_000),  # second pass (CET)
            r("2026-10-25 05:30:00", "L1.FILLER.Total", 3_000),
        ],
    )
    plant.land()
    plant.build_day("2026-10-24")
    day = plant.oee("2026-10-24")
    # Saturday 06:00 CEST to Sunday 06:00 CET: 25 h, all of it in shifts
    assert (day["calendar_time_s"], day["scheduled_time_s"], day["run_time_s"]) == (90_000, 90_000, 90_000)
    assert day["total_count"] == 3_000
    night = mart(
        plant,
        "select calendar_time_s, scheduled_time_s, planned_production_time_s, run_time_s, total_count, "
        "strftime(shift_start, '%Y-%m-%d %H:%M'), strftime(shift_end, '%Y-%m-%d %H:%M') "
        "from oee_shift where shift_name = 'night' and day = ?",
        [dt.date(2026, 10, 24)],
    )
    # 22:00 CEST = 20:00 UTC to 06:00 CET = 05:00 UTC: 9 h
    assert night == [(32_400, 32_400, 32_400, 32_400, 3_000, "2026-10-24 20:00", "2026-10-25 05:00")]


def test_the_spring_forward_night_shift_is_seven_hours_and_the_day_twenty_three(plant_factory):
    plant = plant_factory(one_machine_config(shifts=THREE_SHIFTS, working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-28 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-28 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-28 22:00:00", "L1.FILLER.Total", 0),
            r("2026-03-29 05:00:00", "L1.FILLER.Total", 7_000),
        ],
    )
    plant.land()
    plant.build_day("2026-03-28")
    day = plant.oee("2026-03-28")
    assert (day["calendar_time_s"], day["scheduled_time_s"], day["utilization"]) == (82_800, 82_800, 1.0)
    night = mart(
        plant,
        "select calendar_time_s, scheduled_time_s, run_time_s, total_count from oee_shift "
        "where shift_name = 'night' and day = ?",
        [dt.date(2026, 3, 28)],
    )
    # 22:00 CET = 21:00 UTC to 06:00 CEST = 04:00 UTC: 7 h
    assert night == [(25_200, 25_200, 25_200, 7_000)]


def test_utilization_and_teep_on_a_twenty_three_hour_day(plant_factory):
    # early shift only, Saturday 28 March 2026 (the spring-forward day) is a working day
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-28 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-28 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-28 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-28 14:00:00", "L1.FILLER.Total", 14_400),  # 14,400 pieces at 1 s in 28,800 s
        ],
    )
    plant.land()
    plant.build_day("2026-03-28")
    day = plant.oee("2026-03-28")
    # utilization = 28,800 / 82,800; oee = 1 x 0.5 x 1 = 0.5; teep = 0.5 x 28,800 / 82,800
    assert round(day["utilization"], 6) == round(28_800 / 82_800, 6)
    assert round(day["teep"], 6) == round(0.5 * 28_800 / 82_800, 6)


# --- (3) and (4) long stops, rebuild order --------------------------------------------------------------


def _long_stop_plant(plant_factory, lookback: int = 7):
    config = one_machine_config(working_days=EVERY_DAY)
    config["modelling"] = {"state_lookback_days": lookback}
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-01 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 10:00:00", "L1.FILLER.State", 3),  # a jam that lasts 50 h
            r("2026-03-04 12:00:00", "L1.FILLER.State", 1),
            r("2026-03-01 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-01 05:00:00", "L1.FILLER.Reject", 0),
        ],
    )
    plant.land()
    return plant


def _events(plant):
    return mart(
        plant,
        "select strftime(start, '%Y-%m-%d %H:%M'), strftime(\"end\", '%Y-%m-%d %H:%M'), duration_s, "
        "category, cast(day as varchar) from downtime_events order by start",
    )


def test_a_stop_longer_than_the_look_ahead_is_one_event_in_either_build_order(plant_factory):
    plant = _long_stop_plant(plant_factory)
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        plant.build_day(day)
    forward = _events(plant)
    # 10:00 CET 2 Mar = 09:00 UTC to 12:00 CET 4 Mar = 11:00 UTC: 50 h
    assert forward == [("2026-03-02 09:00", "2026-03-04 11:00", 180_000.0, "unplanned_stop", "2026-03-02")]
    for day in ("2026-03-04", "2026-03-03", "2026-03-02"):
        plant.build_day(day)
    assert _events(plant) == forward
    rel = mart(plant, "select cast(day as varchar), failures, failure_time_s from reliability_daily order by day")
    # the failure time is the jam's time in planned production time (issue 13; this test expected all 50 h):
    # shift 06:00-14:00 every day: 2 Mar 10:00-14:00 = 4 h, 3 Mar 8 h, 4 Mar 06:00-12:00 = 6 h: 18 h = 64,800 s
    assert rel == [("2026-03-02", 1, 64_800.0), ("2026-03-03", 0, 0.0), ("2026-03-04", 0, 0.0)]


# --- (5) energy -------------------------------------------------------------------------------------------


def test_meter_reset_and_wrap_around_the_day_edge_add_up_to_the_meters_increment(plant_factory):
    config = one_machine_config(working_days=EVERY_DAY)
    config["lines"][0]["machines"][0]["energy_rollover"] = 10_000
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 06:00:00", "L1.FILLER.kWh", 9_900),
            r("2026-03-03 05:00:00", "L1.FILLER.kWh", 9_980),  # +80 on 2 Mar (the day runs 06:00-06:00)
            r("2026-03-03 07:00:00", "L1.FILLER.kWh", 20),  # wrap: +40 over 05:00-07:00, half each day
            r("2026-03-03 12:00:00", "L1.FILLER.kWh", None, quality=1),  # a bad reading is skipped
            r("2026-03-04 05:00:00", "L1.FILLER.kWh", 120),  # +100 on 3 Mar
            r("2026-03-04 07:00:00", "L1.FILLER.kWh", 30),  # reset to 0 then +30: 05:00-07:00, half each day
            r("2026-03-05 05:00:00", "L1.FILLER.kWh", 130),  # +100 on 4 Mar
        ],
    )
    plant.land()
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        plant.build_day(day)
    rows = mart(
        plant, "select cast(day as varchar), round(kwh_total, 6) from energy_daily where level = 'machine' order by day"
    )
    # 2 Mar: 80 + 20 (half the wrap) = 100; 3 Mar: 20 + 100 + 15 (half the reset) = 135; 4 Mar: 15 + 100 = 115
    assert rows == [("2026-03-02", 100.0), ("2026-03-03", 135.0), ("2026-03-04", 115.0)]


def test_interval_energy_labelled_at_its_end_is_split_at_the_day_edge(plant_factory):
    config = one_machine_config(working_days=EVERY_DAY)
    machine = config["lines"][0]["machines"][0]
    machine.pop("energy_kwh_tag")
    machine.update(energy_interval_kwh_tag="L1.FILLER.kWh15", energy_interval_s=900, energy_interval_label="end")
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 06:10:00", "L1.FILLER.kWh15", 9),  # 05:55-06:10: 3 on 1 Mar, 6 on 2 Mar
            r("2026-03-03 06:05:00", "L1.FILLER.kWh15", 3),  # 05:50-06:05: 2 on 2 Mar, 1 on 3 Mar
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    rows = mart(plant, "select round(kwh_total, 6) from energy_daily where level = 'machine'")
    assert rows == [(8.0,)]


def test_a_bad_power_reading_leaves_its_span_out_and_the_rest_integrated(plant_factory):
    config = one_machine_config(working_days=EVERY_DAY)
    machine = config["lines"][0]["machines"][0]
    machine.pop("energy_kwh_tag")
    machine["power_kw_tag"] = "L1.FILLER.kW"
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 06:00:00", "L1.FILLER.kW", 10),
            r("2026-03-02 08:00:00", "L1.FILLER.kW", None, quality=1),
            r("2026-03-02 09:00:00", "L1.FILLER.kW", 20),
            r("2026-03-02 10:00:00", "L1.FILLER.kW", 0),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    rows = mart(plant, "select round(kwh_total, 6) from energy_daily where level = 'machine'")
    # 10 kW for 2 h + 20 kW for 1 h = 40 kWh; 08:00-09:00 has no valid reading
    assert rows == [(40.0,)]


# --- (6) line roll-up of mixed counters, (7) text state codes -------------------------------------------


def test_a_line_of_a_good_reject_machine_and_a_total_good_machine(plant_factory):
    config = one_machine_config(shifts=[{"name": "early", "start": "06:00", "end": "11:00"}], working_days=["mon"])
    base = config["lines"][0]["machines"][0]
    a = dict(base, name="A", ideal_cycle_time_s=60.0, state_tag="L1.A.State")
    a.pop("energy_kwh_tag")
    a.pop("total_count_tag")
    a.update(good_count_tag="L1.A.Good", reject_count_tag="L1.A.Reject")
    b = dict(base, name="B", ideal_cycle_time_s=60.0, state_tag="L1.B.State")
    b.pop("energy_kwh_tag")
    b.pop("reject_count_tag")
    b.update(total_count_tag="L1.B.Total", good_count_tag="L1.B.Good")
    config["lines"][0]["machines"] = [a, b]
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", "L1.A.State", 1),
            r("2026-03-02 05:00:00", "L1.B.State", 1),
            r("2026-03-02 05:00:00", "L1.A.Good", 0),
            r("2026-03-02 05:00:00", "L1.A.Reject", 0),
            r("2026-03-02 05:00:00", "L1.B.Total", 0),
            r("2026-03-02 05:00:00", "L1.B.Good", 0),
            r("2026-03-02 10:00:00", "L1.A.Good", 200),
            r("2026-03-02 10:00:00", "L1.A.Reject", 40),
            r("2026-03-02 10:00:00", "L1.B.Total", 150),
            r("2026-03-02 10:00:00", "L1.B.Good", 135),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    machines = mart(plant, "select machine, total_count, good_count, reject_count from oee_daily order by machine")
    assert machines == [("A", 240, 200, 40), ("B", 150, 135, 15)]
    line = mart(plant, "select output_total_count, output_good_count, output_reject_count, oee from oee_line_daily")
    # the line's counts are its output machine's (its last, B: 150, 135, 15); this test expected the sums over
    # the machines (390, 335, 55), which count nothing the line made (issue #13)
    # good x ideal / planned = (200 + 135) x 60 / (2 x 18,000)
    assert line[0][:3] == (150, 135, 15)
    assert round(line[0][3], 6) == round(335 * 60 / 36_000, 6)


def text_row(local: str, tag: str, text: str) -> str:
    # a string tag: empty Value, the text in vValue
    return f"{local}.000,{tag},,{text},0,192,192,Delta\n"


def test_a_text_state_code_mapped_in_the_plant_yaml(plant_factory):
    config = one_machine_config()
    config["lines"][0]["machines"][0]["states"] = {
        "Running": "running",
        "Jammed": {"category": "unplanned_stop", "reason": "Jam"},
    }
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            text_row("2026-03-02 05:00:00", "L1.FILLER.State", "Running"),
            text_row("2026-03-02 10:00:00", "L1.FILLER.State", "Jammed"),
            text_row("2026-03-02 11:00:00", "L1.FILLER.State", "Running"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    oee = plant.oee("2026-03-02")
    assert (oee["run_time_s"], oee["unplanned_stop_time_s"], oee["unknown_state_time_s"]) == (25_200, 3_600, 0)


# --- (10) reliability across a month edge ---------------------------------------------


def test_reliability_monthly_across_a_month_edge(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-30 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-31 07:00:00", "L1.FILLER.State", 3),  # 10 min jam on 31 Mar
            r("2026-03-31 07:10:00", "L1.FILLER.State", 1),
            r("2026-04-01 05:50:00", "L1.FILLER.State", 3),  # 20 min jam across the day and month edge:
            r("2026-04-01 06:10:00", "L1.FILLER.State", 1),  # production day 31 Mar
            r("2026-04-01 08:00:00", "L1.FILLER.State", 3),  # 30 min jam on 1 Apr
            r("2026-04-01 08:30:00", "L1.FILLER.State", 1),
            r("2026-03-30 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-30 05:00:00", "L1.FILLER.Reject", 0),
        ],
    )
    plant.land()
    plant.build_day("2026-03-31")
    plant.build_day("2026-04-01")
    rows = mart(
        plant, "select cast(month as varchar), failures, failure_time_s, run_time_s from reliability_monthly order by 1"
    )
    # March: run 8 h - 10 min (shift 06-14, 31 Mar) = 28,200 s; 2 failures, 600 + 600 s: the jam across the
    #        day edge fails only in the shift, 06:00-06:10; its 05:50-06:00 lies outside shifts (issue 13;
    #        this test expected its whole 1,200 s)
    # April: shift 06-14 on 1 Apr: 06:00-06:10 still jammed (part of March's failure) and 30 min: 28,800 - 600
    #        - 1,800 = 26,400 s run; 1 failure of 1,800 s
    assert rows == [("2026-03-01", 2, 1_200.0, 28_200.0), ("2026-04-01", 1, 1_800.0, 26_400.0)]
