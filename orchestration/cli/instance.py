"""The Dagster instance of the CLI's runs: DAGSTER_HOME, its generated dagster.yaml, and opening it."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_YAML = """\
# Written by iiot-lakehouse on first use. Plants are often air-gapped: no telemetry, and no newsletter
# sign-up in the UI (nux).
telemetry:
  enabled: false
nux:
  enabled: false
# Runs submitted by the UI, the schedule, the sensors or `dagster job backfill` wait in a queue that
# `dagster-daemon run` (started by `make ui`'s `dagster dev`) drains within these limits.
# `iiot-lakehouse run` executes in its own process and needs no daemon.
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    # start dequeued runs side by side: each run process takes seconds to start
    dequeue_use_threads: true
    dequeue_num_workers: 4
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      # a backfill of many days leaves a run slot for landing new files
      - key: iiot/job
        value: daily
        limit: 3
      - key: iiot/job
        value: landing
        limit: 1
      - key: iiot/job
        value: maintenance
        limit: 1
  # One writer per Delta table where a write is not a blind append (see the assets' pools). Slots are
  # claimed per step (op granularity) by the process that runs the job, before a step is started or
  # sent to a Celery worker, and held in the instance's storage: they hold across runs and workers.
  pools:
    default_limit: 1
    granularity: op
# A run whose process dies keeps its pool slots until someone frees them. `dagster-daemon run` watches the
# queued and launched runs: a run that does not start, or does not finish canceling, within its timeout is
# marked failed; one that runs longer than max_runtime_seconds is canceled (the runs of `iiot-lakehouse run`
# are exempt: the CLI frees the slots of its dead runs when it next starts, see orchestration/recovery/);
# and the slots still held by a run that has ended are freed after free_slots_after_run_end_seconds.
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  start_timeout_seconds: 300
  cancel_timeout_seconds: 120
  max_runtime_seconds: 21600
  free_slots_after_run_end_seconds: 60
"""

# What earlier versions wrote, unchanged by the user: replaced by the current INSTANCE_YAML.
_EARLIER_INSTANCE_YAML_SHA256 = {
    "21bf789cfecfafeb16d114d5d2b19f17c850473431496315ab5f6317a0cde914",
    "7073b04075c369971a2685fef544f6df74e1b65f071e77089fc33d34b13a80d2",
    "8801f9a5db4cc702fb4d5133f222958d4df36d2e9031fdb63bc95ff302405a02",
    "c86bda0f7167edd3e168d2f90e2a98c6013bd91885a6b2e9d2d1fa49b44f3afd",
}


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default ./.dagster_home), with an instance config if there is none yet."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path.cwd() / ".dagster_home")
        os.environ["DAGSTER_HOME"] = home
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or _generated_earlier(config):
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    return path


def open_instance():
    """The Dagster instance of DAGSTER_HOME. Its SQLite databases are created on first open; two processes
    creating them at once (two runs started together on a new home) stamp the schema version twice and
    leave a home no later run can open, so the first open is made under a lock file."""
    import dagster as dg
    from filelock import FileLock

    home = ensure_dagster_home()
    with FileLock(str(home / ".instance.lock")):
        return dg.DagsterInstance.get()


def _generated_earlier(config: Path) -> bool:
    import hashlib

    return hashlib.sha256(config.read_bytes()).hexdigest() in _EARLIER_INSTANCE_YAML_SHA256
