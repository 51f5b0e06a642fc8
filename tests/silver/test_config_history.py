"""The difference between two plant configurations in words, and the hash of a plant YAML."""

from __future__ import annotations

import copy

import yaml

from assets.plant.config import parse_plant_config
from assets.silver.config_history import calendar_changes, config_sha256, diff_configs
from tests.helpers.plant import one_machine_config


def _config(raw: dict):
    return parse_plant_config(copy.deepcopy(raw))


def test_every_kind_of_change_is_one_line_naming_the_old_and_new_value():
    old = one_machine_config(
        shifts=[
            {"name": "early", "start": "06:00", "end": "14:00"},
            {"name": "late", "start": "14:00", "end": "22:00"},
        ],
        breaks=[{"name": "lunch", "start": "10:00", "end": "10:30"}],
    )
    old["lines"][0]["machines"].append(
        {
            "name": "PACKER",
            "ideal_cycle_time_s": 2.0,
            "state_tag": "L1.PACKER.State",
            "states": {1: "running"},
            "total_count_tag": "L1.PACKER.Total",
            "good_count_tag": "L1.PACKER.Good",
        }
    )
    new = copy.deepcopy(old)
    new["plant"]["timezone"] = "America/New_York"
    new["calendar"]["day_start"] = "07:00"
    new["calendar"]["shifts"] = [
        {"name": "early", "start": "07:00", "end": "15:00"},
        {"name": "night", "start": "22:00", "end": "06:00"},
    ]
    new["calendar"]["breaks"] = [{"name": "lunch", "start": "11:00", "end": "11:30"}]
    filler = new["lines"][0]["machines"][0]
    filler["state_tag"] = "L1.FILLER.Status"
    filler["ideal_cycle_time_s"] = 0.8
    filler["counter_rollover"] = 65536
    del new["lines"][0]["machines"][1]
    new["lines"][0]["machines"].append({"name": "CAPPER", "power_kw_tag": "L1.CAPPER.kW"})

    lines = diff_configs(_config(old), _config(new))

    assert lines == [
        "time zone: Europe/Berlin \u2192 America/New_York",
        "day_start: 06:00 \u2192 07:00",
        "shift early: 06:00-14:00 \u2192 07:00-15:00",
        "shift removed: late 14:00-22:00",
        "shift added: night 22:00-06:00",
        "break lunch: 10:00-10:30 \u2192 11:00-11:30",
        "machine removed: L1/PACKER",
        "machine added: L1/CAPPER",
        "tag renamed on L1/FILLER (state): L1.FILLER.State \u2192 L1.FILLER.Status",
        "ideal_cycle_time_s on L1/FILLER: 1 \u2192 0.8",
        "other settings changed on L1/FILLER: counter_rollover",
        # the source names no time zone of its own: it takes the plant's, for times without an offset
        "source historian time zone: Europe/Berlin \u2192 America/New_York",
    ]
    assert calendar_changes(lines) == lines[:2]


def test_a_counter_tag_renamed_added_or_removed_names_its_role():
    old = one_machine_config()
    new = copy.deepcopy(old)
    machine = new["lines"][0]["machines"][0]
    machine["total_count_tag"] = "L1.FILLER.Count"
    del machine["reject_count_tag"]
    machine["good_count_tag"] = "L1.FILLER.Good"
    del machine["energy_kwh_tag"]
    machine["power_kw_tag"] = "L1.FILLER.kW"

    assert diff_configs(_config(old), _config(new)) == [
        "tag removed on L1/FILLER (energy_meter): L1.FILLER.kWh",
        "tag added on L1/FILLER (energy_power): L1.FILLER.kW",
        "tag added on L1/FILLER (good_count): L1.FILLER.Good",
        "tag removed on L1/FILLER (reject_count): L1.FILLER.Reject",
        "tag renamed on L1/FILLER (total_count): L1.FILLER.Total \u2192 L1.FILLER.Count",
    ]


def test_the_same_configuration_has_no_difference_and_the_same_hash_whatever_its_layout():
    raw = one_machine_config()
    text = yaml.safe_dump(raw, sort_keys=True)
    relaid = "# a comment\n" + yaml.safe_dump(raw, sort_keys=False, default_flow_style=True)
    assert diff_configs(_config(raw), _config(raw)) == []
    assert config_sha256(text) == config_sha256(relaid)
    changed = copy.deepcopy(raw)
    changed["calendar"]["day_start"] = "07:00"
    assert config_sha256(yaml.safe_dump(changed)) != config_sha256(text)
