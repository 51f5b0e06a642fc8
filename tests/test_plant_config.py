"""The plant YAML: the demo loads, and every mistake is named by its key."""

from __future__ import annotations

import datetime as dt

import pytest

from assets.core.plant import DEFAULT_PLANT_CONFIG, PlantConfigError, load_plant_config, parse_plant_config
from conftest import one_machine_config


def test_the_demo_plant_loads():
    config = load_plant_config(DEFAULT_PLANT_CONFIG)
    assert config.site == "Hamburg" and config.timezone == "Europe/Berlin"
    assert config.calendar.day_start == dt.time(6, 0)
    assert [line.name for line in config.lines] == ["L1", "L2"]
    assert len(config.machines) == 6
    filler = config.machines[0]
    assert filler.states["2"].category == "planned_stop" and filler.states["2"].reason == "Changeover"
    assert filler.counter_tags == {"total": "L1.FILLER.Total", "reject": "L1.FILLER.Reject"}
    assert filler.microstop_threshold_s == 120.0
    assert filler.counter_backstep_tolerance == 10


def broken(path: list, value):
    raw = one_machine_config()
    node = raw
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["plant", "timezone"], "Europe/Hamburg", "plant.timezone: is not a known IANA time zone: 'Europe/Hamburg'"),
        (["calendar", "day_start"], "6am", "calendar.day_start: must be a wall-clock time \"HH:MM\", got '6am'"),
        (["calendar", "working_days"], ["mon", "funday"], "calendar.working_days[1]: is not a weekday"),
        (["calendar", "shifts"], KeyError, "calendar.shifts: is required"),
        (
            ["calendar", "shifts"],
            [{"name": "a", "start": "06:00", "end": "14:00"}, {"name": "b", "start": "13:00", "end": "20:00"}],
            "calendar.shifts: shifts 'a' and 'b' overlap",
        ),
        (["sources", 0, "format"], "excel", "sources[historian].format: unknown format 'excel'"),
        (["sources", 0, "folder"], "../etc", "sources[historian].folder: must be a relative folder inside LANDING_ROOT"),
        (["lines", 0, "machines", 0, "ideal_cycle_time_s"], -1, "lines[L1].machines[FILLER].ideal_cycle_time_s: must be a"),
        (["lines", 0, "machines", 0, "states", 3], "broken", "lines[L1].machines[FILLER].states.3.category: must be one of"),
        (["lines", 0, "machines", 0, "reject_count_tag"], KeyError, "lines[L1].machines[FILLER]: needs two of"),
        (["lines", 0, "machines", 0, "speed"], 3, "lines[L1].machines[FILLER].speed: is not a known key"),
        (
            ["lines", 0, "machines", 0, "counter_backstep_tolerance"],
            -1,
            "lines[L1].machines[FILLER].counter_backstep_tolerance: must be a whole number of counts >= 0, got -1",
        ),
        (
            ["lines", 0, "machines", 0, "counter_backstep_tolerance"],
            2.5,
            "lines[L1].machines[FILLER].counter_backstep_tolerance: must be a whole number of counts >= 0, got 2.5",
        ),
    ],
)
def test_mistakes_are_named_by_their_key(path, value, message):
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(broken(path, value), origin="plant.yaml")
    assert str(error.value).startswith("plant.yaml: " + message)


def test_counter_backstep_tolerance_defaults_to_10_counts_and_may_be_0():
    assert parse_plant_config(one_machine_config()).machines[0].counter_backstep_tolerance == 10
    raw = one_machine_config()
    raw["lines"][0]["machines"][0]["counter_backstep_tolerance"] = 0
    assert parse_plant_config(raw).machines[0].counter_backstep_tolerance == 0


def test_state_codes_match_as_numbers_or_text():
    raw = one_machine_config()
    raw["lines"][0]["machines"][0]["states"] = {1: "running", "Stopped": "unplanned_stop"}
    states = parse_plant_config(raw).machines[0].states
    assert set(states) == {"1", "Stopped"}


def test_source_options_are_checked_when_the_config_loads():
    raw = one_machine_config()
    raw["sources"][0] = {"name": "logger", "format": "sensor_csv", "folder": "logger", "options": {"delimter": ";"}}
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(raw, origin="plant.yaml")
    assert str(error.value).startswith("plant.yaml: sources[logger].options.delimter: is not an option of format sensor_csv")
    raw["sources"][0]["options"] = {"delimiter": ";", "decimal_comma": True}
    options = parse_plant_config(raw).sources[0].options
    assert (options["delimiter"], options["decimal_comma"], options["interval_label"]) == (";", True, "start")
