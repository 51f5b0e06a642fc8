"""Weekly maintenance: many small files become few, rows and history stay, the retention is a floor."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from assets.storage.assets import MaintenanceConfig, maintenance__delta_tables
from assets.storage.maintenance import check_retention, maintain_lakehouse, maintain_table
from assets.storage.schemas import FILE_LEDGER
from orchestration.definitions import build_definitions
from tests.helpers.plant import one_machine_config


def small_appends(uri: str, n: int) -> pa.Table:
    """n appends of 10 rows each, as landing makes them; the whole content, sorted."""
    for i in range(n):
        batch = pa.table({"id": pa.array(range(i * 10, i * 10 + 10), pa.int64()), "batch": pa.array([i] * 10)})
        write_deltalake(uri, batch, mode="append")
    return DeltaTable(uri).to_pyarrow_table().sort_by("id")


def on_disk(path) -> int:
    return sum(1 for _ in path.glob("*.parquet"))


def test_compaction_drops_the_file_count_and_keeps_rows_and_history(tmp_path):
    uri = str(tmp_path / "bronze__file_ledger")
    before = small_appends(uri, 25)
    parquet_before = on_disk(tmp_path / "bronze__file_ledger")

    report = maintain_table(uri)

    assert (report.files_before, report.files_after) == (25, 1)
    assert (report.files_compacted, report.files_written, report.rows) == (25, 1, 250)
    # every file is younger than the 7-day retention: nothing a running reader may need is deleted
    assert (report.vacuum, report.files_vacuumed) == ("done", 0)
    assert on_disk(tmp_path / "bronze__file_ledger") == parquet_before + 1
    table = DeltaTable(uri)
    assert table.to_pyarrow_table().sort_by("id").equals(before)
    assert report.version_before == 24 and report.version_after > 24
    # the log is checkpointed, and every version can still be read
    assert (
        tmp_path / "bronze__file_ledger" / "_delta_log" / f"{report.checkpoint_version:020d}.checkpoint.parquet"
    ).exists()
    operations = [h["operation"] for h in table.history()]
    assert operations.count("WRITE") == 25 and "OPTIMIZE" in operations
    assert DeltaTable(uri, version=0).to_pyarrow_table().num_rows == 10
    assert DeltaTable(uri, version=24).to_pyarrow_table().sort_by("id").equals(before)


def test_a_second_run_changes_nothing(tmp_path):
    uri = str(tmp_path / "bronze__quarantine")
    small_appends(uri, 5)
    maintain_table(uri)
    again = maintain_table(uri)
    assert (again.files_before, again.files_after, again.files_compacted, again.files_vacuumed) == (1, 1, 0, 0)


def test_retention_is_never_below_one_day():
    assert check_retention(dt.timedelta(days=1)) == dt.timedelta(days=1)
    with pytest.raises(ValueError, match="at least 1 day"):
        check_retention(dt.timedelta(hours=23))


def test_a_table_s_own_longer_retention_is_respected(tmp_path):
    uri = str(tmp_path / "bronze__quarantine")
    small_appends(uri, 3)
    DeltaTable(uri).alter.set_table_properties({"delta.deletedFileRetentionDuration": "interval 30 days"})
    report = maintain_table(uri, dt.timedelta(days=2))
    assert report.vacuum.startswith("refused:") and "retention" in report.vacuum.lower()
    assert report.files_after == 1


def test_every_existing_lakehouse_table_is_maintained(tmp_path):
    small_appends(str(tmp_path / FILE_LEDGER.name), 4)
    small_appends(str(tmp_path / "not_a_lakehouse_table"), 4)
    reports = maintain_lakehouse(str(tmp_path))
    assert [(r.table, r.files_before, r.files_after) for r in reports] == [(FILE_LEDGER.name, 4, 1)]


def test_the_asset_reports_files_before_and_after_per_table(plant_factory):
    plant = plant_factory(one_machine_config())
    small_appends(str(plant.root / FILE_LEDGER.name), 6)
    result = dg.materialize([maintenance__delta_tables], resources={"lakehouse": plant.resource})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["files_before"].value, metadata["files_after"].value, metadata["retention_days"].value) == (
        6,
        1,
        7.0,
    )
    assert metadata["per_table_json"].value[FILE_LEDGER.name]["files_compacted"] == 6
    refused = dg.materialize(
        [maintenance__delta_tables],
        resources={"lakehouse": plant.resource},
        run_config=dg.RunConfig({"maintenance__delta_tables": MaintenanceConfig(retention_days=0.5)}),
        raise_on_error=False,
    )
    assert not refused.success


def test_the_weekly_schedule_runs_the_maintenance_job(plant_factory):
    defs = build_definitions(plant_factory(one_machine_config()).resource)
    schedule = defs.resolve_schedule_def("weekly_maintenance_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * 0", "Europe/Berlin")
    job = defs.resolve_job_def("delta_maintenance_job")
    assert [k.to_user_string() for k in job.asset_layer.executable_asset_keys] == ["maintenance__delta_tables"]
