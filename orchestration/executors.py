"""Where a run's steps execute, chosen by configuration only (IIOT_EXECUTOR), never by code.

- ``multiprocess`` (default): each step in a child process of the run, on the machine of the run.
  IIOT_MAX_CONCURRENT_STEPS caps the steps of one run at once (default: the number of CPUs).
- ``celery``: each step is a task on a Celery queue (``dagster``), picked up by whichever worker
  is free, on any machine that has the product installed and can reach the broker and the
  lakehouse. CELERY_BROKER_URL names the broker (e.g. ``redis://host:6379/0``);
  CELERY_RESULT_BACKEND the result store (default: the broker). The URLs are read when the run
  starts, from the run's environment, so no password is kept in the run's configuration.
- ``k8s``: each step in its own Kubernetes Job, with the image, environment and secrets of the run's
  pod (runs launched by dagster-k8s's K8sRunLauncher; see docs/deploy-kubernetes.md).
  IIOT_MAX_CONCURRENT_STEPS caps the step pods of one run at once.
- ``in_process``: every step in the run's own process, one after the other.

Workers start with ``iiot-lakehouse worker`` (see orchestration/celery_worker.py), configured by the
same variables.
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTOR_ENV = "IIOT_EXECUTOR"
MAX_STEPS_ENV = "IIOT_MAX_CONCURRENT_STEPS"
BROKER_ENV = "CELERY_BROKER_URL"
BACKEND_ENV = "CELERY_RESULT_BACKEND"
EXECUTORS = ("multiprocess", "celery", "k8s", "in_process")


class ExecutorConfigError(ValueError):
    """The executor configuration in the environment is incomplete or unknown."""


def executor_name(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    name = (env.get(EXECUTOR_ENV) or "multiprocess").strip().lower()
    if name not in EXECUTORS:
        raise ExecutorConfigError(f"{EXECUTOR_ENV}={name!r}: must be one of {', '.join(EXECUTORS)}")
    return name


def celery_urls(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(broker, result backend) from the environment; the backend defaults to the broker."""
    env = os.environ if environ is None else environ
    broker = env.get(BROKER_ENV)
    if not broker:
        raise ExecutorConfigError(f"{EXECUTOR_ENV}=celery needs {BROKER_ENV} (e.g. redis://broker-host:6379/0)")
    return broker, env.get(BACKEND_ENV) or broker


def _max_steps(env) -> int | None:
    limit = env.get(MAX_STEPS_ENV)
    if not limit:
        return None
    if not limit.isdigit() or int(limit) < 1:
        raise ExecutorConfigError(f"{MAX_STEPS_ENV}={limit!r}: must be a positive whole number")
    return int(limit)


def executor_from_env(environ: dict[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor of every job, from IIOT_EXECUTOR and its companion variables."""
    env = os.environ if environ is None else environ
    name = executor_name(env)
    if name == "in_process":
        return dg.in_process_executor
    limit = _max_steps(env)
    if name == "multiprocess":
        if limit is None:
            return dg.multiprocess_executor
        return dg.multiprocess_executor.configured({"max_concurrent": limit}, name="multiprocess")
    if name == "k8s":
        # imported only when chosen, as the Celery one below: each loads its client libraries (Kubernetes,
        # Celery and Redis), which every command and run on the other executors would otherwise load too
        from dagster_k8s import k8s_job_executor

        if limit is None:
            return k8s_job_executor
        return k8s_job_executor.configured({"max_concurrent": limit}, name="k8s")

    from dagster_celery import celery_executor

    celery_urls(env)  # fail when the definitions load, not when the first run starts
    # Resolved from the run's environment when it starts (StringSource), so a password in the URL
    # stays out of the run configuration stored in the instance.
    backend_var = BACKEND_ENV if env.get(BACKEND_ENV) else BROKER_ENV
    return celery_executor.configured(
        {"broker": {"env": BROKER_ENV}, "backend": {"env": backend_var}},
        name="celery",
    )
