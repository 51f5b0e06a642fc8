"""What the Dagster deployment shows and starts by itself: the daily partitions begin at the plant's
calendar.first_day, the schedules and sensors run by default unless the plant YAML's `automation:` switches
them off, and the generated instance config sends no telemetry and shows no newsletter sign-up."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from assets.plant.config import DEFAULT_PLANT_CONFIG
from orchestration.cli.instance import INSTANCE_YAML, ensure_dagster_home
from orchestration.definitions import build_definitions
from orchestration.resources import LakehouseResource
from tests.helpers.demo import demo_plant_yaml

RUNNING, STOPPED = dg.DefaultScheduleStatus.RUNNING, dg.DefaultScheduleStatus.STOPPED
SCHEDULES = ("daily_oee_schedule", "weekly_maintenance_schedule", "freshness_checks_schedule")
SENSORS = ("landing_folder_sensor", "landed_days_sensor", "alert_sensor")


def _demo_plant(tmp_path, **changes) -> LakehouseResource:
    """The demo plant.yaml, with `changes` merged into its top-level sections."""
    path = demo_plant_yaml(tmp_path / "plant.yaml", **changes)
    return LakehouseResource(
        lakehouse_root=str(tmp_path / "lakehouse"), landing_root=str(tmp_path / "landing"), plant_config=str(path)
    )


def test_the_daily_partitions_start_at_the_demo_plants_first_day(tmp_path):
    # The demo plant.yaml says `first_day: "2025-01-01"` (read here from the file, not from the model).
    first_day = yaml.safe_load(DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8"))["calendar"]["first_day"]
    assert str(first_day) == "2025-01-01"
    defs = build_definitions(_demo_plant(tmp_path))
    partitions = defs.resolve_job_def("daily_oee_job").partitions_def
    assert partitions.get_first_partition_key() == "2025-01-01"


def test_a_later_first_day_moves_the_first_partition(tmp_path):
    # A plant that starts on 5 Mar 2026 offers no day before it (the 4th is no partition).
    defs = build_definitions(_demo_plant(tmp_path, calendar={"first_day": "2026-03-05"}))
    partitions = defs.resolve_job_def("daily_oee_job").partitions_def
    assert partitions.get_first_partition_key() == "2026-03-05"
    assert not partitions.has_partition_key("2026-03-04")


def test_the_schedules_and_sensors_run_by_default(tmp_path):
    defs = build_definitions(_demo_plant(tmp_path))
    assert {name: defs.resolve_schedule_def(name).default_status for name in SCHEDULES} == dict.fromkeys(
        SCHEDULES, RUNNING
    )
    assert {name: defs.resolve_sensor_def(name).default_status for name in SENSORS} == dict.fromkeys(
        SENSORS, dg.DefaultSensorStatus.RUNNING
    )


@pytest.mark.parametrize(
    ("switch", "stopped"),
    [
        ("daily_schedule", {"daily_oee_schedule"}),
        ("maintenance_schedule", {"weekly_maintenance_schedule"}),
        ("landing_sensors", {"landing_folder_sensor", "landed_days_sensor"}),
        ("alerts", {"alert_sensor"}),
        ("freshness_checks", {"freshness_checks_schedule"}),
    ],
)
def test_the_plant_yaml_switches_one_off(tmp_path, switch, stopped):
    defs = build_definitions(_demo_plant(tmp_path, automation={switch: False}))
    statuses = {name: defs.resolve_schedule_def(name).default_status.value for name in SCHEDULES}
    statuses |= {name: defs.resolve_sensor_def(name).default_status.value for name in SENSORS}
    assert statuses == {name: "STOPPED" if name in stopped else "RUNNING" for name in (*SCHEDULES, *SENSORS)}


def test_the_generated_instance_sends_no_telemetry_and_shows_no_newsletter(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home()
    written = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))
    assert written["telemetry"] == {"enabled": False}
    assert written["nux"] == {"enabled": False}
    # Dagster's own loader validates the file against its instance schema and reads both settings
    with dg.DagsterInstance.get() as instance:
        assert instance.telemetry_enabled is False
        assert instance.nux_enabled is False


def test_a_home_written_by_the_earlier_version_gets_the_newsletter_switched_off(tmp_path, monkeypatch):
    # The previous version's file: the same text without the nux block, with its one-line header and its
    # comment naming orchestration/recovery.py (now a package).
    earlier = (
        INSTANCE_YAML.replace("see orchestration/recovery/);", "see orchestration/recovery.py);")
        .replace(
            "# Written by iiot-lakehouse on first use. Plants are often air-gapped: no telemetry, and no newsletter\n"
            "# sign-up in the UI (nux).\n",
            "# Written by iiot-lakehouse on first use. Plants are often air-gapped: no telemetry.\n",
        )
        .replace("nux:\n  enabled: false\n", "")
    )
    assert "nux" not in earlier
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home()
    assert yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))["nux"] == {"enabled": False}


def test_the_multi_machine_instance_shows_no_newsletter_either():
    celery = yaml.safe_load((DEFAULT_PLANT_CONFIG.parents[2] / "deploy" / "celery" / "dagster.yaml").read_text())
    assert (celery["telemetry"], celery["nux"]) == ({"enabled": False}, {"enabled": False})
