"""A machine's sensor_tags: each tag belongs to one machine at most, and is no tag of any machine's model."""

from __future__ import annotations

import pytest

from assets.plant.config import PlantConfigError, parse_plant_config
from tests.helpers.plant import one_machine_config


def _with_sensors(*tags, machine=0) -> dict:
    raw = one_machine_config()
    raw["lines"][0]["machines"].append({"name": "PUMP", "power_kw_tag": "L1.PUMP.kW"})
    raw["lines"][0]["machines"][machine]["sensor_tags"] = list(tags)
    return raw


def test_sensor_tags_are_read_for_oee_machines_and_monitoring_assets():
    raw = _with_sensors("L1.FILLER.Temp", "L1.FILLER.Vibration")
    raw["lines"][0]["machines"][1]["sensor_tags"] = ["L1.PUMP.Pressure"]
    filler, pump = parse_plant_config(raw).machines
    assert filler.sensor_tags == ("L1.FILLER.Temp", "L1.FILLER.Vibration")
    assert pump.sensor_tags == ("L1.PUMP.Pressure",) and not pump.has_oee
    assert parse_plant_config(one_machine_config()).machines[0].sensor_tags == ()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # one machine's sensor is another machine's sensor
        (
            lambda raw: raw["lines"][0]["machines"][1].update(sensor_tags=["L1.FILLER.Temp"]),
            "lines[L1].machines[PUMP]: tag 'L1.FILLER.Temp' is already used by L1/FILLER",
        ),
        # a sensor tag that is a tag of the machine model (the pump's power reading)
        (
            lambda raw: raw["lines"][0]["machines"][0].update(sensor_tags=["L1.FILLER.Temp", "L1.PUMP.kW"]),
            "lines[L1].machines[PUMP]: tag 'L1.PUMP.kW' is already used by L1/FILLER",
        ),
        # listed twice on the same machine
        (
            lambda raw: raw["lines"][0]["machines"][0].update(sensor_tags=["L1.FILLER.Temp", "L1.FILLER.Temp"]),
            "lines[L1].machines[FILLER]: tag 'L1.FILLER.Temp' is already used by L1/FILLER",
        ),
        (
            lambda raw: raw["lines"][0]["machines"][0].update(sensor_tags="L1.FILLER.Temp"),
            "lines[L1].machines[FILLER].sensor_tags: must be a list of tags such as [L1.FILLER.Temp], "
            "got 'L1.FILLER.Temp'",
        ),
        (
            lambda raw: raw["lines"][0]["machines"][0].update(sensor_tags=["bad'quote"]),
            "lines[L1].machines[FILLER].sensor_tags[0]: must be a tag name without quotes or control characters",
        ),
    ],
)
def test_a_sensor_tag_used_twice_or_malformed_is_refused(edit, message):
    raw = _with_sensors("L1.FILLER.Temp")
    edit(raw)
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(raw, origin="plant.yaml")
    assert str(error.value).startswith("plant.yaml: " + message), str(error.value)
