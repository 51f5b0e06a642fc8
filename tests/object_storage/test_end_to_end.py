"""The worked OEE example end to end with LAKEHOUSE_ROOT and LANDING_ROOT in object storage.

The same export and the same exact numbers as tests/helpers/worked_example.py (derived there by
hand), landed from an s3:// landing prefix into Delta tables on a real S3-compatible server, modelled,
and published as the marts file and the gold tables in the bucket. Configuration only: the
environment variables, as an operator would set them.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from deltalake import DeltaTable

from assets.bronze.assets import land_exports
from assets.marts.assets import build_mart_assets
from assets.report.assets import build_report_assets
from assets.silver.assets import build_silver_assets
from assets.storage import object_store
from orchestration.partitions import production_day_partitions
from orchestration.resources import resource_from_env
from tests.helpers.exports import HEADER
from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS, assert_worked_example_oee

pytestmark = pytest.mark.s3

DAY = "2026-03-02"


@pytest.fixture(scope="module")
def remote_run(s3_server, tmp_path_factory):
    """Land, model and publish the worked example once, with both roots in the bucket."""
    tmp = tmp_path_factory.mktemp("remote")
    prefix = s3_server.prefix()
    config = one_machine_config(
        breaks=[
            {"name": "breakfast", "start": "09:00", "end": "09:30"},
            {"name": "lunch", "start": "12:00", "end": "12:30"},
        ]
    )
    plant_yaml = tmp / "plant.yaml"
    plant_yaml.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {
        **s3_server.env(),
        "LAKEHOUSE_ROOT": f"{prefix}/lakehouse",
        "LANDING_ROOT": f"{prefix}/landing",
        "PLANT_CONFIG": str(plant_yaml),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        export = tmp / "History_20260302.csv"
        export.write_text(HEADER + "".join(ROWS), encoding="utf-8")
        options = s3_server.options()
        object_store.upload(export, f"{prefix}/landing/historian/History_20260302.csv", options)
        object_store.upload(export, f"{prefix}/landing/elsewhere/stray.csv", options)

        resource = resource_from_env()
        plant = resource.plant()
        partitions = production_day_partitions(plant)
        day_assets = [
            *build_silver_assets(partitions),
            *build_mart_assets(partitions),
            *build_report_assets(partitions),
        ]
        instance = dg.DagsterInstance.ephemeral()
        resources = {"lakehouse": resource}
        landing = dg.materialize([land_exports], resources=resources, instance=instance)
        again = dg.materialize([land_exports], resources=resources, instance=instance)
        day = dg.materialize(day_assets, partition_key=DAY, resources=resources, instance=instance)
        yield {"prefix": prefix, "env": env, "runs": [landing, again, day], "options": options, "instance": instance}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(asset):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of {asset}")


def test_landing_from_an_s3_prefix_counts_every_row_once(remote_run):
    landing, again, _ = remote_run["runs"]
    assert landing.success and again.success
    first = _metadata(landing, "bronze_historian__points")
    assert (first["files_landed"], first["rows_in"], first["rows_new"], first["rows_quarantined"]) == (1, 14, 14, 0)
    assert first["notes"] == [
        "elsewhere/stray.csv: in no source's folder; not read; it could go in: historian/ (aveva_historian_csv)"
    ]
    # the second pass finds the object in the ledger by key, size and LastModified: nothing landed again
    second = _metadata(again, "bronze_historian__points")
    assert (second["files_landed"], second["files_skipped"], second["rows_in"]) == (0, 1, 0)

    ledger = DeltaTable(f"{remote_run['prefix']}/lakehouse/bronze__file_ledger", storage_options=remote_run["options"])
    rows = ledger.to_pyarrow_dataset().to_table().to_pylist()
    assert [(r["source_file"], r["status"], r["rows_in"], r["rows_new"]) for r in rows] == [
        ("historian/History_20260302.csv", "landed", 14, 14)
    ]
    # the export's date in the ledger is the object's LastModified
    (info,) = [
        f
        for f in object_store.list_landing(f"{remote_run['prefix']}/landing", remote_run["options"])
        if f.rel.startswith("historian/")
    ]
    assert rows[0]["exported_at"] == info.modified
    points = DeltaTable(
        f"{remote_run['prefix']}/lakehouse/bronze_historian__points", storage_options=remote_run["options"]
    )
    assert points.to_pyarrow_dataset().count_rows() == 14
    # each object was spooled to a local file for landing, and the spool deleted afterwards
    assert not list(Path(tempfile.gettempdir()).glob(f"iiot-landing-{os.getpid()}-spool-*"))


def test_the_published_marts_hold_the_worked_example_numbers(remote_run, monkeypatch, tmp_path, capsys):
    from orchestration.cli import run

    assert remote_run["runs"][2].success
    for name, value in remote_run["env"].items():
        monkeypatch.setenv(name, value)
    assert run(["marts-download", str(tmp_path)]) == 0
    assert f"{remote_run['prefix']}/lakehouse/marts/marts.duckdb" in capsys.readouterr().out

    con = duckdb.connect(str(tmp_path / "marts.duckdb"), read_only=True)
    try:
        cur = con.execute("select * from oee_daily where day = ?", [dt.date.fromisoformat(DAY)])
        names = [d[0] for d in cur.description]
        (values,) = cur.fetchall()
    finally:
        con.close()
    assert_worked_example_oee(dict(zip(names, values, strict=True)))

    # the analyst command reads the same file (downloaded to this machine's cache first)
    assert run(["sql", "select total_count, good_count from oee_daily", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["total_count,good_count", "19271,18848"]  # whole counts: BIGINT


def test_gold_tables_and_the_daily_report_are_written_to_the_bucket(remote_run):
    prefix, options = remote_run["prefix"], remote_run["options"]
    gold = DeltaTable(f"{prefix}/lakehouse/gold/oee_daily", storage_options=options)
    (row,) = gold.to_pyarrow_dataset().to_table(columns=["machine", "total_count", "good_count"]).to_pylist()
    assert row == {"machine": "FILLER", "total_count": 19_271, "good_count": 18_848}
    report = f"{prefix}/lakehouse/marts/reports/daily_report_{DAY}.html"
    assert object_store.exists(report, options)
    metadata = _metadata(remote_run["runs"][2], "mart__daily_report")
    assert metadata["report"] == report
    assert _metadata(remote_run["runs"][2], "mart__oee_daily")["marts_file"] == f"{prefix}/lakehouse/marts/marts.duckdb"


def test_no_credential_appears_in_run_records_metadata_or_logs(remote_run, s3_server):
    instance = remote_run["instance"]
    texts = []
    for result in remote_run["runs"]:
        texts.append(repr(instance.get_run_by_id(result.run_id)))
        # every event of the run: materializations with their metadata, check results and log messages
        texts.extend(repr(record) for record in instance.all_logs(result.run_id))
    assert sum("bronze_historian__points" in text for text in texts) > 0  # the records were read
    for secret in (s3_server.secret_key, s3_server.access_key):
        assert not [text for text in texts if secret in text]
    # the resource holds the variables as EnvVars: its configuration names them, not their values
    resource = resource_from_env()
    assert resource.aws_secret_access_key == dg.EnvVar("AWS_SECRET_ACCESS_KEY")
    assert s3_server.secret_key not in repr(resource.lakehouse())


def test_weekly_maintenance_compacts_and_checkpoints_tables_in_the_bucket(remote_run):
    from assets.storage.maintenance import maintain_lakehouse

    results = {
        r.table: r
        for r in maintain_lakehouse(f"{remote_run['prefix']}/lakehouse", storage_options=remote_run["options"])
    }
    points = results["bronze_historian__points"]
    assert points.rows == 14  # compaction keeps every row
    assert points.vacuum == "done"
    assert points.checkpoint_version == points.version_after
    assert set(results) >= {"bronze__file_ledger", "silver__machine_states", "silver__count_increments"}
