"""Machines without state and counter tags: energy and condition-monitoring assets (issue #13, §11).

A machine has either everything OEE needs (state_tag, states, two counters, ideal_cycle_time_s) or none of
it: then it is a monitoring asset, with energy and sensor figures and no OEE row. Every expected number
below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import duckdb
import pytest

from assets.plant.config import PlantConfigError, parse_plant_config
from orchestration.cli import run as cli_run
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart, silver

DAY = "2026-03-02"
D = dt.date.fromisoformat(DAY)


def every(first: str, last: str, step_s: int, tag: str, value) -> list[str]:
    """Rows of `tag` every step_s seconds from first to last (plant-local, both included)."""
    t, end = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    rows = []
    while t <= end:
        rows.append(r(t.strftime("%Y-%m-%d %H:%M:%S"), tag, value(t) if callable(value) else value))
        t += dt.timedelta(seconds=step_s)
    return rows


def compressor(name: str = "COMPRESSOR", **energy) -> dict:
    return {"name": name, **(energy or {"power_kw_tag": f"L1.{name}.kW"})}


def filler_and_compressor_config() -> dict:
    config = one_machine_config(working_days=EVERY_DAY)
    filler = config["lines"][0]["machines"][0]
    filler.pop("energy_kwh_tag")
    filler["power_kw_tag"] = "L1.FILLER.kW"
    # the compressor is listed last: the line's output is still the filler's, its last machine with OEE
    config["lines"][0]["machines"].append(compressor())
    return config


def rows_of(plant, sql: str) -> list[dict]:
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


ENERGY_COLUMNS = (
    "kwh_total, kwh_running, kwh_stopped, kwh_idle_scheduled, kwh_scheduled_no_state, kwh_outside_scheduled, good_count"
)


def test_a_power_metered_compressor_has_energy_rows_and_no_oee_row(plant_factory):
    plant = plant_factory(filler_and_compressor_config())
    plant.export(
        "h.csv",
        [
            # the filler runs, jams 10:00-10:30, runs again; 24,000 counted, 1,200 rejected at 14:00
            r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 10:00:00", "L1.FILLER.State", 3),
            r("2026-03-02 10:30:00", "L1.FILLER.State", 1),
            r("2026-03-02 05:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 05:00:00", "L1.FILLER.Reject", 0),
            r("2026-03-02 14:00:00", "L1.FILLER.Total", 24_000),
            r("2026-03-02 14:00:00", "L1.FILLER.Reject", 1_200),
        ]
        # readings every 15 min from before the day (06:00 Berlin) to its end: nothing unknown
        + every("2026-03-02 05:00:00", "2026-03-03 06:00:00", 900, "L1.FILLER.kW", 20)
        + every(
            "2026-03-02 05:00:00",
            "2026-03-03 06:00:00",
            900,
            "L1.COMPRESSOR.kW",
            lambda t: 30 if (t.day, t.hour) < (2, 12) else 15,
        ),
    )
    plant.land()
    plant.build_day(DAY)  # the marts audit passed: the day was published

    # No OEE for the compressor, anywhere: no state intervals, no oee_daily row, not in the line's roll-up.
    assert silver(plant, "silver__machine_states", "select distinct machine from t") == [("FILLER",)]
    assert mart(plant, "select machine from oee_daily") == [("FILLER",)]
    assert mart(plant, "select distinct machine from downtime_events") == [("FILLER",)]
    assert mart(plant, "select machine from reliability_daily") == [("FILLER",)]
    # The filler: planned 06:00-14:00 = 28,800 s; run 28,800 - 1,800 (the jam) = 27,000 s; availability
    # 27,000 / 28,800 = 0.9375; performance 1.0 s x 24,000 / 27,000 = 0.8889; quality 22,800 / 24,000 = 0.95;
    # OEE 22,800 x 1.0 / 28,800 = 0.791667. The line's OEE is the filler's: the compressor adds no time.
    filler = plant.oee(DAY)
    assert (filler["planned_production_time_s"], filler["run_time_s"], filler["good_count"]) == (28_800, 27_000, 22_800)
    assert filler["oee"] == pytest.approx(22_800 / 28_800)
    line = rows_of(plant, "select * from oee_line_daily")
    assert len(line) == 1
    assert (line[0]["machines"], line[0]["output_good_count"]) == (1, 22_800)
    for ratio in ("availability", "performance", "quality", "oee"):
        assert line[0][ratio] == pytest.approx(filler[ratio])
    assert line[0]["oee"] == pytest.approx(0.7916666666666666)

    energy = {
        (row[0], row[1]): row[2:]
        for row in mart(
            plant,
            f"select level, machine, {', '.join(f'round({c}, 6)' for c in ENERGY_COLUMNS.split(', ')[:-1])}, "
            "good_count from energy_daily where day = ?",
            [D],
        )
    }
    # Compressor: 30 kW 06:00-12:00 = 180 kWh, 15 kW 12:00-06:00 (18 h) = 270 kWh: 450 kWh. In the shift
    # (06:00-14:00): 180 + 2 h x 15 = 210 kWh, not split by state (it has none): running, stopped and idle
    # are NULL, the 210 kWh are kwh_scheduled_no_state; outside the shift 450 - 210 = 240 kWh. No units.
    assert energy[("machine", "COMPRESSOR")] == (450.0, None, None, None, 210.0, 240.0, None)
    # Filler: 20 kW all day = 480 kWh; running 7.5 h = 150 kWh, the jam 0.5 h = 10 kWh, idle in the shift 0,
    # outside the shift 16 h = 320 kWh; 22,800 good units.
    assert energy[("machine", "FILLER")] == (480.0, 150.0, 10.0, 0.0, 0.0, 320.0, 22_800)
    # The line and the site: the sums (930 kWh = 480 + 450), the filler's good units as the output.
    assert energy[("line", None)] == (930.0, 150.0, 10.0, 0.0, 210.0, 560.0, 22_800)
    assert energy[("site", None)] == (930.0, 150.0, 10.0, 0.0, 210.0, 560.0, 22_800)
    [(per_unit, ok)] = mart(plant, "select kwh_per_good_unit, data_quality_ok from energy_daily where level = 'line'")
    assert (per_unit, ok) == (pytest.approx(930 / 22_800), True)
    # The shift (06:00-14:00): the compressor's 210 kWh, all of it without a state.
    assert mart(
        plant,
        "select round(kwh_total, 6), kwh_running, kwh_stopped, kwh_idle_scheduled, round(kwh_scheduled_no_state, 6) "
        "from energy_shift where machine = 'COMPRESSOR'",
    ) == [(210.0, None, None, None, 210.0)]
    assert mart(
        plant, "select round(kwh_total, 6), round(kwh_scheduled_no_state, 6) from energy_shift where level = 'line'"
    ) == [(370.0, 210.0)]  # 160 kWh of the filler (8 h x 20 kW) + 210
    # Its power tag is an energy tag of the model, with nothing unknown; it is no sensor.
    assert mart(
        plant, "select machine, role, energy_unknown_s from data_quality_daily where tag = 'L1.COMPRESSOR.kW'"
    ) == [("COMPRESSOR", "energy_power", 0.0)]
    assert mart(plant, "select count(*) from sensor_hourly where tag = 'L1.COMPRESSOR.kW'") == [(0,)]


def sensor_only_config() -> dict:
    config = one_machine_config(working_days=EVERY_DAY)
    config["lines"] = [
        {
            "name": "UTIL",
            "area": "Utilities",
            "machines": [
                {"name": "COMPRESSOR", "power_kw_tag": "UTIL.COMP.kW"},
                {"name": "MAINS", "energy_kwh_tag": "UTIL.MAIN.kWh"},
                # a condition-monitoring asset with no tag of its own: its sensors are the tags no machine uses
                {"name": "DRYER"},
            ],
        }
    ]
    return config


def test_a_sensor_only_plant_runs_the_whole_pipeline(plant_factory, tmp_path, monkeypatch, capsys):
    plant = plant_factory(sensor_only_config())
    assert [line.output_machine for line in plant.config.lines] == [None]
    rows = (
        every("2026-03-02 05:00:00", "2026-03-03 06:00:00", 900, "UTIL.COMP.kW", 12)
        # the mains meter gains 50 kWh an hour
        + every(
            "2026-03-02 05:00:00",
            "2026-03-03 06:00:00",
            3600,
            "UTIL.MAIN.kWh",
            lambda t: 1000 + 50 * round((t - dt.datetime(2026, 3, 2, 5)).total_seconds() / 3600),
        )
        # a temperature no machine uses: a condition-monitoring sensor, every 10 min 06:00-07:00 local
        + every("2026-03-02 06:00:00", "2026-03-02 07:00:00", 600, "UTIL.COMP.Temp", lambda t: 20 + t.minute // 5)
    )
    plant.export("h.csv", rows)
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(plant.root))
    monkeypatch.setenv("LANDING_ROOT", str(plant.landing))
    monkeypatch.setenv("PLANT_CONFIG", str(plant.config_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.chdir(tmp_path)

    assert cli_run(["run", "--start", DAY, "--end", DAY]) == 0
    out = capsys.readouterr().out
    assert f"production day {DAY}: ok" in out
    assert "no OEE: no machine has a state tag and counters (energy and sensor figures only)" in out
    # UTIL: compressor 12 kW x 24 h = 288 kWh, meter 24 steps of 50 = 1,200 kWh: 1,488 kWh; outside the shift
    # (14:00-06:00, 16 h): 192 + 800 = 992 kWh; no day flagged
    assert re.search(r"UTIL\s+1\s+1,488\.0\s+992\.0\s+0\n", out), out

    # Every value landed: 101 + 26 + 7 rows in (05:00 to 06:00 the next day: 25 h of 15-min and hourly
    # readings, each with both ends; 06:00-07:00 every 10 min), none quarantined.
    [(rows_in, landed, quarantined)] = silver(
        plant, "bronze__file_ledger", "select sum(rows_in), sum(rows_landed), sum(rows_quarantined) from t"
    )
    assert (rows_in, landed, quarantined) == (len(rows), len(rows), 0) == (134, 134, 0)

    # No OEE anywhere, and the audit had nothing to stop.
    for table in ("oee_daily", "oee_shift", "oee_line_daily", "oee_site_daily", "downtime_events", "reliability_daily"):
        assert mart(plant, f"select count(*) from {table}") == [(0,)], table
    # Energy: in the shift (06:00-14:00) 8 h x 12 = 96 and 8 x 50 = 400 kWh, not split by state.
    assert mart(
        plant,
        f"select level, machine, {ENERGY_COLUMNS}, kwh_per_good_unit, data_quality_ok from energy_daily "
        "order by level, machine",
    ) == [
        ("line", None, 1488.0, None, None, None, 496.0, 992.0, None, None, True),
        ("machine", "COMPRESSOR", 288.0, None, None, None, 96.0, 192.0, None, None, True),
        ("machine", "MAINS", 1200.0, None, None, None, 400.0, 800.0, None, None, True),
        ("site", None, 1488.0, None, None, None, 496.0, 992.0, None, None, True),
    ]
    # DRYER has no energy tag: no energy row (not 0 kWh), as the list above shows.
    # The sensor: 06:00-07:00 Berlin is 05:00-06:00 UTC; six values 20, 22, 24, 26, 28, 30 each held 600 s:
    # time-weighted mean 150 / 6 = 25.0 over the whole hour.
    assert mart(
        plant,
        "select hour, mean, min, max, valid_s from sensor_hourly where tag = 'UTIL.COMP.Temp' order by hour limit 1",
    ) == [(dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC), 25.0, 20.0, 30.0, 3600.0)]

    # The report says why the line has no OEE, and what it used.
    page = (plant.root / "reports" / f"daily_report_{DAY}.html").read_text(encoding="utf-8")
    assert "no OEE: none of the line's machines has a state tag and counters" in html.unescape(page)
    assert f"The line used 1,488.0 kWh on {DAY}." in page


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a state without counters
        (
            lambda m: (m.pop("total_count_tag"), m.pop("reject_count_tag")),
            "lines[L1].machines[FILLER]: needs two of total_count_tag, good_count_tag, reject_count_tag: a machine "
            "with state_tag has OEE; a machine without state_tag and counters is a monitoring asset",
        ),
        (
            lambda m: m.pop("reject_count_tag"),
            "lines[L1].machines[FILLER]: needs two of total_count_tag, good_count_tag, reject_count_tag (it has only "
            "total_count_tag)",
        ),
        # counters without a state
        (
            lambda m: m.pop("state_tag"),
            "lines[L1].machines[FILLER].state_tag: is required with total_count_tag, reject_count_tag: a machine with "
            "counters has OEE and needs state_tag, states, two counters and ideal_cycle_time_s",
        ),
        # a monitoring asset with what only OEE uses
        (
            lambda m: [m.pop(k) for k in ("state_tag", "total_count_tag", "reject_count_tag", "states")],
            "lines[L1].machines[FILLER].ideal_cycle_time_s: a machine without state_tag has no OEE: remove "
            "ideal_cycle_time_s or add state_tag, states and two of total_count_tag, good_count_tag, reject_count_tag",
        ),
        (
            lambda m: [m.pop(k) for k in ("state_tag", "total_count_tag", "reject_count_tag", "ideal_cycle_time_s")],
            "lines[L1].machines[FILLER].states: a machine without state_tag has no OEE: remove states",
        ),
        (
            lambda m: (
                [m.pop(k) for k in ("state_tag", "total_count_tag", "reject_count_tag", "ideal_cycle_time_s")]
                + [m.pop("states"), m.update(microstop_threshold_s=60)]
            ),
            "lines[L1].machines[FILLER].microstop_threshold_s: a machine without state_tag has no OEE",
        ),
    ],
)
def test_a_machine_with_part_of_what_oee_needs_is_refused_naming_what_is_missing(edit, message):
    config = one_machine_config()
    edit(config["lines"][0]["machines"][0])
    with pytest.raises(PlantConfigError) as raised:
        parse_plant_config(config)
    assert message in str(raised.value)


def test_the_output_machine_is_a_machine_with_oee():
    config = filler_and_compressor_config()
    # default: the line's last machine with OEE, not the compressor listed after it
    assert parse_plant_config(config).lines[0].output_machine == "FILLER"
    config["lines"][0]["output_machine"] = "COMPRESSOR"
    with pytest.raises(PlantConfigError, match=r"lines\[L1\]\.output_machine: 'COMPRESSOR' has no state_tag and "):
        parse_plant_config(config)
    # a line of monitoring assets only has no output, and may name none
    only = sensor_only_config()
    assert parse_plant_config(only).lines[0].output_machine is None
    only["lines"][0]["output_machine"] = "MAINS"
    with pytest.raises(PlantConfigError, match="this line has none, so leave output_machine out"):
        parse_plant_config(only)
    parsed = parse_plant_config(filler_and_compressor_config())
    assert [m.name for m in parsed.oee_machines] == ["FILLER"]
    assert [m.name for m in parsed.machines] == ["FILLER", "COMPRESSOR"]
    assert parsed.machines[1].ideal_cycle_time_s is None and parsed.machines[1].states == {}
    # a condition-monitoring asset needs no tag of its own
    tagless = parse_plant_config(sensor_only_config()).machines[2]
    assert (tagless.name, tagless.has_oee, tagless.energy_tags) == ("DRYER", False, {})
