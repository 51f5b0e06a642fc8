"""The plant YAML's JSON Schema and reference page are generated from the models and kept in step, and
the annotated demo plant.yaml names every key."""

from __future__ import annotations

import json
import re

from assets.plant.config import DEFAULT_PLANT_CONFIG
from assets.plant.docs import REFERENCE_FILE, SCHEMA_FILE, plant_json_schema, render_reference, render_schema
from assets.plant.source_formats import OPTION_DEFAULTS, OPTIONS

REGENERATE = "regenerate: python -m assets.plant.docs"


def test_the_committed_schema_is_the_models_schema():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), REGENERATE


def test_the_committed_reference_is_the_models_reference():
    assert REFERENCE_FILE.read_text(encoding="utf-8") == render_reference(), REGENERATE


def _plant_keys(node: dict, defs: dict) -> set[str]:
    # walked by hand here (not with plant_docs' own walker) so that a key the walker skipped is still found
    keys: set[str] = set()
    for key, prop in node.get("properties", {}).items():
        keys.add(key)
        values = prop.get("additionalProperties")
        values = values.get("anyOf", [values]) if isinstance(values, dict) else []
        for inner in (prop, prop.get("items", {}), *values):
            if "$ref" in inner:
                keys |= _plant_keys(defs[inner["$ref"].rsplit("/", 1)[1]], defs)
            elif "properties" in inner:
                keys |= _plant_keys(inner, defs)
    return keys


def test_every_key_is_in_the_schema_and_the_reference_with_a_description():
    schema = plant_json_schema()
    keys = _plant_keys(schema, schema["$defs"])
    # the YAML's keys as the README and the demo know them, spelt out so that a dropped key fails here
    assert {"plant", "site", "timezone", "calendar", "day_start", "working_days", "shifts", "breaks"} <= keys
    assert {"first_day", "sources", "format", "folder", "options", "lines", "area", "machines"} <= keys
    assert {"output_machine", "states", "category", "reason", "modelling", "state_lookback_days"} <= keys
    assert "line" not in keys  # a machine's line is handed down from the line, not written in the YAML
    reference = REFERENCE_FILE.read_text(encoding="utf-8")
    for defn in schema["$defs"].values():
        for key, prop in defn["properties"].items():
            assert prop.get("description"), f"{defn['title']}.{key} has no description"
    option_keys = {key for defaults in OPTION_DEFAULTS.values() for key in defaults}
    for fmt, model in OPTIONS.items():
        for key, field in model.model_fields.items():
            assert field.description, f"option {key} of {fmt} has no description"
    for key in keys | option_keys:
        assert re.search(rf"`[^`]*\b{key}`", reference), f"{key} is missing from {REFERENCE_FILE.name}"


def test_each_formats_options_complete_in_the_schema():
    sources = plant_json_schema()["$defs"]["Source"]
    then = {rule["if"]["properties"]["format"]["const"]: rule["then"] for rule in sources["allOf"]}
    assert set(then) == set(OPTION_DEFAULTS)
    sensor_csv = then["sensor_csv"]["properties"]["options"]
    assert sensor_csv["additionalProperties"] is False
    assert sensor_csv["properties"]["interval_label"]["enum"] == ["start", "end"]
    assert sensor_csv["properties"]["delimiter"]["default"] == ","
    assert "delimiter" not in then["sensor_jsonl"]["properties"]["options"]["properties"]
    assert "timezone" not in sources["required"]  # left out, a source reads times in the plant's zone


def test_the_annotated_demo_plant_names_every_key():
    schema = plant_json_schema()
    text = DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8")
    keys = _plant_keys(schema, schema["$defs"]) | {key for defaults in OPTION_DEFAULTS.values() for key in defaults}
    # a key counts as named where it is written as a key (`key:`) or listed in a comment
    missing = sorted(key for key in keys if not re.search(rf"(?<![\w.]){key}(?![\w])", text))
    assert not missing, f"{DEFAULT_PLANT_CONFIG.name} does not mention {missing}"


def test_the_schema_file_is_json_for_editors():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False and set(schema["required"]) == {
        "plant",
        "calendar",
        "sources",
        "lines",
    }
