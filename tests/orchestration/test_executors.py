"""The executor chosen by environment variables, and the instance configuration the product writes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from orchestration.cli import ensure_dagster_home, run
from orchestration.cli.instance import INSTANCE_YAML
from orchestration.executors import ExecutorConfigError, celery_urls, executor_from_env

REPO = Path(__file__).resolve().parents[2]


def test_the_default_executor_is_multiprocess():
    assert executor_from_env({}).name == "multiprocess"
    assert executor_from_env({"IIOT_EXECUTOR": " Multiprocess "}).name == "multiprocess"
    assert executor_from_env({"IIOT_EXECUTOR": "in_process"}).name == "in_process"
    assert executor_from_env({"IIOT_EXECUTOR": "k8s"}).name == "k8s"


def test_the_step_limit_of_multiprocess_is_configured():
    executor = executor_from_env({"IIOT_MAX_CONCURRENT_STEPS": "3"})
    assert executor.name == "multiprocess"
    with pytest.raises(ExecutorConfigError, match="IIOT_MAX_CONCURRENT_STEPS='0': must be a positive"):
        executor_from_env({"IIOT_MAX_CONCURRENT_STEPS": "0"})


def test_celery_needs_a_broker_and_reads_the_urls_when_the_run_starts():
    with pytest.raises(ExecutorConfigError, match="IIOT_EXECUTOR=celery needs CELERY_BROKER_URL"):
        executor_from_env({"IIOT_EXECUTOR": "celery"})
    executor = executor_from_env({"IIOT_EXECUTOR": "celery", "CELERY_BROKER_URL": "redis://h:6379/0"})
    assert executor.name == "celery"
    assert celery_urls({"CELERY_BROKER_URL": "redis://h:6379/0"}) == ("redis://h:6379/0", "redis://h:6379/0")
    assert celery_urls({"CELERY_BROKER_URL": "redis://h/0", "CELERY_RESULT_BACKEND": "redis://h/1"}) == (
        "redis://h/0",
        "redis://h/1",
    )


def test_an_unknown_executor_is_refused():
    with pytest.raises(ExecutorConfigError, match="IIOT_EXECUTOR='dask': must be one of multiprocess, celery"):
        executor_from_env({"IIOT_EXECUTOR": "dask"})


def test_the_worker_command_refuses_to_start_without_a_broker(monkeypatch, capsys):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert run(["worker"]) == 1
    assert "IIOT_EXECUTOR=celery needs CELERY_BROKER_URL" in capsys.readouterr().err


def test_the_instance_queues_runs_and_holds_pools_per_step(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home()
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == INSTANCE_YAML
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert [(t["key"], t["value"], t["limit"]) for t in queue.tag_concurrency_limits] == [
            ("iiot/job", "daily", 3),
            ("iiot/job", "landing", 1),
            ("iiot/job", "maintenance", 1),
        ]
        pools = instance.get_concurrency_config().pool_config
        assert (pools.default_pool_limit, pools.pool_granularity.value) == (1, "op")
        assert instance.event_log_storage.supports_global_concurrency_limits


def test_the_multi_machine_instance_has_the_same_pools_and_run_tags():
    shipped = yaml.safe_load(INSTANCE_YAML)
    celery = yaml.safe_load((REPO / "deploy" / "celery" / "dagster.yaml").read_text(encoding="utf-8"))
    assert celery["run_coordinator"] == shipped["run_coordinator"]
    one_writer = {"default_limit": 1, "granularity": "op"}
    assert celery["concurrency"]["pools"] == shipped["concurrency"]["pools"] == one_writer
    keys = {(t["key"], t["value"]) for t in celery["concurrency"]["runs"]["tag_concurrency_limits"]}
    assert keys == {(t["key"], t["value"]) for t in shipped["concurrency"]["runs"]["tag_concurrency_limits"]}
    assert set(celery["storage"]) == {"postgres"}


def test_the_jobs_carry_the_tags_the_run_queue_limits(monkeypatch):
    from orchestration.definitions import DAILY_JOB, LANDING_JOB, build_definitions
    from orchestration.schedules import MAINTENANCE_JOB

    monkeypatch.setenv("IIOT_EXECUTOR", "in_process")
    defs = build_definitions()
    tags = {name: defs.resolve_job_def(name).tags.get("iiot/job") for name in (LANDING_JOB, DAILY_JOB, MAINTENANCE_JOB)}
    assert tags == {LANDING_JOB: "landing", DAILY_JOB: "daily", MAINTENANCE_JOB: "maintenance"}
    assert defs.resolve_job_def(DAILY_JOB).executor_def.name == "in_process"
