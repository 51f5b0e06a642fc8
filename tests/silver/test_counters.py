"""Counters end to end (AVEVA CSV -> bronze -> silver -> marts): jitter is not a reset, real resets and
wraps still count, bad readings are flagged and never fail the day, across the day's edge too.

Every test: one machine (FILLER, ideal cycle 1.0 s, Europe/Berlin = UTC+1 in March), early shift
06:00-14:00, production day from 06:00. The machine is in changeover (a planned stop) except 09:00-10:00,
when it runs: planned production time 28,800 s, run time 3,600 s, availability 3,600 / 28,800 = 0.125.
Readings come at most 25 min apart while it runs, so no "silent counter" flag muddles the reasons.
"""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa
import pytest

from assets.plant.config import parse_plant_config
from assets.silver.counts import model_count_increments
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import mart, silver

TOTAL, REJECT = "L1.FILLER.Total", "L1.FILLER.Reject"


def approx(value: float) -> object:
    """A ratio derived by hand to 7 decimals."""
    return pytest.approx(value, abs=5e-8)


def states(date: str) -> list[str]:
    return [
        r(f"{date} 05:00:00", "L1.FILLER.State", 2),  # changeover
        r(f"{date} 09:00:00", "L1.FILLER.State", 1),  # running 09:00-10:00
        r(f"{date} 10:00:00", "L1.FILLER.State", 2),
    ]


def events(plant, tag: str = TOTAL) -> list[tuple]:
    return silver(
        plant,
        "silver__count_increments",
        f"select strftime(ts + interval 1 hour, '%H:%M'), increment, event from t where tag = '{tag}' order by ts",
    )


def counter_quality(plant, day: str) -> list[tuple]:
    return mart(
        plant,
        "select tag, counter_resets, counter_wraps, counter_backsteps, bad_counter_readings "
        "from data_quality_daily where day = ?::date order by tag",
        [day],
    )


def assert_all_checks_passed(result) -> None:
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []


