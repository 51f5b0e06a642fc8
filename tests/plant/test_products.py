"""The product catalog and changeover targets of the plant YAML: ideal cycle times per machine and product,
and every mistake named with its key path."""

from __future__ import annotations

import pytest

from assets.plant.config import PlantConfigError, parse_plant_config
from tests.helpers.plant import one_machine_config


def _with_products() -> dict:
    raw = one_machine_config()
    raw["lines"][0]["machines"].append(
        {**raw["lines"][0]["machines"][0], "name": "PACKER", "ideal_cycle_time_s": 3.0}
        | {k: v.replace("FILLER", "PACKER") for k, v in raw["lines"][0]["machines"][0].items() if k.endswith("_tag")}
    )
    raw["products"] = [
        {"id": "033", "name": "0.33 l bottle", "ideal_cycle_time_s": 0.5, "machines": {"PACKER": 2.0}},
        {"id": "100", "name": "1 l bottle", "ideal_cycle_time_s": 1.2},
    ]
    raw["changeovers"] = {"default_target_s": 1800, "targets": [{"from": "033", "to": "100", "target_s": 2400}]}
    return raw


def test_a_machine_makes_each_product_at_its_own_ideal_cycle_time():
    config = parse_plant_config(_with_products())
    filler, packer = config.oee_machines
    # the product's own cycle, the machine's override, and the machine's own for no or an unknown product
    assert config.ideal_cycle_time_s(filler, "033") == 0.5
    assert config.ideal_cycle_time_s(packer, "033") == 2.0
    assert config.ideal_cycle_time_s(packer, "100") == 1.2
    assert config.ideal_cycle_time_s(filler, None) == filler.ideal_cycle_time_s
    assert config.ideal_cycle_time_s(packer, "999") == 3.0
    assert config.changeovers.target_s("033", "100") == 2400
    assert config.changeovers.target_s("100", "033") == 1800
    assert ("L1", "PACKER", "unknown", "unknown product", 3.0) in config.product_cycle_rows()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda raw: raw["products"].append(dict(raw["products"][0])),
            "products[2].id: product id '033' is listed twice",
        ),
        (
            lambda raw: raw["products"][0].update(machines={"CAPPER": 1.0}),
            "products[0].machines.CAPPER: 'CAPPER' names no machine with OEE",
        ),
        (
            lambda raw: raw["products"][0].update(id="unknown"),
            "products[0].id: must be a non-empty id other than 'unknown'",
        ),
        (
            lambda raw: raw["products"][0].update(ideal_cycle_time_s=0),
            "products[0].ideal_cycle_time_s: must be a positive number",
        ),
        (
            lambda raw: raw["changeovers"]["targets"][0].update(to="250"),
            "changeovers.targets[0].to: '250' is not a product id of the catalog (033, 100)",
        ),
        (lambda raw: raw["changeovers"].update(until="speed"), "changeovers.until: must be count or rate, got 'speed'"),
        (
            lambda raw: raw["changeovers"]["targets"][0].update(to="033"),
            "changeovers.targets[0]: a changeover goes from one product to another, got 033 -> 033",
        ),
        # `id: 033` unquoted: YAML reads the octal number 27
        (
            lambda raw: raw["products"][0].update(id=27),
            'products[0].id: must be text: quote it, as in id: "033", got the number 27 (an unquoted id with a '
            "leading 0 reads as an octal number)",
        ),
        (
            lambda raw: raw["changeovers"]["targets"][0].update({"from": 100}),
            'changeovers.targets[0].from: must be text: quote it, as in id: "033", got the number 100',
        ),
    ],
)
def test_a_wrong_product_or_changeover_is_named(edit, message):
    raw = _with_products()
    edit(raw)
    with pytest.raises(PlantConfigError) as error:
        parse_plant_config(raw, origin="plant.yaml")
    assert message in str(error.value)
