"""What the Dagster UI shows of every table asset: its columns (type and description, from the one
declaration or the mart's YAML), its table's name, owner and layer."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from orchestration.definitions import build_definitions
from tests.helpers.plant import one_machine_config

REPO = Path(__file__).resolve().parents[2]


def test_every_table_asset_declares_its_columns_owner_and_layer(plant_factory):
    graph = build_definitions(plant_factory(one_machine_config()).resource).resolve_asset_graph()

    def node(key: str):
        return graph.get(dg.AssetKey(key))

    # a mart's columns: their DuckDB types and the descriptions of sql/marts/<mart>.yml
    energy = node("mart__energy_daily")
    yml = yaml.safe_load((REPO / "sql" / "marts" / "energy_daily.yml").read_text(encoding="utf-8"))
    columns = {c.name: c for c in energy.metadata["dagster/column_schema"].columns}
    assert list(columns) == list(yml["columns"])
    assert columns["kwh_running"].type == "DOUBLE"
    assert columns["kwh_running"].description == yml["columns"]["kwh_running"]
    assert energy.metadata["dagster/table_name"] == "marts.duckdb:main.energy_daily"
    assert energy.kinds == {"duckdb"}
    # a bronze table's columns, as its declaration writes them (assets/storage/schemas.py)
    points = {c.name: c for c in node("bronze_historian__points").metadata["dagster/column_schema"].columns}
    assert (points["tag"].type, points["tag"].description) == ("string", "Historian tag name as exported.")
    assert points["ts"].type == "timestamp[us, tz=UTC]"
    for key, layer in (
        ("bronze_historian__points", "bronze"),
        ("bronze__file_ledger", "bronze"),
        ("silver__machine_states", "silver"),
        ("silver__energy_increments", "silver"),
        ("mart__oee_daily", "marts"),
        ("mart__dim_shift", "marts"),
    ):
        assert list(node(key).owners) == ["team:plant-engineering"], key
        assert node(key).tags.get("layer") == layer, key
        assert node(key).metadata["dagster/column_schema"].columns, key
