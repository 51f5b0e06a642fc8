"""Energy from power, interval and meter readings is never extrapolated (issue #13, part 2).

A power reading stands until the tag's next reading, at most the max gap (energy_max_gap_s, default three
typical reading intervals: the lower median spacing of the tag's readings); the last reading of a series
stands for one typical interval; everything else is unknown, shown in data_quality_daily and flagged in
energy_daily. Every expected number below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from assets.plant.calendar import production_day_window
from assets.plant.config import PlantConfigError, parse_plant_config
from assets.silver.energy import model_energy
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart

TAG = "L1.FILLER.kW"


def machine_rows() -> list[str]:
    # the machine runs all day with no counts: energy_daily has a row for it (from oee_daily)
    return [
        r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
        r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
        r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
    ]


def every(first: str, last: str, step_s: int, tag: str, value) -> list[str]:
    """Rows of `tag` every step_s seconds from first to last (plant-local, both included)."""
    t, end = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    rows = []
    while t <= end:
        rows.append(r(t.strftime("%Y-%m-%d %H:%M:%S"), tag, value(t) if callable(value) else value))
        t += dt.timedelta(seconds=step_s)
    return rows


def config_with(kind: str, **machine_keys) -> dict:
    config = one_machine_config(working_days=EVERY_DAY)
    machine = config["lines"][0]["machines"][0]
    machine.pop("energy_kwh_tag")
    machine.update({kind: TAG} if kind != "energy_kwh_tag" else {kind: "L1.FILLER.kWh"})
    machine.update(machine_keys)
    return config


def energy_day(plant, day: str) -> tuple:
    return mart(
        plant,
        "select round(kwh_total, 6), data_quality_ok, data_quality_reason from energy_daily "
        "where level = 'machine' and day = ?",
        [dt.date.fromisoformat(day)],
    )[0]


def quality_day(plant, tag: str, day: str) -> tuple:
    return mart(
        plant,
        "select energy_unknown_s, energy_spread_s, energy_max_gap_s from data_quality_daily where tag = ? and day = ?",
        [tag, dt.date.fromisoformat(day)],
    )[0]


def test_a_three_hour_hole_in_a_power_tag_read_every_minute_is_unknown_not_held(plant_factory):
    plant = plant_factory(config_with("power_kw_tag"))
    plant.export(
        "h.csv",
        machine_rows()
        + every("2026-03-02 06:00:00", "2026-03-02 10:00:00", 60, TAG, 12)  # 241 readings
        + every("2026-03-02 13:01:00", "2026-03-03 06:00:00", 60, TAG, 6),  # the logger is back at 13:01
    )
    plant.land()
    plant.build_day("2026-03-02")
    # Spacings: 60 s everywhere but one of 3 h 1 min: typical 60 s, max gap 180 s. The 10:00 reading is
    # followed by the next only at 13:01: it stands for the max gap, 10:00-10:03. The rest of the hole,
    # 10:03-13:01 (178 min = 10,680 s), is unknown: 0 kWh in it. Known: 12 kW x 243 min (06:00-10:03)
    # = 48.6 kWh, plus 6 kW x 1,019 min (13:01-06:00) = 101.9 kWh: 150.5 kWh. (Held to 13:01, as before,
    # would add 35.6 kWh.)
    assert energy_day(plant, "2026-03-02") == (150.5, False, "energy unknown for 178.0 min (no reading)")
    assert quality_day(plant, TAG, "2026-03-02") == (10_680.0, 0.0, 180.0)
    # the line's and the site's figures rest on it too, and say which machine
    rollups = mart(
        plant, "select level, data_quality_ok, data_quality_reason from energy_daily where level <> 'machine'"
    )
    assert sorted(rollups) == [
        ("line", False, "FILLER: energy unknown for 178.0 min (no reading)"),
        ("site", False, "L1/FILLER: energy unknown for 178.0 min (no reading)"),
    ]


def test_the_last_reading_of_an_export_counts_for_one_interval_and_a_later_export_completes_the_day(
    plant_factory,
):
    plant = plant_factory(config_with("power_kw_tag"))
    plant.export("a.csv", machine_rows() + every("2026-03-02 06:00:00", "2026-03-02 14:00:00", 900, TAG, 10))
    plant.land()
    plant.build_day("2026-03-02")
    # Readings every 15 min, 06:00-14:00: typical 900 s. The 14:00 reading closes nothing yet: it stands
    # for 14:00-14:15 only, not to the day's end. 10 kW x 8 h 15 min = 82.5 kWh; 14:15-06:00 (15 h 45 min
    # = 56,700 s = 945 min) unknown.
    assert energy_day(plant, "2026-03-02") == (82.5, False, "energy unknown for 945.0 min (no reading)")
    assert quality_day(plant, TAG, "2026-03-02") == (56_700.0, 0.0, 2_700.0)

    plant.export("b.csv", every("2026-03-02 14:15:00", "2026-03-03 06:00:00", 900, TAG, 4))
    plant.land()
    plant.build_day("2026-03-02")
    # The series continues: 10 kW 06:00-14:15 = 82.5 kWh, 4 kW 14:15-06:00 (15.75 h) = 63 kWh: 145.5 kWh,
    # nothing unknown.
    assert energy_day(plant, "2026-03-02") == (145.5, True, None)
    assert quality_day(plant, TAG, "2026-03-02") == (0.0, 0.0, 2_700.0)


def test_one_reading_is_not_held_across_two_days_without_readings(plant_factory):
    plant = plant_factory(config_with("power_kw_tag"))
    plant.export(
        "h.csv",
        machine_rows()
        + every("2026-03-02 06:00:00", "2026-03-02 12:00:00", 1800, TAG, 8)  # 13 readings
        + [r("2026-03-04 12:00:00", TAG, 8)],  # then nothing for two days
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    # Spacings: twelve of 30 min, one of 48 h: typical 1,800 s, max gap 5,400 s. The 12:00 reading is not
    # closed within 5,400 s: it stands for the max gap, 12:00-13:30. 2 Mar: 8 kW x 7.5 h = 60 kWh,
    # 13:30-06:00 (16.5 h = 990 min) unknown. 3 Mar: no reading stands for any of it: 0 kWh, all 1,440 min
    # unknown.
    assert energy_day(plant, "2026-03-02") == (60.0, False, "energy unknown for 990.0 min (no reading)")
    assert energy_day(plant, "2026-03-03") == (0.0, False, "energy unknown for 1440.0 min (no reading)")
    assert quality_day(plant, TAG, "2026-03-03") == (86_400.0, 0.0, 5_400.0)


def test_interval_energy_with_a_missing_interval(plant_factory):
    config = config_with("energy_interval_kwh_tag", energy_interval_s=900, energy_interval_label="end")
    plant = plant_factory(config)
    readings = every("2026-03-02 06:15:00", "2026-03-03 06:00:00", 900, TAG, 2.5)  # 96 intervals of the day
    missing = r("2026-03-02 10:15:00", TAG, 2.5)
    assert missing in readings
    readings.remove(missing)  # the interval 10:00-10:15 never arrived
    plant.export("h.csv", machine_rows() + readings)
    plant.land()
    plant.build_day("2026-03-02")
    # 95 intervals x 2.5 kWh = 237.5 kWh; 10:00-10:15 (15 min) unknown: no max gap for interval energy
    assert energy_day(plant, "2026-03-02") == (237.5, False, "energy unknown for 15.0 min (no reading)")
    assert quality_day(plant, TAG, "2026-03-02") == (900.0, 0.0, None)


def test_a_meter_step_across_a_gap_is_spread_evenly_and_flagged(plant_factory):
    config = one_machine_config(working_days=EVERY_DAY)  # meter L1.FILLER.kWh
    plant = plant_factory(config)

    def meter(t: dt.datetime) -> float:
        # 100 kWh per hour from 06:00 on 2 Mar
        return 1_000 + 100 * (t - dt.datetime(2026, 3, 2, 6)).total_seconds() / 3600

    plant.export(
        "h.csv",
        machine_rows()
        + every("2026-03-02 06:00:00", "2026-03-02 10:00:00", 900, "L1.FILLER.kWh", meter)
        + every("2026-03-02 12:00:00", "2026-03-03 06:00:00", 900, "L1.FILLER.kWh", meter),
    )
    plant.land()
    plant.build_day("2026-03-02")
    # Typical 900 s, max gap 2,700 s. 06:00-10:00: 400 kWh; 10:00-12:00 (7,200 s > 2,700 s): the step of
    # 200 kWh (1,400 -> 1,600) is known in total, not where it fell: spread over the 2 h and flagged;
    # 12:00-06:00: 1,800 kWh. Total 2,400 kWh; nothing unknown.
    assert energy_day(plant, "2026-03-02") == (
        2_400.0,
        False,
        "200.0 kWh of a meter step over a gap spread evenly",
    )
    assert quality_day(plant, "L1.FILLER.kWh", "2026-03-02") == (0.0, 7_200.0, 2_700.0)


def test_after_a_meters_last_reading_the_energy_is_unknown_not_extrapolated(plant_factory):
    plant = plant_factory(one_machine_config(working_days=EVERY_DAY))  # meter L1.FILLER.kWh

    def meter(t: dt.datetime) -> float:
        return 1_000 + 100 * (t - dt.datetime(2026, 3, 2, 6)).total_seconds() / 3600  # 100 kWh per hour

    # the export ends at 20:00: no reading closes the rest of the production day (to 3 Mar 06:00)
    plant.export(
        "h.csv", machine_rows() + every("2026-03-02 06:00:00", "2026-03-02 20:00:00", 900, "L1.FILLER.kWh", meter)
    )
    plant.land()
    plant.build_day("2026-03-02")
    # 06:00-20:00: 2,400 - 1,000 = 1,400 kWh between readings; 20:00-06:00 (10 h = 600 min): unknown, not
    # 100 kWh an hour carried on; nothing spread; typical interval 900 s, max gap 3 x 900 = 2,700 s.
    assert energy_day(plant, "2026-03-02") == (1_400.0, False, "energy unknown for 600.0 min (no reading)")
    assert quality_day(plant, "L1.FILLER.kWh", "2026-03-02") == (36_000.0, 0.0, 2_700.0)


def test_a_configured_max_gap_keeps_a_stored_on_change_reading_standing(plant_factory):
    # A historian that stores power on change: the engineer says a reading holds for up to 4 days.
    plant = plant_factory(config_with("power_kw_tag", energy_max_gap_s=4 * 86_400))
    plant.export(
        "h.csv",
        machine_rows()
        + [
            r("2026-03-02 12:00:00", TAG, 10),
            r("2026-03-02 20:00:00", TAG, 0.5),
            r("2026-03-05 07:00:00", TAG, 12),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # The look-ahead reaches the max gap, so the 20:00 reading is closed by 5 Mar 07:00 (59 h <= 96 h).
    # 2 Mar: 10 kW 12:00-20:00 = 80 kWh, 0.5 kW 20:00-06:00 = 5 kWh; 06:00-12:00 (360 min) has no reading.
    assert energy_day(plant, "2026-03-02") == (85.0, False, "energy unknown for 360.0 min (no reading)")
    assert quality_day(plant, TAG, "2026-03-02") == (21_600.0, 0.0, 345_600.0)


def _points(rows: list[tuple[str, float]]) -> pa.Table:
    ts = [dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC) for t, _ in rows]
    return pa.table(
        {
            "tag": pa.array([TAG] * len(rows), pa.string()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "value": pa.array([v for _, v in rows], pa.float64()),
            "value_text": pa.array([None] * len(rows), pa.string()),
            "quality": pa.array(["good"] * len(rows), pa.string()),
            "source": pa.array(["historian"] * len(rows), pa.string()),
        }
    )


def _model(config: dict, rows: list[tuple[str, float]], day=dt.date(2026, 3, 2)) -> list[tuple]:
    plant = parse_plant_config(config)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("points", _points(rows))
    # nothing landed after these readings: the last of them is the last of its series
    con.execute("create temp table tag_last_seen (tag varchar, last_seen timestamptz)")
    table = model_energy(con, plant, day, production_day_window(plant, day))
    return [
        (row["start"].strftime("%d %H:%M"), row["end"].strftime("%d %H:%M"), round(row["kwh"], 6), row["event"])
        for row in table.to_pylist()
    ]


def test_a_single_reading_stands_for_nothing_and_the_spans_tile_the_day():
    # The day (06:00 Berlin) runs 05:00-05:00 UTC. One reading ever: no spacing, no typical interval,
    # no max gap: it stands for no time at all, and the whole day is one unknown span.
    assert _model(config_with("power_kw_tag"), [("2026-03-02 11:00:00", 10.0)]) == [
        ("02 05:00", "03 05:00", 0.0, "unknown")
    ]
    # Two readings an hour apart (typical 1 h, max gap 3 h): the first stands until the second, the
    # second, the last of the series, for one typical interval; the rest of the day is unknown.
    assert _model(config_with("power_kw_tag"), [("2026-03-02 11:00:00", 10.0), ("2026-03-02 12:00:00", 4.0)]) == [
        ("02 05:00", "02 11:00", 0.0, "unknown"),
        ("02 11:00", "02 12:00", 10.0, "count"),
        ("02 12:00", "02 13:00", 4.0, "count"),
        ("02 13:00", "03 05:00", 0.0, "unknown"),
    ]


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        ("modelling", 0, "modelling.energy_max_gap_s: must be a positive number"),
        ("machine", "15 min", "lines[L1].machines[FILLER].energy_max_gap_s: must be a positive number"),
    ],
)
def test_energy_max_gap_s_must_be_a_positive_number_of_seconds(where, value, problem):
    config = config_with("power_kw_tag")
    if where == "modelling":
        config["modelling"] = {"energy_max_gap_s": value}
    else:
        config["lines"][0]["machines"][0]["energy_max_gap_s"] = value
    with pytest.raises(PlantConfigError, match=problem.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        parse_plant_config(config)


def test_a_machine_max_gap_overrides_the_plants():
    config = config_with("power_kw_tag", energy_max_gap_s=600)
    config["modelling"] = {"energy_max_gap_s": 3600}
    plant = parse_plant_config(config)
    assert (plant.energy_max_gap_s, plant.machines[0].energy_max_gap_s) == (3600.0, 600.0)
    # readings an hour apart, max gap 600 s: the first is not closed in time and stands for
    # min(typical 1 h, max gap 10 min) = 10 min: 10 kW x 1/6 h
    assert _model(config, [("2026-03-02 11:00:00", 10.0), ("2026-03-02 12:00:00", 4.0)])[1] == (
        "02 11:00",
        "02 11:10",
        round(10 / 6, 6),
        "count",
    )
