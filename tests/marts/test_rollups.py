"""Roll-ups across machines that make different things, and one rule for "no value" (issue #13, 4 and 5).

End to end: AVEVA exports written here, landed, modelled and published by the real assets, then the
published marts queried. Every expected number is derived by hand in the comments beside it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assets.plant.config import PlantConfigError, parse_plant_config
from orchestration.summary import line_oee_table
from tests.helpers.exports import aveva_row as r
from tests.helpers.lakehouse import Plant
from tests.helpers.plant import EVERY_DAY, one_machine_config
from tests.helpers.tables import mart

MON = dt.date(2026, 3, 2)
STATES = {1: "running", 3: {"category": "unplanned_stop", "reason": "Jam"}}


def machine(line: str, name: str, ideal_cycle_time_s: float, energy: bool = True) -> dict:
    spec = {
        "name": name,
        "ideal_cycle_time_s": ideal_cycle_time_s,
        "state_tag": f"{line}.{name}.State",
        "states": STATES,
        "total_count_tag": f"{line}.{name}.Total",
        "reject_count_tag": f"{line}.{name}.Reject",
    }
    if energy:
        spec["energy_kwh_tag"] = f"{line}.{name}.kWh"
    return spec


def bottling_site() -> dict:
    """Two lines of a filler (bottles, 0.5 s each) then a packer (packs of six, 3 s a pack).

    L1 takes the default output machine (its last, PACKER); L2 names FILLER as its output machine.
    One shift 06:00-14:00 on Mondays, no breaks: each machine has 28,800 s of planned production time.
    """
    config = one_machine_config(working_days=["mon"])
    config["lines"] = [
        {"name": "L1", "area": "Bottling", "machines": [machine("L1", "FILLER", 0.5), machine("L1", "PACKER", 3.0)]},
        {
            "name": "L2",
            "area": "Bottling",
            "output_machine": "FILLER",
            "machines": [machine("L2", "FILLER", 0.5), machine("L2", "PACKER", 3.0)],
        },
    ]
    return config


def meter(tag: str, kwh_per_hour: float) -> list[str]:
    # a cumulative meter read every hour from 06:00 on Monday to 06:00 on Tuesday: 24 x kwh_per_hour in the day
    start = dt.datetime(2026, 3, 2, 6)
    return [
        r((start + dt.timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S"), tag, 1000 + h * kwh_per_hour)
        for h in range(25)
    ]


# Monday 2 March 2026 (CET), plant-local times.
# L1.FILLER: runs, jams 08:00-09:00, runs: run 25,200 s. 40,000 bottles, 400 rejected: good 39,600.
#            ideal 0.5 x 40,000 = 20,000 s; fully productive 0.5 x 39,600 = 19,800 s.
# L1.PACKER: runs all shift: run 28,800 s. 6,500 packs, 100 rejected: good 6,400.
#            ideal 3 x 6,500 = 19,500 s; fully productive 3 x 6,400 = 19,200 s.
# L2.FILLER: runs all shift: run 28,800 s. 50,000 bottles, 1,000 rejected: good 49,000.
#            ideal 0.5 x 50,000 = 25,000 s; fully productive 0.5 x 49,000 = 24,500 s.
# L2.PACKER: jammed through the whole shift, counts nothing: run 0, ideal 0, fully productive 0.
# Energy: L1.FILLER 10 kWh/h, L1.PACKER 5 kWh/h, L2.FILLER 10 kWh/h, L2.PACKER 2 kWh/h, all day long.
SITE_ROWS = [
    r("2026-03-02 05:00:00", "L1.FILLER.State", 1),
    r("2026-03-02 08:00:00", "L1.FILLER.State", 3),
    r("2026-03-02 09:00:00", "L1.FILLER.State", 1),
    r("2026-03-02 14:00:00", "L1.FILLER.State", 3),
    r("2026-03-02 05:59:00", "L1.FILLER.Total", 100),
    r("2026-03-02 05:59:00", "L1.FILLER.Reject", 10),
    r("2026-03-02 10:00:00", "L1.FILLER.Total", 20_100),
    r("2026-03-02 10:00:00", "L1.FILLER.Reject", 210),
    r("2026-03-02 14:00:00", "L1.FILLER.Total", 40_100),
    r("2026-03-02 14:00:00", "L1.FILLER.Reject", 410),
    r("2026-03-02 05:00:00", "L1.PACKER.State", 1),
    r("2026-03-02 14:00:00", "L1.PACKER.State", 3),
    r("2026-03-02 05:59:00", "L1.PACKER.Total", 0),
    r("2026-03-02 05:59:00", "L1.PACKER.Reject", 0),
    r("2026-03-02 14:00:00", "L1.PACKER.Total", 6_500),
    r("2026-03-02 14:00:00", "L1.PACKER.Reject", 100),
    r("2026-03-02 05:00:00", "L2.FILLER.State", 1),
    r("2026-03-02 14:00:00", "L2.FILLER.State", 3),
    r("2026-03-02 05:59:00", "L2.FILLER.Total", 0),
    r("2026-03-02 05:59:00", "L2.FILLER.Reject", 0),
    r("2026-03-02 14:00:00", "L2.FILLER.Total", 50_000),
    r("2026-03-02 14:00:00", "L2.FILLER.Reject", 1_000),
    r("2026-03-02 05:00:00", "L2.PACKER.State", 3),
    r("2026-03-02 05:59:00", "L2.PACKER.Total", 0),
    r("2026-03-02 05:59:00", "L2.PACKER.Reject", 0),
    r("2026-03-02 14:00:00", "L2.PACKER.Total", 0),
    r("2026-03-02 14:00:00", "L2.PACKER.Reject", 0),
    *meter("L1.FILLER.kWh", 10),
    *meter("L1.PACKER.kWh", 5),
    *meter("L2.FILLER.kWh", 10),
    *meter("L2.PACKER.kWh", 2),
]

ROLLUP_COLUMNS = (
    "calendar_time_s, machine_calendar_time_s, planned_production_time_s, run_time_s, ideal_time_s, "
    "fully_productive_time_s, output_total_count, output_good_count, output_reject_count, "
    "availability, performance, quality, oee, teep, utilization"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # one published site for the tests of this module: building it is what takes the time
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DAGSTER_HOME", raising=False)
        plant = Plant(tmp_path_factory.mktemp("rollups"), bottling_site())
        plant.export("History_20260302.csv", SITE_ROWS)
        plant.land()
        plant.build_day("2026-03-02")
    return plant


def rollup(plant, table: str, where: str) -> dict:
    names = [c.strip() for c in ROLLUP_COLUMNS.split(",")]
    (values,) = mart(plant, f"select {ROLLUP_COLUMNS} from {table} where {where}")
    return dict(zip(names, values, strict=True))


def assert_ratios(row: dict, availability, performance, quality, oee) -> None:
    got = [None if row[k] is None else round(row[k], 6) for k in ("availability", "performance", "quality", "oee")]
    assert got == [None if v is None else round(v, 6) for v in (availability, performance, quality, oee)]
    if None not in (row["availability"], row["performance"], row["quality"]):
        assert row["availability"] * row["performance"] * row["quality"] == pytest.approx(row["oee"], abs=1e-12)


def test_a_line_of_a_filler_and_a_packer_rolls_up_through_ideal_time(site):
    line = rollup(site, "oee_line_daily", "line = 'L1'")
    # planned 2 x 28,800 = 57,600; run 25,200 + 28,800 = 54,000; ideal 20,000 + 19,500 = 39,500;
    # fully productive 19,800 + 19,200 = 39,000 (machine-seconds)
    assert (line["planned_production_time_s"], line["run_time_s"]) == (57_600, 54_000)
    assert (line["ideal_time_s"], line["fully_productive_time_s"]) == (39_500, 39_000)
    # availability 54,000 / 57,600 = 0.9375; performance 39,500 / 54,000 = 0.731481;
    # quality 39,000 / 39,500 = 0.987342 (not 46,000 good / 46,500 counted = 0.989247 of bottles plus packs);
    # oee 39,000 / 57,600 = 0.677083 = 0.9375 x 0.731481 x 0.987342
    assert_ratios(line, 54_000 / 57_600, 39_500 / 54_000, 39_000 / 39_500, 39_000 / 57_600)
    assert round(line["quality"], 6) != round(46_000 / 46_500, 6)
    # the line's output is what its last machine, the packer, made: 6,500 packs, 6,400 good, 100 rejected;
    # not 46,000 "good units" of bottles and packs added together
    assert (line["output_total_count"], line["output_good_count"], line["output_reject_count"]) == (6_500, 6_400, 100)


def test_a_configured_output_machine_is_the_lines_output(site):
    line = rollup(site, "oee_line_daily", "line = 'L2'")
    # L2 names FILLER: 50,000 bottles, 49,000 good, 1,000 rejected (its last machine, the packer, made nothing)
    assert (line["output_total_count"], line["output_good_count"], line["output_reject_count"]) == (
        50_000,
        49_000,
        1_000,
    )
    # planned 57,600; run 28,800 + 0; ideal 25,000; fully productive 24,500:
    # availability 0.5, performance 25,000 / 28,800 = 0.868056, quality 24,500 / 25,000 = 0.98,
    # oee 24,500 / 57,600 = 0.425347 = 0.5 x 0.868056 x 0.98
    assert_ratios(line, 0.5, 25_000 / 28_800, 0.98, 24_500 / 57_600)


def test_the_site_sums_time_and_its_lines_outputs(site):
    row = rollup(site, "oee_site_daily", "true")
    # planned 4 x 28,800 = 115,200; run 54,000 + 28,800 = 82,800; ideal 39,500 + 25,000 = 64,500;
    # fully productive 39,000 + 24,500 = 63,500
    assert (row["planned_production_time_s"], row["run_time_s"]) == (115_200, 82_800)
    assert (row["ideal_time_s"], row["fully_productive_time_s"]) == (64_500, 63_500)
    assert_ratios(row, 82_800 / 115_200, 64_500 / 82_800, 63_500 / 64_500, 63_500 / 115_200)
    # output: L1's 6,500 / 6,400 / 100 packs plus L2's 50,000 / 49,000 / 1,000 bottles
    assert (row["output_total_count"], row["output_good_count"], row["output_reject_count"]) == (56_500, 55_400, 1_100)


def test_roll_up_rows_have_no_count_summed_over_machines(site):
    for table in ("oee_line_daily", "oee_line_shift", "oee_site_daily"):
        columns = {c for (c,) in mart(site, f"select column_name from (describe {table})")}
        assert not {"good_count", "total_count", "reject_count", "scheduled_time_s"} & columns, table


def test_a_line_day_lasts_a_day_and_a_line_shift_a_shift(site):
    line = rollup(site, "oee_line_daily", "line = 'L1'")
    # the day is 86,400 s long whatever the machines; the two machines' sum is 172,800 machine-seconds
    assert (line["calendar_time_s"], line["machine_calendar_time_s"]) == (86_400, 172_800)
    # utilization = 57,600 / 172,800 = 1/3; teep = 39,000 / 172,800 = oee x utilization
    assert round(line["utilization"], 9) == round(57_600 / 172_800, 9)
    assert round(line["teep"], 9) == round(39_000 / 172_800, 9)
    site_row = rollup(site, "oee_site_daily", "true")
    assert (site_row["calendar_time_s"], site_row["machine_calendar_time_s"]) == (86_400, 4 * 86_400)
    shift = rollup(site, "oee_line_shift", "line = 'L1' and shift_name = 'early'")
    # the early shift 06:00-14:00 is 28,800 s long; everything of the day happened in it
    assert (shift["calendar_time_s"], shift["machine_calendar_time_s"]) == (28_800, 57_600)
    assert_ratios(shift, 54_000 / 57_600, 39_500 / 54_000, 39_000 / 39_500, 39_000 / 57_600)
    assert (shift["output_good_count"], round(shift["utilization"], 9), round(shift["teep"], 9)) == (
        6_400,
        1.0,
        round(39_000 / 57_600, 9),
    )


def test_a_machine_stopped_all_shift_has_oee_zero_on_its_row_and_its_lines(site):
    ((availability, performance, quality, oee, teep),) = mart(
        site,
        "select availability, performance, quality, oee, teep from oee_daily where line = 'L2' and machine = 'PACKER'",
    )
    # planned 28,800 s, run 0, nothing counted: availability 0 / 28,800 = 0; performance 0 / 0 and
    # quality 0 / 0 have no value; oee = fully productive 0 / planned 28,800 = 0 (it was NULL: A x P x Q)
    assert (availability, performance, quality, oee, teep) == (0.0, None, None, 0.0, 0.0)
    shift = mart(
        site,
        "select availability, performance, quality, oee from oee_shift where line = 'L2' and machine = 'PACKER'",
    )
    assert shift == [(0.0, None, None, 0.0)]
    # on the line row the stopped packer weighs in with its 28,800 planned seconds (see the L2 test above)
    (line_oee,) = mart(site, "select oee from oee_line_daily where line = 'L2'")[0]
    assert round(line_oee, 6) == round((24_500 + 0) / (28_800 + 28_800), 6)


def test_energy_per_good_unit_is_over_the_lines_output(site):
    energy = {
        (level, line): (round(kwh, 6), good, None if per_unit is None else round(per_unit, 9))
        for level, line, kwh, good, per_unit in mart(
            site,
            "select level, line, kwh_total, good_count, kwh_per_good_unit from energy_daily "
            "where level in ('line', 'site')",
        )
    }
    # L1: (10 + 5) kWh/h x 24 h = 360 kWh over the packer's 6,400 good packs = 0.05625 kWh per pack
    assert energy[("line", "L1")] == (360, 6_400, round(360 / 6_400, 9))
    # L2: (10 + 2) x 24 = 288 kWh over its output machine's (FILLER) 49,000 good bottles; the last machine,
    # the stopped packer, made none, so taking it would leave no kWh per unit at all
    assert energy[("line", "L2")] == (288, 49_000, round(288 / 49_000, 9))
    # site: 648 kWh over the lines' outputs 6,400 + 49,000 = 55,400
    assert energy[("site", None)] == (648, 55_400, round(648 / 55_400, 9))
    # the same output as the OEE marts
    assert mart(site, "select line, output_good_count from oee_line_daily order by line") == [
        ("L1", 6_400),
        ("L2", 49_000),
    ]


def test_the_cli_table_rolls_up_through_ideal_time_with_the_lines_output(site):
    table = line_oee_table(site.root / "marts.duckdb", [MON])
    cells = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    # L1: days 1, planned 16.0 machine-hours, availability 93.8 %, performance 73.1 %, quality 98.7 %,
    # OEE 67.7 % (39,000 / 57,600), good units 6,400 packs
    assert cells["L1"] == ["1", "16.0", "93.8%", "73.1%", "98.7%", "67.7%", "6,400"]
    # L2: availability 50.0 %, performance 86.8 %, quality 98.0 %, OEE 42.5 %, 49,000 bottles
    assert cells["L2"] == ["1", "16.0", "50.0%", "86.8%", "98.0%", "42.5%", "49,000"]


@pytest.mark.parametrize(("day", "length"), [("2026-03-28", 82_800), ("2026-10-24", 90_000)])
def test_a_line_day_on_a_clock_change_lasts_that_day(plant_factory, day, length):
    # Saturday 06:00 to Sunday 06:00 across the change to summer time (23 h) or back to winter time (25 h)
    config = bottling_site()
    config["calendar"]["working_days"] = EVERY_DAY
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [r(f"{day} 05:00:00", f"{line}.{name}.State", 1) for line in ("L1", "L2") for name in ("FILLER", "PACKER")],
    )
    plant.land()
    plant.build_day(day)
    lines = mart(plant, "select line, calendar_time_s, machine_calendar_time_s from oee_line_daily order by line")
    assert lines == [("L1", length, 2 * length), ("L2", length, 2 * length)]
    assert mart(plant, "select calendar_time_s, machine_calendar_time_s from oee_site_daily") == [(length, 4 * length)]


def test_output_machine_must_name_a_machine_of_its_line():
    config = bottling_site()
    config["lines"][0]["output_machine"] = "CAPPER"
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(config, origin="plant.yaml")
    assert str(error.value) == (
        "plant.yaml: lines[L1].output_machine: must name a machine of the line (FILLER, PACKER), got 'CAPPER'"
    )
    # the default is the line's last machine
    config["lines"][0].pop("output_machine")
    assert [line.output_machine for line in parse_plant_config(config).lines] == ["PACKER", "FILLER"]


def test_a_machine_without_an_energy_tag_has_no_energy_row_and_a_line_without_one_no_kwh(plant_factory):
    # The bottling site with only L1's FILLER metered: L1's PACKER and both machines of L2 have no energy
    # tag (their meters' points land as unmapped tags). Their energy is unknown, not 0 kWh.
    config = bottling_site()
    for line in config["lines"]:
        for spec in line["machines"]:
            if (line["name"], spec["name"]) != ("L1", "FILLER"):
                spec.pop("energy_kwh_tag")
    plant = plant_factory(config)
    plant.export("History_20260302.csv", SITE_ROWS)
    plant.land()
    plant.build_day("2026-03-02")
    rows = mart(
        plant,
        "select level, line, machine, kwh_total, good_count, kwh_per_good_unit from energy_daily "
        "order by level, line, machine",
    )
    # one machine row: L1.FILLER, 10 kWh/h x 24 h = 240 kWh over its own 39,600 good bottles.
    # L1: 240 kWh over the line's output, the packer's 6,400 good packs = 0.0375 kWh per pack.
    # L2: no metered machine, so no kWh and no kWh per unit; its output is still the FILLER's 49,000.
    # site: 240 kWh (the metered machines) over the lines' outputs 6,400 + 49,000 = 55,400.
    assert [
        (lv, ln, m, None if k is None else round(k, 6), g, None if u is None else round(u, 9))
        for lv, ln, m, k, g, u in rows
    ] == [
        ("line", "L1", None, 240.0, 6_400, round(240 / 6_400, 9)),
        ("line", "L2", None, None, 49_000, None),
        ("machine", "L1", "FILLER", 240.0, 39_600, round(240 / 39_600, 9)),
        ("site", None, None, 240.0, 55_400, round(240 / 55_400, 9)),
    ]
