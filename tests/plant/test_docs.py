"""The plant YAML's JSON Schema and reference page are generated from the models and kept in step, and
the annotated demo plant.yaml names every key."""

from __future__ import annotations

import json
import re
import typing

from pydantic import BaseModel

from assets.plant.config import DEFAULT_PLANT_CONFIG, PlantConfig
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


def _model_keys(model: type[BaseModel], prefix: str = "") -> typing.Iterator[tuple[str, str]]:
    # the pydantic models themselves, walked through lists, tuples, mappings and optionals: (path, key)
    for key, field in model.model_fields.items():
        if field.exclude:  # handed down (a machine's line and area), not written in the YAML
            continue
        key = field.alias or key  # `from` is the YAML's key of a changeover target's `from_`
        yield prefix + key, key
        inner = [field.annotation]
        while inner:
            tp = inner.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                yield from _model_keys(tp, f"{prefix}{key}.")
            else:
                inner += typing.get_args(tp)


def test_the_annotated_demo_plant_sets_or_comments_out_every_key_of_the_models():
    text = DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8")
    keys = dict(_model_keys(PlantConfig))
    # the walk reaches the nested models: a shift's end, a state's reason, a machine's sensor_tags
    assert {"calendar.shifts.end", "lines.machines.states.reason", "lines.machines.sensor_tags"} <= set(keys)
    # written as a key of the file (`key:`, `- key:`, `{key: ...}`) or commented out as one (`# key: ...`);
    # a key named only in a sentence does not count
    missing = [
        path
        for path, key in keys.items()
        if not re.search(rf"(?m)^[ \t]*(#[ \t]*)?(- )?{key}:|[{{,][ \t]*{key}:", text)
    ]
    assert not missing, f"{DEFAULT_PLANT_CONFIG.name} neither sets nor comments out {missing}"
    # the per-format options are the reference's, which the header points to
    assert "docs/plant-reference.md" in text.split("\nplant:")[0]


def test_the_reference_lists_every_option_of_every_format_under_that_format():
    reference = REFERENCE_FILE.read_text(encoding="utf-8")
    sections = dict(re.findall(r"(?ms)^### `(\w+)`\n(.*?)(?=^### |\Z)", reference))
    assert set(sections) == set(OPTIONS)
    for fmt, model in OPTIONS.items():
        rows = set(re.findall(r"(?m)^\| `(\w+)` \|", sections[fmt]))
        assert rows == set(model.model_fields), fmt
