"""A stop already under way before the look-back window: not a new failure on a later day."""

from __future__ import annotations

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart


def test_a_stop_that_began_before_the_look_back_is_not_a_new_failure_on_a_later_day(plant_factory):
    # look back one day only; the historian repeats the state every 6 h while the jam lasts
    config = one_machine_config(working_days=EVERY_DAY)
    config["modelling"] = {"state_lookback_days": 1}
    plant = plant_factory(config)
    repeats = [r(f"2026-02-{d:02d} {h:02d}:00:00", "L1.FILLER.State", 3) for d in (27, 28) for h in (4, 10, 16, 22)]
    repeats += [r(f"2026-03-{d:02d} {h:02d}:00:00", "L1.FILLER.State", 3) for d in (1, 2) for h in (4, 10, 16, 22)]
    plant.export(
        "h.csv",
        [
            r("2026-02-27 03:00:00", "L1.FILLER.State", 1),
            *repeats,  # the jam starts 27 Feb 04:00
            r("2026-03-03 12:00:00", "L1.FILLER.State", 1),
            r("2026-02-27 03:00:00", "L1.FILLER.Total", 0),
            r("2026-02-27 03:00:00", "L1.FILLER.Reject", 0),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    # the jam began before anything these days can see: no failure starts on 2 or 3 March
    rel = mart(plant, "select cast(day as varchar), failures from reliability_daily order by day")
    assert rel == [("2026-03-02", 0), ("2026-03-03", 0)]
    events = mart(plant, "select count(*) from downtime_events")
    assert events == [(0,)]
    # ...but the jam is stop time: the whole 06:00-14:00 shift on 2 March (8 h = 28,800 s), and 06:00 to
    # the restart at 12:00 on 3 March (6 h = 21,600 s)
    assert plant.oee("2026-03-02")["unplanned_stop_time_s"] == 28_800
    assert plant.oee("2026-03-03")["unplanned_stop_time_s"] == 21_600


def test_a_stop_of_three_days_keeps_its_whole_length_on_the_day_it_began(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))
    plant.export(
        "h.csv",
        [
            r("2026-03-01 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 10:00:00", "L1.FILLER.State", 3),  # a breakdown of 74 h
            r("2026-03-05 12:00:00", "L1.FILLER.State", 1),
            r("2026-03-01 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-01 05:00:00", "L1.FILLER.Reject", 0),
        ],
    )
    plant.land()
    for day in ("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"):
        plant.build_day(day)
    events = mart(
        plant,
        "select strftime(start, '%Y-%m-%d %H:%M'), strftime(\"end\", '%Y-%m-%d %H:%M'), duration_s, "
        "cast(day as varchar) from downtime_events",
    )
    # 10:00 CET 2 Mar = 09:00 UTC to 12:00 CET 5 Mar = 11:00 UTC: 74 h
    assert events == [("2026-03-02 09:00", "2026-03-05 11:00", 266_400.0, "2026-03-02")]
    # Its failure time is its time in planned production time alone (issue 13; this test expected all 74 h,
    # nights included): shift 06:00-14:00 every day, no breaks: 2 Mar 10:00-14:00 = 4 h, 3 and 4 Mar 8 h
    # each, 5 Mar 06:00-12:00 = 6 h: 26 h = 93,600 s. The rest, 48 h = 172,800 s, lies outside shifts.
    assert mart(plant, "select mttr_s from reliability_daily where failures > 0") == [(93_600.0,)]
    assert mart(
        plant, "select in_planned_time_s, in_breaks_s, outside_shifts_s, not_modelled_yet_s from downtime_events"
    ) == [(93_600.0, 0.0, 172_800.0, 0.0)]
