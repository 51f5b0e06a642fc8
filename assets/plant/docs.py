"""The plant YAML's JSON Schema and reference page, generated from the configuration's models.

`python -m assets.plant.docs` rewrites docs/plant.schema.json (point an editor at it for completion
and checks while editing plant.yaml) and docs/plant-reference.md; tests keep both in step with the models.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assets.plant.config import PlantConfig
from assets.plant.source_formats import SOURCE_FORMATS, options_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA_FILE = DOCS / "plant.schema.json"
REFERENCE_FILE = DOCS / "plant-reference.md"


def plant_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a plant YAML file."""
    schema = PlantConfig.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "iiot-lakehouse plant", **schema}


def render_schema() -> str:
    return json.dumps(plant_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = {**schema["$defs"][node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _nested(schema: dict[str, Any], node: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The mapping a key holds (`""`) or holds a list of (`"[]"`), to walk into."""
    node = _resolve(schema, node)
    if "properties" in node:
        return "", node
    items = node.get("items")
    if isinstance(items, dict) and "properties" in _resolve(schema, items):
        return "[]", _resolve(schema, items)
    values = node.get("additionalProperties")
    # a mapping of codes to a value or a mapping (a machine's states): the mapping's keys
    for value in values.get("anyOf", [values]) if isinstance(values, dict) else ():
        if "properties" in _resolve(schema, value):
            return ".<code>", _resolve(schema, value)
    return None


def schema_keys(
    schema: dict[str, Any], node: dict[str, Any] | None = None, prefix: str = ""
) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """Every key of the schema as (key path, its schema, required), parents before their children."""
    node = _resolve(schema, schema if node is None else node)
    required = set(node.get("required", ()))
    for key, prop in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        yield path, _resolve(schema, prop), key in required
        inner = _nested(schema, prop)
        if inner is not None:
            yield from schema_keys(schema, inner[1], path + inner[0])


def _type(schema: dict[str, Any], node: dict[str, Any]) -> str:
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "anyOf" in node:
        return " or ".join(_type(schema, _resolve(schema, n)) for n in node["anyOf"])
    kind = node.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for k in kinds:
        if k == "array":
            items = node.get("items") or {}
            inner = "mapping" if "properties" in _resolve(schema, items) else _type(schema, _resolve(schema, items))
            words.append(f"list of {inner}")
        elif k == "object":
            words.append("mapping")
        elif k == "null":
            words.append("null")
        else:
            words.append({"string": "text", "number": "number", "integer": "whole number", "boolean": "bool"}[k])
    return " or ".join(words)


def _default(node: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _row(schema: dict[str, Any], path: str, node: dict[str, Any], required: bool) -> str:
    description = node.get("description", "").replace("|", "\\|")
    return f"| `{path}` | {_type(schema, node)} | {_default(node, required)} | {description} |"


INTRO = """# The plant YAML: a reference

Generated from the configuration's models (`python -m assets.plant.docs`); the annotated example is
[assets/demo/plant.yaml](../assets/demo/plant.yaml). Editors that read JSON Schema complete and check the
file against [plant.schema.json](plant.schema.json): with the YAML language server, put
`# yaml-language-server: $schema=<path to>/docs/plant.schema.json` at the top of the file.

A key written with no value (`key:`) reads as null and means its default. `[]` marks a list of mappings,
`<code>` a state code.
A mistake is reported as `<file>: <key path>: <problem>`, list items named by their `name`
(`lines[L1].machines[FILLER].ideal_cycle_time_s: must be a positive number, got -1`).
"""


def render_reference() -> str:
    schema = plant_json_schema()
    out = [INTRO, "## Keys", "", "| key | type | default | what |", "|---|---|---|---|"]
    out += [_row(schema, path, node, required) for path, node, required in schema_keys(schema)]
    out += [
        "",
        "## Source options",
        "",
        "`sources[].options` takes the keys of the source's `format`; every key is optional.",
    ]
    for fmt in SOURCE_FORMATS:
        options = options_json_schema(fmt)
        out += ["", f"### `{fmt}`", "", "| key | type | default | what |", "|---|---|---|---|"]
        out += [_row(options, key, node, False) for key, node in options["properties"].items()]
    return "\n".join(out) + "\n"


def main() -> None:
    SCHEMA_FILE.write_text(render_schema(), encoding="utf-8")
    REFERENCE_FILE.write_text(render_reference(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE} and {REFERENCE_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
