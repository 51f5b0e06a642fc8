"""The plant YAML: the demo loads, and every mistake is named by its key."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from assets.plant.config import DEFAULT_PLANT_CONFIG, PlantConfigError, load_plant_config, parse_plant_config
from tests.helpers.plant import one_machine_config


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
        (
            ["sources", 0, "folder"],
            "../etc",
            "sources[historian].folder: must be a relative folder inside LANDING_ROOT",
        ),
        (
            ["lines", 0, "machines", 0, "ideal_cycle_time_s"],
            -1,
            "lines[L1].machines[FILLER].ideal_cycle_time_s: must be a",
        ),
        (
            ["lines", 0, "machines", 0, "states", 3],
            "broken",
            "lines[L1].machines[FILLER].states.3.category: must be one of",
        ),
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
    assert str(error.value).startswith(
        "plant.yaml: sources[logger].options.delimter: is not an option of format sensor_csv"
    )
    raw["sources"][0]["options"] = {"delimiter": ";", "decimal_comma": True}
    options = parse_plant_config(raw).sources[0].options
    assert (options["delimiter"], options["decimal_comma"], options["interval_label"]) == (";", True, "start")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a misspelt key is answered with the closest known key of its place
        (
            lambda raw: raw["lines"][0]["machines"][0].update(ideal_cycle_tim_s=1),
            "lines[L1].machines[FILLER].ideal_cycle_tim_s: is not a known key; did you mean ideal_cycle_time_s?",
        ),
        (lambda raw: raw.update(modeling={}), "modeling: is not a known key; did you mean modelling?"),
        (lambda raw: raw["calendar"].update(day_begin="06:00"), "calendar.day_begin: is not a known key"),
        (
            lambda raw: raw["sources"][0].update(options={"delimter": ";"}),
            "sources[historian].options.delimter: is not an option of format aveva_historian_csv; known: delimiter, "
            "earliest_timestamp, encoding, latest_timestamp_ahead_s, max_compression_ratio, max_line_bytes, "
            "max_uncompressed_mb, timestamp_format; did you mean delimiter?",
        ),
        # an item without a usable name is named by its index
        (lambda raw: raw["lines"][0]["machines"][0].pop("name"), "lines[L1].machines[0].name: is required"),
        (
            lambda raw: raw["calendar"]["breaks"].append({"name": "lunch", "start": "12:00", "end": "12:00"}),
            "calendar.breaks[lunch]: a break cannot start and end at the same time",
        ),
        (
            lambda raw: raw["lines"].append(
                {"name": "L2", "area": "Bottling", "machines": [{"name": "METER", "energy_kwh_tag": "L1.FILLER.kWh"}]}
            ),
            "lines[L2].machines[METER]: tag 'L1.FILLER.kWh' is already used by L1/FILLER",
        ),
    ],
)
def test_mistakes_name_list_items_and_suggest_the_key_meant(edit, message):
    raw = one_machine_config()
    edit(raw)
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(raw, origin="plant.yaml")
    # the whole message: the close match only where one key is close ("day_begin" is close to none)
    assert str(error.value) == "plant.yaml: " + message


def test_the_plant_config_is_read_without_the_readers():
    # the configuration layer sits below the readers: reading a plant with source options loads no reader
    code = (
        "import sys\n"
        "from assets.plant.config import DEFAULT_PLANT_CONFIG, load_plant_config\n"
        "assert load_plant_config(DEFAULT_PLANT_CONFIG).sources[0].options['encoding'] == 'utf-8'\n"
        "print(sorted(m for m in sys.modules if m.startswith('assets.readers')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