def test_jitter_of_one_count_is_not_a_reset(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export(
        "h.csv",
        [
            *states("2026-03-02"),
            r("2026-03-02 05:59:00", TOTAL, 16_680),  # before the day: the baseline
            r("2026-03-02 05:59:00", REJECT, 0),
            r("2026-03-02 09:20:00", TOTAL, 18_180),  # +1,500
            r("2026-03-02 09:40:00", TOTAL, 19_680),  # +1,500
            r("2026-03-02 09:41:00", TOTAL, 19_688),  # +8
            r("2026-03-02 09:42:00", TOTAL, 19_687),  # 1 below the high: jitter, +0 (today: a reset, +19,687)
            r("2026-03-02 09:43:00", TOTAL, 19_690),  # +2: from the high 19,688, not from 19,687
            r("2026-03-02 10:00:00", TOTAL, 19_980),  # +290
            r("2026-03-02 10:00:00", REJECT, 33),
        ],
    )
    plant.land()
    assert_all_checks_passed(plant.build_day("2026-03-02"))
    assert events(plant) == [
        ("09:20", 1_500.0, "count"),
        ("09:40", 1_500.0, "count"),
        ("09:41", 8.0, "count"),
        ("09:42", 0.0, "backstep"),
        ("09:43", 2.0, "count"),
        ("10:00", 290.0, "count"),
    ]
    row = plant.oee("2026-03-02")
    # total = 19,980 - 16,680 = 3,300 (the counter never really went back); good = 3,300 - 33 = 3,267
    # performance = 3,300 / 3,600 = 0.916667; quality = 3,267 / 3,300 = 0.99
    # oee = 0.125 x 0.916667 x 0.99 = 3,267 / 28,800 = 0.1134375 (today: 22,988 counted, performance 6.39)
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (3_300, 33, 3_267)
    assert (row["planned_production_time_s"], row["run_time_s"]) == (28_800, 3_600)
    assert row["performance"] == approx(0.9166667)
    assert row["quality"] == approx(0.99)
    assert row["oee"] == approx(0.1134375)
    assert (row["data_quality_ok"], row["data_quality_reason"]) == (True, None)
    # resets, wraps, back-steps, bad readings on the counter tags' rows; NULL on the state and energy tags'
    assert counter_quality(plant, "2026-03-02") == [
        ("L1.FILLER.Reject", 0, 0, 0, 0),
        ("L1.FILLER.State", None, None, None, None),
        ("L1.FILLER.Total", 0, 0, 1, 0),
        ("L1.FILLER.kWh", None, None, None, None),
    ]


def test_the_high_before_the_day_carries_across_the_days_edge(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export(
        "h.csv",
        [
            *states("2026-03-03"),
            # Monday's production day (the look-back of Tuesday 3 March, which starts at 06:00)
            r("2026-03-03 05:30:00", TOTAL, 19_680),
            r("2026-03-03 05:59:00", TOTAL, 19_688),  # the high when the day begins
            r("2026-03-03 05:30:00", REJECT, 500),  # the high when the day begins ...
            r("2026-03-03 05:59:00", REJECT, 499),  # ... though the last reading before it dipped to 499
            # the day
            r("2026-03-03 09:20:00", TOTAL, 19_687),  # jitter below 19,688: +0 (today: a reset, +19,687)
            r("2026-03-03 09:40:00", TOTAL, 19_688),  # back at the high: +0
            r("2026-03-03 09:50:00", TOTAL, 19_689),  # passes it: +1
            r("2026-03-03 10:00:00", TOTAL, 22_689),  # +3,000
            r("2026-03-03 09:20:00", REJECT, 500),  # back at the high: +0 (measured from 499: +1)
            r("2026-03-03 10:00:00", REJECT, 530),  # +30
        ],
    )
    plant.land()
    assert_all_checks_passed(plant.build_day("2026-03-03"))
    assert events(plant) == [
        ("09:20", 0.0, "backstep"),
        ("09:40", 0.0, "count"),
        ("09:50", 1.0, "count"),
        ("10:00", 3_000.0, "count"),
    ]
    assert events(plant, REJECT) == [("09:20", 0.0, "count"), ("10:00", 30.0, "count")]
    row = plant.oee("2026-03-03")
    # total = 22,689 - 19,688 = 3,001; rejects = 530 - 500 = 30; good = 2,971
    # performance = 3,001 / 3,600 = 0.8336111; quality = 2,971 / 3,001 = 0.9900033; oee = 2,971 / 28,800 = 0.1031597
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (3_001, 30, 2_971)
    assert row["performance"] == approx(0.8336111)
    assert row["quality"] == approx(0.9900033)
    assert row["oee"] == approx(0.1031597)
    assert row["data_quality_ok"] is True


def test_a_wrap_and_real_resets_still_count_and_two_resets_flag_the_day(plant_factory):
    # rollover 65,536; ideal cycle 1 s, so a wrap may imply at most 2 units/s since the reading before
    plant = plant_factory(one_machine_config(rollover=65_536))
    plant.export(
        "h.csv",
        [
            *states("2026-03-02"),
            r("2026-03-02 05:59:00", TOTAL, 64_000),
            r("2026-03-02 05:59:00", REJECT, 0),
            r("2026-03-02 09:20:00", TOTAL, 65_200),  # +1,200
            r("2026-03-02 09:40:00", TOTAL, 864),  # wrap: 65,536 - 65,200 + 864 = 1,200 in 1,200 s (<= 2,401)
            r("2026-03-02 09:45:00", TOTAL, 5),  # 859 below the high: a wrap would be 64,677 in 300 s: reset, +5
            r("2026-03-02 09:46:00", TOTAL, 1),  # 4 below the high 5: jitter, +0
            r("2026-03-02 09:50:00", TOTAL, 300),  # +295 from the high 5
            r("2026-03-02 09:55:00", TOTAL, 2),  # 298 below: a reset again, +2
            r("2026-03-02 10:00:00", TOTAL, 700),  # +698
            r("2026-03-02 10:00:00", REJECT, 34),
        ],
    )
    plant.land()
    assert_all_checks_passed(plant.build_day("2026-03-02"))
    assert events(plant) == [
        ("09:20", 1_200.0, "count"),
        ("09:40", 1_200.0, "rollover"),
        ("09:45", 5.0, "reset"),
        ("09:46", 0.0, "backstep"),
        ("09:50", 295.0, "count"),
        ("09:55", 2.0, "reset"),
        ("10:00", 698.0, "count"),
    ]
    row = plant.oee("2026-03-02")
    # total = 1,200 + 1,200 + 5 + 295 + 2 + 698 = 3,400; good = 3,400 - 34 = 3,366
    # performance = 3,400 / 3,600 = 0.9444444; quality = 3,366 / 3,400 = 0.99; oee = 3,366 / 28,800 = 0.116875
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (3_400, 34, 3_366)
    assert row["performance"] == approx(0.9444444)
    assert row["quality"] == approx(0.99)
    assert row["oee"] == approx(0.116875)
    assert (row["data_quality_ok"], row["data_quality_reason"]) == (False, "2 counter resets on L1.FILLER.Total")
    assert counter_quality(plant, "2026-03-02") == [
        ("L1.FILLER.Reject", 0, 0, 0, 0),
        ("L1.FILLER.State", None, None, None, None),
        ("L1.FILLER.Total", 2, 1, 1, 0),
        ("L1.FILLER.kWh", None, None, None, None),
    ]


def test_the_backstep_tolerance_is_set_per_machine(plant_factory):
    config = one_machine_config()
    config["lines"][0]["machines"][0]["counter_backstep_tolerance"] = 3
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            *states("2026-03-02"),
            r("2026-03-02 05:59:00", TOTAL, 1_000),
            r("2026-03-02 05:59:00", REJECT, 0),
            r("2026-03-02 09:20:00", TOTAL, 2_000),  # +1,000
            r("2026-03-02 09:30:00", TOTAL, 1_997),  # 3 below the high: jitter, +0
            r("2026-03-02 09:40:00", TOTAL, 1_996),  # 4 below the high: a reset, +1,996
            r("2026-03-02 10:00:00", TOTAL, 2_996),  # +1,000 from 1,996
            r("2026-03-02 10:00:00", REJECT, 10),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    assert events(plant) == [
        ("09:20", 1_000.0, "count"),
        ("09:30", 0.0, "backstep"),
        ("09:40", 1_996.0, "reset"),
        ("10:00", 1_000.0, "count"),
    ]
    # 1,000 + 1,996 + 1,000 = 3,996 in 3,600 s of running: performance 1.11, which the day must show
    row = plant.oee("2026-03-02")
    assert row["total_count"] == 3_996
    assert (row["data_quality_ok"], row["data_quality_reason"]) == (
        False,
        "performance 1.11 > 1: check ideal_cycle_time_s or the counters",
    )


def test_negative_and_fractional_readings_are_flagged_not_counted_and_the_day_publishes(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export(
        "h.csv",
        [
            *states("2026-03-02"),
            r("2026-03-02 05:59:00", TOTAL, 1_000),
            r("2026-03-02 05:59:00", REJECT, 0),
            r("2026-03-02 09:20:00", TOTAL, 2_000),  # +1,000
            r("2026-03-02 09:30:00", TOTAL, -5),  # bad (today: increment -5 fails the silver check and the day)
            r("2026-03-02 09:40:00", TOTAL, 12.5),  # bad (today: a reset, +12.5)
            r("2026-03-02 09:45:00", TOTAL, 2_600),  # +600 from 2,000
            r("2026-03-02 10:00:00", TOTAL, 3_200),  # +600
            r("2026-03-02 10:00:00", REJECT, 32),
        ],
    )
    plant.land()
    result = plant.build_day("2026-03-02")  # asserts the run succeeded: the marts were published
    assert_all_checks_passed(result)
    assert events(plant) == [
        ("09:20", 1_000.0, "count"),
        ("09:30", 0.0, "bad"),
        ("09:40", 0.0, "bad"),
        ("09:45", 600.0, "count"),
        ("10:00", 600.0, "count"),
    ]
    row = plant.oee("2026-03-02")
    # total = 3,200 - 1,000 = 2,200; good = 2,168; performance = 2,200 / 3,600 = 0.6111111;
    # quality = 2,168 / 2,200 = 0.9854545; oee = 2,168 / 28,800 = 0.0752778
    assert (row["total_count"], row["reject_count"], row["good_count"]) == (2_200, 32, 2_168)
    assert row["performance"] == approx(0.6111111)
    assert row["quality"] == approx(0.9854545)
    assert row["oee"] == approx(0.0752778)
    assert (row["data_quality_ok"], row["data_quality_reason"]) == (
        False,
        "2 counter readings negative or fractional, not counted",
    )
    assert counter_quality(plant, "2026-03-02") == [
        ("L1.FILLER.Reject", 0, 0, 0, 0),
        ("L1.FILLER.State", None, None, None, None),
        ("L1.FILLER.Total", 0, 0, 0, 2),
        ("L1.FILLER.kWh", None, None, None, None),
    ]


def _reference_increments(readings, tolerance, rollover, max_rate, day_start, day_end):
    """The counter rule in plain Python, reading by reading from the first reading of the look-back:
    (time, increment, event) of the readings in (day_start, day_end]."""
    out, high, prev_ts = [], None, None
    for ts, value in readings:
        if ts > day_end:
            break
        if value < 0 or value != int(value):
            if ts > day_start:
                out.append((ts, 0.0, "bad"))
            continue
        if high is None:
            high, prev_ts = value, ts
            continue
        if value >= high:
            event, increment, new_high = "count", value - high, value
        elif high - value <= tolerance:
            event, increment, new_high = "backstep", 0, high
        else:
            wrapped = value + rollover - high if rollover else None
            if rollover is None or high >= rollover or value >= rollover:
                event = "reset"
            elif wrapped <= max_rate * (ts - prev_ts).total_seconds() + 1:
                event = "rollover"
            else:
                event = "reset"
            increment, new_high = (wrapped if event == "rollover" else value), value
        if ts > day_start:
            out.append((ts, float(increment), event))
        high, prev_ts = new_high, ts
    return out


def test_increments_match_the_rule_applied_reading_by_reading_on_random_counters():
    # Random counters that count, jitter, creep back one small step at a time, reset, wrap and send bad
    # values, over a look-back and the day; the silver model must give what the rule gives when applied
    # reading by reading from the look-back's first reading (plain Python above).
    rng = random.Random(13)
    day_start = dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)
    day_end = day_start + dt.timedelta(days=1)
    for case in range(150):
        tolerance = rng.choice([0, 1, 3, 10])
        rollover = rng.choice([None, 200, 1_000])
        raw = one_machine_config(rollover=rollover)
        raw["lines"][0]["machines"][0]["counter_backstep_tolerance"] = tolerance
        config = parse_plant_config(raw)
        minutes = sorted(rng.sample(range(-3_000, 1_500), rng.randint(1, 40)))
        value, readings = rng.randint(0, 150), []
        for minute in minutes:
            ts = day_start + dt.timedelta(minutes=minute)
            draw = rng.random()
            if draw < 0.05:
                readings.append((ts, -3.0))
                continue
            if draw < 0.08:
                readings.append((ts, value + 0.5))
                continue
            if draw < 0.5:
                value += rng.randint(0, 30)
            elif draw < 0.85:
                value -= rng.randint(0, tolerance + 2)
            else:
                value = rng.randint(0, 5)
            value = max(value, 0) % (rollover or 10**9)
            readings.append((ts, float(value)))
        points = pa.table(
            {
                "tag": [TOTAL] * len(readings),
                "ts": pa.array([t for t, _ in readings], pa.timestamp("us", tz="UTC")),
                "value": pa.array([v for _, v in readings], pa.float64()),
                "value_text": pa.array([None] * len(readings), pa.string()),
                "quality": ["good"] * len(readings),
                "source": ["historian"] * len(readings),
            }
        )
        con = duckdb.connect()
        con.register("points", points)
        table = model_count_increments(con, config, day_start.date(), (day_start, day_end))
        got = [(row["ts"], row["increment"], row["event"]) for row in table.to_pylist()]
        # the ideal cycle time is 1 s: a wrap may imply at most 2 units per second
        expected = _reference_increments(readings, tolerance, rollover, 2.0, day_start, day_end)
        assert got == expected, (case, tolerance, rollover, readings)
