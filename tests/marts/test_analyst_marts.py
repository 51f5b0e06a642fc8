"""The marts an analyst expects beside the daily ones: the plant's dimensions (dim_machine, dim_shift),
OEE per ISO week and calendar month at every level, sensor_hourly on the plant's clock, whole counts as
BIGINT, and oee_shift's data-quality flag.

End to end: AVEVA exports written here, landed, modelled and published by the real assets; the expected
numbers are derived by hand in the comments beside them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assets.marts.registry import all_marts
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, THREE_SHIFTS, one_machine_config
from tests.helpers.tables import mart

BREAKS = [{"name": "lunch", "start": "11:30", "end": "12:00"}, {"name": "night", "start": "02:00", "end": "02:15"}]


def plant_config() -> dict:
    """L1: FILLER (ideal 1.0 s, the conftest machine) then PACKER (ideal 3.0 s; the line's last machine, so
    its output machine); three shifts around the clock on every day, a 30 min break in the early shift and
    a 15 min one in the night shift; production days start at 06:00 (Europe/Berlin)."""
    config = one_machine_config(shifts=THREE_SHIFTS, breaks=BREAKS, working_days=EVERY_DAY)
    packer = {
        "name": "PACKER",
        "ideal_cycle_time_s": 3.0,
        "state_tag": "L1.PACKER.State",
        "states": {1: "running"},
        "total_count_tag": "L1.PACKER.Total",
        "reject_count_tag": "L1.PACKER.Reject",
        "microstop_threshold_s": 60,
    }
    config["lines"][0]["machines"].append(packer)
    # a sensor value holds up to 2 h: the hours around the clock change all have one, however the
    # export's repeated local hour is read
    config["modelling"] = {"sensor_max_gap_s": 7200}
    return config


DAYS = ["2026-03-02", "2026-03-03", "2026-03-09"]  # Mon and Tue of ISO week 10, Mon of week 11


def rows() -> list[str]:
    out = []
    for day in DAYS:
        for machine in ("FILLER", "PACKER"):
            # running from 05:00 (the production day before) through the whole production day
            out.append(r(f"{day} 05:00:00", f"L1.{machine}.State", 1))
    # counters read at 05:59 (the day before's production day) and at 11:00 (early shift, before lunch).
    # FILLER Total 0 -> 1000 (Mon) -> 3000 (Tue) -> 3600 (next Mon): 1000, 2000, 600 counted;
    # FILLER Reject 0 -> 10 -> 30 -> 36: 10, 20, 6.
    # PACKER Total 0 -> 100 -> 300 -> 360: 100, 200, 60; PACKER Reject stays 0.
    out += [
        r("2026-03-02 05:59:00", "L1.FILLER.Total", 0),
        r("2026-03-02 05:59:00", "L1.FILLER.Reject", 0),
        r("2026-03-02 05:59:00", "L1.PACKER.Total", 0),
        r("2026-03-02 05:59:00", "L1.PACKER.Reject", 0),
    ]
    readings = (("2026-03-02", 1000, 10, 100), ("2026-03-03", 3000, 30, 300), ("2026-03-09", 3600, 36, 360))
    for day, filler, reject, packer in readings:
        out += [
            r(f"{day} 11:00:00", "L1.FILLER.Total", filler),
            r(f"{day} 11:00:00", "L1.FILLER.Reject", reject),
            r(f"{day} 11:00:00", "L1.PACKER.Total", packer),
            r(f"{day} 11:00:00", "L1.PACKER.Reject", 0),
        ]
    # a condition-monitoring tag (no machine uses it) through the night the clocks go back: Sunday 25 Oct
    # 2026, 03:00 CEST becomes 02:00 CET. Readings every 30 min from 00:30 to 03:30 CET (local, as exported).
    for local in ("00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30"):
        out.append(r(f"2026-10-25 {local}:00", "L1.FILLER.Temp", 40))
    return out


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    from tests.helpers.lakehouse import Plant

    built = Plant(tmp_path_factory.mktemp("analyst"), plant_config())
    built.export("h.csv", rows())
    built.land()
    for day in [*DAYS, "2026-10-24"]:
        built.build_day(day)
    return built


# Per production day and machine (no DST in March): planned production = 24 h less the breaks = 86,400 -
# 1,800 - 900 = 83,700 s; running all of it: run 83,700 s.
PLANNED = 83_700.0


def test_weekly_and_monthly_oee_sum_the_days_and_recompute_the_ratios(plant):
    week10, week11 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
    got = {
        (row[0], row[1]): row[2:]
        for row in mart(
            plant,
            "select machine, week, iso_week, days, planned_production_time_s, run_time_s, total_count, good_count, "
            "reject_count, ideal_time_s, fully_productive_time_s, availability, performance, quality, oee "
            "from oee_weekly",
        )
    }
    # FILLER, week 10: Mon + Tue. total 1000 + 2000 = 3000, reject 30, good 2970; ideal 1.0 s:
    # ideal time 3000 s, fully productive 2970 s; planned = run = 2 x 83,700 = 167,400 s.
    assert got[("FILLER", week10)] == (
        "2026-W10", 2, 2 * PLANNED, 2 * PLANNED, 3000, 2970, 30, 3000.0, 2970.0,
        1.0, 3000 / (2 * PLANNED), 2970 / 3000, 2970 / (2 * PLANNED),
    )  # fmt: skip
    # PACKER, week 11: next Monday alone: 60 packs, none rejected; ideal 3 x 60 = 180 s.
    assert got[("PACKER", week11)] == (
        "2026-W11", 1, PLANNED, PLANNED, 60, 60, 0, 180.0, 180.0, 1.0, 180 / PLANNED, 1.0, 180 / PLANNED,
    )  # fmt: skip

    # the line's week 10: times summed over both machines and both days; output = PACKER (its last machine):
    # 100 + 200 = 300 packs. Ideal 3000 (FILLER) + 3 x 300 (PACKER) = 3900 s; fully productive 2970 + 900 = 3870 s.
    ((planned, ideal, fp, out_total, out_good, quality, oee),) = mart(
        plant,
        "select planned_production_time_s, ideal_time_s, fully_productive_time_s, output_total_count, "
        "output_good_count, quality, oee from oee_line_weekly where line = 'L1' and week = ?",
        [week10],
    )
    assert (planned, ideal, fp, out_total, out_good) == (4 * PLANNED, 3900.0, 3870.0, 300, 300)
    assert quality == pytest.approx(3870 / 3900, abs=1e-12)
    assert oee == pytest.approx(3870 / (4 * PLANNED), abs=1e-12)

    # March: all three days. FILLER 3600 bottles, 36 rejected; the site's output = the line's: 360 packs.
    assert mart(plant, "select days, total_count, reject_count from oee_monthly where machine = 'FILLER' "
                "and month = date '2026-03-01'") == [(3, 3600, 36)]  # fmt: skip
    assert mart(plant, "select days, output_total_count, planned_production_time_s from oee_site_monthly "
                "where month = date '2026-03-01'") == [(3, 360, 6 * PLANNED)]  # fmt: skip


@pytest.mark.parametrize(
    ("weekly", "daily", "key", "times"),
    [
        ("oee_weekly", "oee_daily", "line, machine",
         "planned_production_time_s, run_time_s, unknown_state_time_s, ideal_time_s, total_count, good_count"),
        ("oee_line_weekly", "oee_line_daily", "line",
         "machine_calendar_time_s, planned_production_time_s, run_time_s, ideal_time_s, output_good_count"),
        ("oee_site_monthly", "oee_site_daily", "site",
         "machine_calendar_time_s, planned_production_time_s, run_time_s, fully_productive_time_s, output_good_count"),
    ],
)  # fmt: skip
def test_a_period_row_is_the_sum_of_its_daily_rows(plant, weekly, daily, key, times):
    # the roll-up property, on every row (the October day included, with its 25-hour day and unknown states)
    period = "week" if "week" in weekly else "month"
    summed = ", ".join(f"sum({t})" for t in times.split(", "))
    expected = mart(
        plant,
        f"select {key}, cast(date_trunc('{period}', day) as date), {summed} from {daily} group by all order by all",
    )
    got = mart(plant, f"select {key}, {period}, {times} from {weekly} order by all")
    assert len(got) >= 2 and got == expected


def test_dim_machine_and_dim_shift_are_the_plant_yaml(plant):
    config = plant_config()
    # one row per machine of the YAML: FILLER (ideal 1 s, default microstop 120 s) and PACKER (3 s, 60 s),
    # both with total and reject counters; the line's output machine is its last, PACKER; no targets set.
    expected = [
        ("Hamburg", "Bottling", "L1", m["name"], m["ideal_cycle_time_s"], float(m.get("microstop_threshold_s", 120)),
         True, False, True, m["name"] == "PACKER", "PACKER", None, None, None, None, None)
        for m in config["lines"][0]["machines"]
    ]  # fmt: skip
    assert mart(plant, "select * from dim_machine order by machine") == expected
    # early 06:00-14:00 holds lunch 11:30-12:00 (1,800 s); late none; night 22:00-06:00 the 02:00-02:15 break
    week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert mart(plant, "select * from dim_shift order by shift_order") == [
        ("Hamburg", "early", 1, "06:00", "14:00", 28_800.0, 1, 1_800.0, 27_000.0, week, "Europe/Berlin"),
        ("Hamburg", "late", 2, "14:00", "22:00", 28_800.0, 0, 0.0, 28_800.0, week, "Europe/Berlin"),
        ("Hamburg", "night", 3, "22:00", "06:00", 28_800.0, 1, 900.0, 27_900.0, week, "Europe/Berlin"),
    ]


def test_sensor_hourly_shows_the_plant_hour_on_the_night_the_clocks_go_back(plant):
    # Production day 24 Oct runs 06:00 CEST (04:00 UTC) on the 24th to 06:00 CET (05:00 UTC) on the 25th.
    # Local 00:30 CEST = 22:30 UTC is the first reading, 03:30 CET = 02:30 UTC the last, and a value holds
    # up to 2 h, so every UTC hour from 22:00 to 04:00 has a row. UTC hour -> plant hour (CEST is UTC+2
    # until 01:00 UTC, CET UTC+1 from then):
    #   22:00 -> 00:00+02:00, 23:00 -> 01:00+02:00, 00:00 -> 02:00+02:00, 01:00 -> 02:00+01:00,
    #   02:00 -> 03:00+01:00, 03:00 -> 04:00+01:00, 04:00 -> 05:00+01:00.
    got = mart(
        plant,
        "select strftime(hour, '%H:%M'), hour_local from sensor_hourly where tag = 'L1.FILLER.Temp' order by hour",
    )
    expected = {
        "22:00": "2026-10-25 00:00+02:00",
        "23:00": "2026-10-25 01:00+02:00",
        "00:00": "2026-10-25 02:00+02:00",
        "01:00": "2026-10-25 02:00+01:00",
        "02:00": "2026-10-25 03:00+01:00",
        "03:00": "2026-10-25 04:00+01:00",
        "04:00": "2026-10-25 05:00+01:00",
    }
    assert got == list(expected.items())  # both 02:00 local hours are there, told apart by their offsets


def test_whole_counts_are_bigint_in_every_mart(plant):
    counts = []
    for m in all_marts():
        for column, kind, *_ in mart(plant, f"describe {m.name}"):
            # a target count is a fraction of units (the hour's planned seconds / the ideal cycle): no whole count
            whole = column.endswith("_count") and column != "target_count"
            if whole or column in ("days", "machines", "poor_data_days", "breaks"):
                counts.append((m.name, column, kind))
    assert len(counts) > 30
    assert [c for c in counts if c[2] != "BIGINT"] == []


def test_oee_shift_carries_the_data_quality_flag_of_its_day(plant):
    # the October day has no machine state at all: every shift of it rests on poor data, as its day does
    rows = mart(
        plant,
        "select s.data_quality_ok, s.data_quality_reason = d.data_quality_reason from oee_shift as s "
        "join oee_daily as d using (line, machine, day) where day = date '2026-10-24'",
    )
    assert len(rows) == 6 and all(ok is False and same for ok, same in rows)
    # in March the counters are read once a day while the machines run around the clock: each day, and so
    # each of its shifts, is flagged for the silent counter
    reasons = mart(plant, "select data_quality_reason from oee_shift where day = date '2026-03-02'")
    assert len(reasons) == 6 and all("no counter reading for" in reason for (reason,) in reasons)
