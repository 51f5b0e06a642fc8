"""A machine role's earlier tag names, from plant_config_history, read as the history of its current tag."""

from __future__ import annotations

import datetime as dt

import yaml

from assets.plant.calendar import production_day_window
from assets.plant.config import parse_plant_config
from assets.silver.config_history import check_config, diff_configs, record_config
from assets.silver.counts import count_points
from assets.silver.energy import energy_points
from assets.silver.points import register_points
from assets.silver.sensors import sensor_points
from assets.silver.states import machine_state_points
from assets.silver.tag_aliases import Alias, Skipped, load_aliases, resolve_aliases
from assets.silver.tag_quality import tag_quality_points
from assets.storage import delta_read
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config

UTC = dt.UTC
ARROW = "\u2192"


def _machine(name: str, state: str, total: str, **tags) -> dict:
    return (
        {"name": name, "ideal_cycle_time_s": 1.0, "state_tag": state, "states": {1: "running"}}
        | {"total_count_tag": total}
        | tags
    )


def _plant(*lines: tuple[str, list[dict]]) -> dict:
    raw = one_machine_config()
    raw["lines"] = [{"name": name, "area": "Bottling", "machines": machines} for name, machines in lines]
    return raw


# v1 (oldest), v2, then the current configuration
V1 = _plant(
    (
        "L1",
        [
            _machine(
                "FILLER",
                "L1.FILLER.State",
                "L1.FILLER.Total",
                reject_count_tag="L1.FILLER.Reject",
                energy_kwh_tag="L1.FILLER.kWh",
            ),
            _machine("PACKER", "L1.PACKER.State", "L1.PACKER.Total", good_count_tag="L1.PACKER.Good"),
            _machine("CAPPER", "L1.State", "L1.CAPPER.T1", good_count_tag="L1.CAPPER.Good"),
        ],
    ),
    ("L2", [_machine("MIXER", "L2.MIXER.State", "L2.MIXER.Total", good_count_tag="L2.MIXER.Good")]),
)
V2 = _plant(
    (
        "L1",
        [
            _machine(
                "FILLER",
                "L1.FILLER.Status",
                "L1.FILLER.Total",
                reject_count_tag="L1.FILLER.Reject",
                energy_kwh_tag="L1.FILLER.kWh",
            ),
            _machine("PACKER", "L1.State", "L1.PACKER.Count", good_count_tag="L1.PACKER.Good"),
            _machine("CAPPER", "L1.CAPPER.State", "L1.CAPPER.T2", good_count_tag="L1.CAPPER.Good"),
        ],
    ),
    ("L2", [_machine("MIXER", "L2.MIXER.State", "L2.MIXER.Total", good_count_tag="L2.MIXER.Good")]),
)
CURRENT = _plant(
    (
        "L1",
        [
            _machine(
                "FILLER",
                "L1.FILLER.Status2",
                "L1.FILLER.Total",
                reject_count_tag="L1.FILLER.Rej",
                power_kw_tag="L1.FILLER.kW",
            ),
            _machine("PACKER", "L1.FILLER.State", "L1.PACKER.Total", good_count_tag="L1.PACKER.Good"),
            _machine("CAPPER", "L1.CAPPER.State", "L1.CAPPER.T3", good_count_tag="L1.CAPPER.Good"),
        ],
    ),
)


