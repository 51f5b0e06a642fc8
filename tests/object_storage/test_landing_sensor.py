"""The landing sensor watches an s3:// landing prefix as it watches a local folder."""

from __future__ import annotations

import hashlib

import dagster as dg
import pytest
import yaml

from assets.storage import object_store
from orchestration.definitions import build_definitions
from orchestration.resources import resource_from_env
from tests.helpers.exports import HEADER, aveva_row
from tests.helpers.plant import one_machine_config

pytestmark = pytest.mark.s3


def test_one_run_per_settled_object_keyed_by_its_content(s3_env, monkeypatch, tmp_path):
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "0")
    prefix = s3_env.prefix()
    plant_yaml = tmp_path / "plant.yaml"
    plant_yaml.write_text(yaml.safe_dump(one_machine_config()), encoding="utf-8")
    monkeypatch.setenv("PLANT_CONFIG", str(plant_yaml))
    monkeypatch.setenv("LAKEHOUSE_ROOT", f"{prefix}/lakehouse")
    monkeypatch.setenv("LANDING_ROOT", f"{prefix}/landing")
    resource = resource_from_env()
    defs = build_definitions(resource)
    sensor = defs.resolve_sensor_def("landing_folder_sensor")

    def tick(cursor=None):
        with dg.build_sensor_context(resources={"lakehouse": resource}, cursor=cursor) as context:
            return sensor(context), context.cursor

    result, cursor = tick()
    assert isinstance(result, dg.SkipReason)
    export = tmp_path / "a.csv"
    export.write_text(HEADER + aveva_row("2026-03-02 06:00:00", "L1.FILLER.State", 1), encoding="utf-8")
    object_store.upload(export, f"{prefix}/landing/historian/a.csv", s3_env.options())
    object_store.upload(export, f"{prefix}/landing/historian/b.csv.part", s3_env.options())
    result, cursor = tick(cursor)  # first seen: its size must hold for one more tick
    assert isinstance(result, dg.SkipReason) and "settling" in result.skip_message
    result, cursor = tick(cursor)
    (request,) = result
    assert request.run_key == hashlib.sha256(export.read_bytes()).hexdigest()
    assert request.run_config == {"ops": {"land_exports": {"config": {"files": ["historian/a.csv"]}}}}

    landed = defs.resolve_job_def("land_exports_job").execute_in_process(run_config=request.run_config)
    assert landed.success
    points = dg.AssetKey("bronze_historian__points")
    (event,) = [e for e in landed.get_asset_materialization_events() if e.asset_key == points]
    metadata = event.materialization.metadata
    assert (metadata["files_landed"].value, metadata["rows_new"].value) == (1, 1)
    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason)
