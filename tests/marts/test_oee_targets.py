"""OEE targets from the plant YAML: every OEE mart carries the target of its machine, line or site and the
gap to it, dim_machine all of a machine's targets; a bad target is refused naming its key path."""

from __future__ import annotations

import pytest

from assets.plant.config import PlantConfigError, parse_plant_config
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import mart


def targeted_config() -> dict:
    # Line L1 with A then B, ideal cycle time 60 s; one shift 06:00-11:00 (300 min), Mondays. Targets: the
    # site 50 %, the line 60 %, A 85 % (availability 95 %, rate 90 %); B has none.
    config = one_machine_config(shifts=[{"name": "early", "start": "06:00", "end": "11:00"}], working_days=["mon"])
    base = config["lines"][0]["machines"][0]
    machines = []
    for name in ("A", "B"):
        machine = dict(base, name=name, ideal_cycle_time_s=60.0, state_tag=f"L1.{name}.State")
        machine.update(total_count_tag=f"L1.{name}.Total", reject_count_tag=f"L1.{name}.Reject")
        machine.pop("energy_kwh_tag")
        machines.append(machine)
    machines[0]["targets"] = {"oee": 0.85, "availability": 0.95, "rate": 0.9}
    config["lines"][0]["machines"] = machines
    config["lines"][0]["targets"] = {"oee": 0.6}
    config["plant"]["targets"] = {"oee": 0.5}
    return config


@pytest.fixture
def targeted_plant(plant_factory):
    plant = plant_factory(targeted_config())
    plant.export(
        "h.csv",
        [
            # A: run 06:00-07:30 (90 min), jam 07:30-07:40, not scheduled 07:40-11:00: planned 100 min, 80 units.
            r("2026-03-02 05:00:00", "L1.A.State", 1),
            r("2026-03-02 07:30:00", "L1.A.State", 3),
            r("2026-03-02 07:40:00", "L1.A.State", 4),
            r("2026-03-02 05:59:00", "L1.A.Total", 0),
            r("2026-03-02 05:59:00", "L1.A.Reject", 0),
            r("2026-03-02 07:00:00", "L1.A.Total", 80),
            # B: run 06:00-08:30 (150 min), breakdown 08:30-11:00; 150 units, 15 rejected.
            r("2026-03-02 05:00:00", "L1.B.State", 1),
            r("2026-03-02 08:30:00", "L1.B.State", 3),
            r("2026-03-02 05:59:00", "L1.B.Total", 0),
            r("2026-03-02 05:59:00", "L1.B.Reject", 0),
            r("2026-03-02 08:00:00", "L1.B.Total", 150),
            r("2026-03-02 08:00:00", "L1.B.Reject", 15),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    return plant


def _rounded(rows):
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in row) for row in rows]


def test_every_oee_mart_carries_its_target_and_the_gap_to_it(targeted_plant):
    plant = targeted_plant
    # A: fully productive 80 x 60 s = 80 min of 100 planned: OEE 0.80, 0.05 below its 0.85 target.
    # B: fully productive 135 x 60 s = 135 min of 300 planned: OEE 0.45, no target, so no gap.
    expected_machines = [("A", 0.8, 0.85, -0.05), ("B", 0.45, None, None)]
    for table in ("oee_daily", "oee_shift", "oee_weekly", "oee_monthly"):
        rows = mart(plant, f"select machine, oee, oee_target, oee_target_gap from {table} order by machine")
        assert _rounded(rows) == expected_machines, table
    # The line and the site: 80 + 135 = 215 min fully productive of 400 planned = 0.5375;
    # 0.5375 - 0.60 = -0.0625 below the line's target, 0.5375 - 0.50 = +0.0375 above the site's.
    for table in ("oee_line_daily", "oee_line_shift", "oee_line_weekly", "oee_line_monthly"):
        rows = mart(plant, f"select line, oee, oee_target, oee_target_gap from {table}")
        assert _rounded(rows) == [("L1", 0.5375, 0.6, -0.0625)], table
    for table in ("oee_site_daily", "oee_site_weekly", "oee_site_monthly"):
        rows = mart(plant, f"select site, oee, oee_target, oee_target_gap from {table}")
        assert _rounded(rows) == [("Hamburg", 0.5375, 0.5, 0.0375)], table


def test_dim_machine_holds_every_target_of_a_machine(targeted_plant):
    rows = mart(
        targeted_plant,
        "select machine, oee_target, availability_target, performance_target, quality_target, target_rate "
        "from dim_machine order by machine",
    )
    assert rows == [("A", 0.85, 0.95, None, None, 0.9), ("B", None, None, None, None, None)]


@pytest.mark.parametrize(
    ("where", "bad", "message"),
    [
        ("machine", {"oee": 75}, "lines[L1].machines[FILLER].targets.oee: must be a fraction above 0 and at most 1"),
        ("line", {"oee": 0.7, "speed": 1}, "lines[L1].targets.speed"),
        ("site", {"quality": 0}, "plant.targets.quality: must be a fraction above 0 and at most 1"),
        ("line", {"rate": 0.9}, "lines[L1].targets.rate"),
    ],
)
def test_a_bad_target_is_refused_naming_its_key(where, bad, message):
    config = one_machine_config()
    node = {"machine": config["lines"][0]["machines"][0], "line": config["lines"][0], "site": config["plant"]}[where]
    node["targets"] = bad
    with pytest.raises(PlantConfigError) as caught:
        parse_plant_config(config, "plant.yaml")
    assert message in str(caught.value)


def test_the_demo_plant_sets_targets():
    from assets.plant.config import DEFAULT_PLANT_CONFIG, load_plant_config

    config = load_plant_config(DEFAULT_PLANT_CONFIG)
    assert config.plant.targets.oee is not None
    assert all(line.targets.oee is not None for line in config.lines)