def test_each_roles_earlier_names_are_aliases_unless_another_role_uses_them_or_two_tags_had_them():
    current = parse_plant_config(CURRENT)
    aliases = resolve_aliases(current, [parse_plant_config(V2), parse_plant_config(V1)])  # most recent first

    # By machine (FILLER, PACKER, CAPPER as configured) and role (sorted), the names by hand:
    # FILLER reject_count: Reject (v1, v2) -> Rej. FILLER state: Status (v2) -> Status2; State (v1) is
    #   PACKER's state tag now, so not an alias. FILLER energy: meter (kWh) became power (kW), another role.
    # PACKER state: L1.State (v2) was also CAPPER's state tag in v1, so it cannot be told apart;
    #   L1.PACKER.State (v1) -> L1.FILLER.State. PACKER total: Count (v2) -> Total (v1's name again).
    # CAPPER state: L1.State (v1), the same clash. CAPPER total: T2 (v2, more recent first), T1 (v1) -> T3.
    # MIXER on L2 is gone: its names are nobody's aliases.
    assert aliases.aliases == (
        Alias("L1/FILLER", "reject_count", "L1.FILLER.Rej", "L1.FILLER.Reject"),
        Alias("L1/FILLER", "state", "L1.FILLER.Status2", "L1.FILLER.Status"),
        Alias("L1/PACKER", "state", "L1.FILLER.State", "L1.PACKER.State"),
        Alias("L1/PACKER", "total_count", "L1.PACKER.Total", "L1.PACKER.Count"),
        Alias("L1/CAPPER", "total_count", "L1.CAPPER.T3", "L1.CAPPER.T2"),
        Alias("L1/CAPPER", "total_count", "L1.CAPPER.T3", "L1.CAPPER.T1"),
    )
    assert dict(aliases.pairs) == {
        "L1.FILLER.Reject": "L1.FILLER.Rej",
        "L1.FILLER.Status": "L1.FILLER.Status2",
        "L1.PACKER.State": "L1.FILLER.State",
        "L1.PACKER.Count": "L1.PACKER.Total",
        "L1.CAPPER.T2": "L1.CAPPER.T3",
        "L1.CAPPER.T1": "L1.CAPPER.T3",
    }
    assert aliases.skipped == (
        Skipped(
            "L1/FILLER", "state", "L1.FILLER.Status2", "L1.FILLER.State", "L1/PACKER (state) uses L1.FILLER.State now"
        ),
        Skipped(
            "L1/PACKER",
            "state",
            "L1.FILLER.State",
            "L1.State",
            "L1.State was also an earlier name of L1.CAPPER.State on L1/CAPPER (state)",
        ),
        Skipped(
            "L1/CAPPER",
            "state",
            "L1.CAPPER.State",
            "L1.State",
            "L1.State was also an earlier name of L1.FILLER.State on L1/PACKER (state)",
        ),
    )

    # what `run` prints: after each rename, how its earlier name is read; the other skipped names last
    said = aliases.said(diff_configs(parse_plant_config(V2), current))
    assert said == [
        "machine removed: L2/MIXER",
        f"tag renamed on L1/CAPPER (total_count): L1.CAPPER.T2 {ARROW} L1.CAPPER.T3",
        "the points of L1.CAPPER.T2 are read as the history of L1.CAPPER.T3",
        "tag removed on L1/FILLER (energy_meter): L1.FILLER.kWh",
        "tag added on L1/FILLER (energy_power): L1.FILLER.kW",
        f"tag renamed on L1/FILLER (reject_count): L1.FILLER.Reject {ARROW} L1.FILLER.Rej",
        "the points of L1.FILLER.Reject are read as the history of L1.FILLER.Rej",
        f"tag renamed on L1/FILLER (state): L1.FILLER.Status {ARROW} L1.FILLER.Status2",
        "the points of L1.FILLER.Status are read as the history of L1.FILLER.Status2",
        f"tag renamed on L1/PACKER (state): L1.State {ARROW} L1.FILLER.State",
        "the points of L1.State are not read as the history of L1.FILLER.State: L1.State was also an earlier "
        "name of L1.CAPPER.State on L1/CAPPER (state)",
        f"tag renamed on L1/PACKER (total_count): L1.PACKER.Count {ARROW} L1.PACKER.Total",
        "the points of L1.PACKER.Count are read as the history of L1.PACKER.Total",
        "the points of L1.FILLER.State are not read as the history of L1.FILLER.Status2: L1/PACKER (state) uses "
        "L1.FILLER.State now",
        "the points of L1.State are not read as the history of L1.CAPPER.State: L1.State was also an earlier "
        "name of L1.FILLER.State on L1/PACKER (state)",
    ]


