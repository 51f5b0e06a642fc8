"""Every instance configuration under deploy/ watches its runs: a dead run never holds a pool slot for good.

A run whose process dies keeps its concurrency slots until someone frees them; on a deployment the
daemon's run monitoring does it. Each shipped config is parsed, checked for the monitoring keys, and
validated by Dagster's own instance-config loader (offline: nothing connects to Postgres).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from orchestration.cli.instance import INSTANCE_YAML

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
INSTANCE_CONFIGS = sorted(DEPLOY.rglob("dagster.yaml"))
HELM_VALUES = sorted(DEPLOY.rglob("values.yaml"))

# What every deployment needs of run monitoring: on, with bounded start and cancel waits, and the slots
# of an ended run freed within minutes (the pools' default limit is 1: one stuck slot stops a table).
REQUIRED = ("start_timeout_seconds", "cancel_timeout_seconds", "free_slots_after_run_end_seconds")
MAX_FREE_SLOTS_SECONDS = 300


def _check_monitoring(monitoring: dict) -> None:
    assert monitoring.get("enabled") is True
    for key in REQUIRED:
        assert isinstance(monitoring.get(key), int) and monitoring[key] > 0, key
    assert monitoring["free_slots_after_run_end_seconds"] <= MAX_FREE_SLOTS_SECONDS


def _chart_run_monitoring(values: dict) -> dict:
    """The `run_monitoring` block Dagster's Helm chart writes into the instance's dagster.yaml from
    `dagsterDaemon.runMonitoring` (templates/configmap-instance.yaml: rendered only when the daemon and
    run monitoring are enabled; start, poll and free-slots always, cancel and resume attempts when set)."""
    daemon = values.get("dagsterDaemon") or {}
    rm = daemon.get("runMonitoring") or {}
    if not (daemon.get("enabled") and rm.get("enabled")):
        return {}
    out = {
        "enabled": rm["enabled"],
        "start_timeout_seconds": rm.get("startTimeoutSeconds"),
        "poll_interval_seconds": rm.get("pollIntervalSeconds"),
        "free_slots_after_run_end_seconds": rm.get("freeSlotsAfterRunEndSeconds"),
    }
    if rm.get("cancelTimeoutSeconds") is not None:
        out["cancel_timeout_seconds"] = rm["cancelTimeoutSeconds"]
    if rm.get("maxResumeRunAttempts") is not None:
        out["max_resume_run_attempts"] = rm["maxResumeRunAttempts"]
    return out


def test_there_are_deploy_configs_to_check():
    assert [p.relative_to(DEPLOY).as_posix() for p in INSTANCE_CONFIGS] == ["celery/dagster.yaml"]
    assert [p.relative_to(DEPLOY).as_posix() for p in HELM_VALUES] == ["kubernetes/values.yaml"]


@pytest.mark.parametrize("path", INSTANCE_CONFIGS, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_an_instance_config_monitors_its_runs_and_frees_slots(path):
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    _check_monitoring(config["run_monitoring"])
    # the same monitoring as the instance the CLI writes for one machine
    assert config["run_monitoring"] == yaml.safe_load(INSTANCE_YAML)["run_monitoring"]
    # Dagster's loader validates every key against its schema (a misspelt key is an error there)
    validated, _ = dagster_instance_config(str(path.parent))
    assert validated["run_monitoring"] == config["run_monitoring"]


@pytest.mark.parametrize("path", HELM_VALUES, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_the_helm_values_turn_on_run_monitoring(path, tmp_path):
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    monitoring = _chart_run_monitoring(values)
    _check_monitoring(monitoring)
    # the instance config the chart writes from these values passes Dagster's loader
    (tmp_path / "dagster.yaml").write_text(
        yaml.safe_dump({"telemetry": {"enabled": False}, "run_monitoring": monitoring}), encoding="utf-8"
    )
    validated, _ = dagster_instance_config(str(tmp_path))
    assert validated["run_monitoring"] == monitoring


def test_a_misspelt_monitoring_key_is_refused_by_the_loader(tmp_path):
    # the validation above is real: Dagster rejects a key it does not know
    from dagster._core.errors import DagsterInvalidConfigError

    (tmp_path / "dagster.yaml").write_text(
        "run_monitoring:\n  enabled: true\n  free_slots_after_run_end_secs: 60\n", encoding="utf-8"
    )
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))