def test_the_aliases_are_read_from_the_history_table_and_said_by_the_config_check(tmp_path):
    root = str(tmp_path / "lakehouse")
    paths = []
    for i, raw in enumerate((V1, V2, CURRENT)):
        path = tmp_path / f"plant{i}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        paths.append(path)
    now = dt.datetime(2026, 3, 2, tzinfo=UTC)
    for i, path in enumerate(paths[:2]):
        assert record_config(root, str(path), dt.date(2026, 3, 2 + i), None, now=now + dt.timedelta(hours=i))
    current = parse_plant_config(CURRENT)

    # the same history as the pure test above, read from Delta (v2 used last, so its names come first)
    assert dict(load_aliases(root, current).pairs) == {
        "L1.FILLER.Reject": "L1.FILLER.Rej",
        "L1.FILLER.Status": "L1.FILLER.Status2",
        "L1.PACKER.State": "L1.FILLER.State",
        "L1.PACKER.Count": "L1.PACKER.Total",
        "L1.CAPPER.T2": "L1.CAPPER.T3",
        "L1.CAPPER.T1": "L1.CAPPER.T3",
    }
    assert [a.alias for a in load_aliases(root, current).aliases if a.tag == "L1.CAPPER.T3"] == [
        "L1.CAPPER.T2",
        "L1.CAPPER.T1",
    ]
    changes = check_config(root, current, str(paths[2])).changes
    assert "the points of L1.FILLER.Status are read as the history of L1.FILLER.Status2" in changes
    assert changes[-1] == (
        "the points of L1.State are not read as the history of L1.CAPPER.State: L1.State was also an earlier "
        "name of L1.FILLER.State on L1/PACKER (state)"
    )
    # no history, no aliases
    assert load_aliases(str(tmp_path / "empty"), current).pairs == ()


def _renamed_filler() -> dict:
    raw = one_machine_config()
    machine = raw["lines"][0]["machines"][0]
    machine |= {"state_tag": "L1.FILLER.Status", "total_count_tag": "L1.FILLER.Count"}
    del machine["energy_kwh_tag"]
    machine["energy_kwh_tag"] = "L1.FILLER.Energy"
    return raw


def test_the_points_of_an_earlier_name_are_read_under_the_current_one_and_the_current_name_wins_at_a_tie(
    plant_factory,
):
    plant = plant_factory()  # State, Total, Reject, kWh
    # Berlin is UTC+1 in March: local 07:00 is 06:00 UTC
    plant.export(
        "h.csv",
        [
            r("2026-03-02 07:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 09:00:00", "L1.FILLER.State", 3),
            r("2026-03-02 08:00:00", "L1.FILLER.Total", 10),
            r("2026-03-02 07:00:00", "L1.FILLER.kWh", 100),
            r("2026-03-02 12:00:00", "L1.FILLER.kWh", 105),
            # the historian's switch: both names at Tuesday 06:30, the new name's point is the state
            r("2026-03-03 06:30:00", "L1.FILLER.State", 1),
            r("2026-03-03 06:30:00", "L1.FILLER.Status", 2),
            r("2026-03-03 07:00:00", "L1.FILLER.Status", 1),
            r("2026-03-03 08:00:00", "L1.FILLER.Count", 20),
            r("2026-03-03 08:00:00", "L1.FILLER.Temp", 40.5),
        ],
    )
    plant.land()
    config_path = plant.tmp_path / "renamed.yaml"
    config_path.write_text(yaml.safe_dump(_renamed_filler()), encoding="utf-8")
    record_config(str(plant.root), str(plant.config_path), dt.date(2026, 3, 2), None)
    record_config(str(plant.root), str(config_path), dt.date(2026, 3, 3), None)
    config = parse_plant_config(_renamed_filler())
    aliases = load_aliases(str(plant.root), config)
    assert aliases.pairs == (
        ("L1.FILLER.kWh", "L1.FILLER.Energy"),
        ("L1.FILLER.State", "L1.FILLER.Status"),
        ("L1.FILLER.Total", "L1.FILLER.Count"),
    )
    lakehouse = plant.resource.lakehouse()
    # Tuesday's production day: 06:00 local (05:00 UTC) to Wednesday 05:00 UTC
    tuesday = production_day_window(config, dt.date(2026, 3, 3))
    monday = production_day_window(config, dt.date(2026, 3, 2))

    def read(selection, sql: str, window=tuesday) -> list[tuple]:
        with delta_read.duckdb_session() as con:
            register_points(con, lakehouse, config, window, selection)
            return con.sql(sql).fetchall()

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    points = "select tag, ts, value from points order by tag, ts"
    # the state points over the look-back, Monday's under the new name; at 05:30 UTC both names had a
    # point: Status's 2 is kept, State's 1 is not
    assert read(machine_state_points(config, aliases), points) == [
        ("L1.FILLER.Status", at(2, 6), 1.0),
        ("L1.FILLER.Status", at(2, 8), 3.0),
        ("L1.FILLER.Status", at(3, 5, 30), 2.0),
        ("L1.FILLER.Status", at(3, 6), 1.0),
    ]
    assert read(count_points(config, aliases), points) == [
        ("L1.FILLER.Count", at(2, 7), 10.0),
        ("L1.FILLER.Count", at(3, 7), 20.0),
    ]
    # the energy points, and the last point ever landed under either name (only kWh's so far, Monday 11:00 UTC)
    assert read(energy_points(config, aliases), points, monday) == [
        ("L1.FILLER.Energy", at(2, 6), 100.0),
        ("L1.FILLER.Energy", at(2, 11), 105.0),
    ]
    assert read(energy_points(config, aliases), "select tag, last_seen from tag_last_seen", monday) == [
        ("L1.FILLER.Energy", at(2, 11)),
    ]
    # an earlier state tag is no sensor: Tuesday's State point is not a sensor interval
    assert read(sensor_points(config, aliases), "select distinct tag from points") == [("L1.FILLER.Temp",)]
    # tag quality: the day's points and the look-back's last point under the current name (Monday 08:00 UTC)
    assert read(tag_quality_points(config, aliases), points) == [
        ("L1.FILLER.Count", at(3, 7), 20.0),
        ("L1.FILLER.Status", at(3, 5, 30), 2.0),
        ("L1.FILLER.Status", at(3, 6), 1.0),
        ("L1.FILLER.Temp", at(3, 7), 40.5),
    ]
    assert read(tag_quality_points(config, aliases), "select tag, ts from points_before_day order by tag") == [
        ("L1.FILLER.Count", at(2, 7)),
        ("L1.FILLER.Energy", at(2, 11)),
        ("L1.FILLER.Status", at(2, 8)),
    ]


def test_a_day_rebuilt_after_its_state_and_counter_tags_were_renamed_keeps_its_oee(plant_factory):
    plant = plant_factory()
    plant.export(
        "mon.csv",
        [
            r("2026-03-02 07:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 07:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 14:00:00", "L1.FILLER.Total", 12_600),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")  # records the first YAML in plant_config_history
    before = plant.oee("2026-03-02")
    plant.config_path.write_text(yaml.safe_dump(_renamed_filler()), encoding="utf-8")
    plant.build_day("2026-03-02")  # rebuilt with the renamed tags (Status, Count)
    after = plant.oee("2026-03-02")

    # By hand: the early shift 06:00..14:00 is 8 h planned; running from 07:00, 7 h = 25,200 s: availability
    # 7 / 8. The 07:00 reading has none before it and counts nothing; 14:00 counts 12,600 - 0 = 12,600. At the
    # ideal 1 s per unit, performance 12,600 / 25,200 = 0.5. Reading only the new names: no state (0 h run)
    # and no count.
    expected = {"availability": 0.875, "run_time_s": 25_200, "total_count": 12_600, "performance": 0.5}
    assert {k: before[k] for k in expected} == expected
    assert {k: after[k] for k in expected} == expected
