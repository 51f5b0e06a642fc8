"""A backfill through the run queue with its steps on two Celery workers (Redis broker), configured by
environment variables only, against the same days built in-process.

Real parts throughout: Debian's redis-server on a free loopback port, `iiot-lakehouse worker` twice,
`dagster job backfill` submitting one queued run per production day to the instance that
`iiot-lakehouse` writes, and `dagster-daemon run` draining the queue.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.bronze.assets import land_exports
from assets.demo.generator import write_demo_exports
from assets.marts.assets import build_mart_assets
from assets.marts.inputs import SILVER_INPUTS
from assets.marts.published import marts_path
from assets.plant.config import load_plant_config
from assets.silver.assets import build_silver_assets
from orchestration.cli import ensure_dagster_home
from orchestration.jobs import DAILY_JOB
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource
from tests.helpers.demo import AUTOMATION_OFF, demo_plant_yaml
from tests.helpers.network import free_port
from tests.helpers.tables import history, marts_rows, sorted_rows

REPO = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# steps of a daily run: the six silver tables, the marts publish and the daily report
STEPS_PER_RUN = len(SILVER_INPUTS) + 2
# steps that write through a pool of one slot: each silver table, and the marts file (one step publishes every mart)
POOLED_STEPS = {spec.name for spec in SILVER_INPUTS} | {"publish_marts"}

pytestmark = [
    pytest.mark.celery,
    pytest.mark.skipif(not os.access(REDIS_SERVER, os.X_OK), reason="needs Debian's redis-server (apt redis-server)"),
]


def stop(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (a Celery worker finishes its task, the daemon its loop), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway Redis on a free 127.0.0.1 port: no persistence, its files in tmp_path."""
    folder = tmp_path / "redis"
    folder.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder), "--daemonize", "no", "--protected-mode", "yes"],
        stdout=(folder / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        for _ in range(100):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                assert server.poll() is None, (folder / "redis.log").read_text()
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        stop(server, grace=5)


def lakehouse_resource(lake: Path, landing: Path, config: Path) -> LakehouseResource:
    return LakehouseResource(lakehouse_root=str(lake), landing_root=str(landing), plant_config=str(config))


def build_in_process(lake: Path, landing: Path, config: Path) -> None:
    """The reference: the same days, one after the other, in this process (dagster.materialize)."""
    resource = lakehouse_resource(lake, landing, config)
    partitions = production_day_partitions(resource.plant())
    assets = [*build_silver_assets(partitions), *build_mart_assets(partitions)]
    for day in DAYS:
        result = dg.materialize(assets, partition_key=day, resources={"lakehouse": resource}, run_config=QUIET)
        assert result.success


def step_records(instance: dg.DagsterInstance, run_id: str) -> list:
    return [r.event_log_entry for r in instance.get_records_for_run(run_id, limit=10_000).records]


def test_a_backfill_runs_through_the_queue_on_two_celery_workers(tmp_path, redis_url, monkeypatch):
    landing, reference, lake = tmp_path / "landing", tmp_path / "reference", tmp_path / "lakehouse"
    # The daemon would also start the plant's schedules and sensors, whose runs (a landing, a rebuilt day, a
    # freshness check on the clock's 15 minutes) are not the backfill's: the demo plant with them off.
    plant = demo_plant_yaml(tmp_path / "plant.yaml", automation=AUTOMATION_OFF)
    write_demo_exports(landing, load_plant_config(plant), start=dt.date.fromisoformat(DAYS[0]), days=3)
    resource = lakehouse_resource(reference, landing, plant)
    assert dg.materialize([land_exports], resources={"lakehouse": resource}, run_config=QUIET).success
    shutil.copytree(reference, lake)

    home = tmp_path / "dagster_home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env |= {
        "DAGSTER_HOME": str(home),
        "LAKEHOUSE_ROOT": str(lake),
        "LANDING_ROOT": str(landing),
        "PLANT_CONFIG": str(plant),
        "IIOT_EXECUTOR": "celery",
        "CELERY_BROKER_URL": redis_url,
        "PYTHONPATH": str(REPO),
    }
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home()  # the instance the product writes: queued runs, pools enforced per step

    bin_dir = Path(sys.executable).parent
    logs = tmp_path / "logs"
    logs.mkdir()
    started: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> subprocess.Popen:
        out = (logs / f"{name}.log").open("w")
        process = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    def log_tail() -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(logs.iterdir()))

    # Create the instance's databases here, before the daemon and the backfill command both open them.
    instance = dg.DagsterInstance.get()
    try:
        for name in ("w1", "w2"):
            start(name, [sys.executable, "-m", "orchestration.cli", "worker", "--name", name, "--loglevel", "WARNING"])
        start("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        backfill = subprocess.run(
            [str(bin_dir / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", DAILY_JOB]
            + ["--from", DAYS[0], "--to", DAYS[-1], "--noprompt"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr
        # the reference is built while the queue drains (another lakehouse: nothing shared)
        build_in_process(reference, landing, plant)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            runs = instance.get_runs()
            if all(r.is_finished for r in runs):
                break
            assert all(p.poll() is None for p in started), log_tail()
            time.sleep(1)
        assert sorted(r.tags["dagster/partition"] for r in runs) == DAYS
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * len(DAYS), log_tail()

        # (a) every step ran in a Celery worker, not in the run's process
        workers_used = set()
        spans: dict[str, list[tuple[float, float]]] = {}
        for run in runs:
            entries = step_records(instance, run.run_id)
            # submitted to the queue and started by the daemon, not launched directly
            assert dg.DagsterEventType.RUN_ENQUEUED in {e.dagster_event_type for e in entries}
            run_start = dg.DagsterEventType.RUN_START
            run_pid = next(e.dagster_event.pid for e in entries if e.dagster_event_type == run_start)
            in_worker = {}
            for e in entries:
                if e.is_dagster_event and e.dagster_event.event_type_value == "ENGINE_EVENT" and e.step_key:
                    worker = e.dagster_event.engine_event_data.metadata.get("Celery worker")
                    if worker is not None:
                        in_worker[e.step_key] = worker.value
            assert len(in_worker) == STEPS_PER_RUN, in_worker
            workers_used |= {w.split("@")[0] for w in in_worker.values()}
            starts = {e.step_key: e for e in entries if e.dagster_event_type == dg.DagsterEventType.STEP_START}
            assert len(starts) == STEPS_PER_RUN
            assert all(e.dagster_event.pid != run_pid for e in starts.values())
            success = dg.DagsterEventType.STEP_SUCCESS
            ends = {e.step_key: e.timestamp for e in entries if e.dagster_event_type == success}
            for key, e in starts.items():
                spans.setdefault(key, []).append((e.timestamp, ends[key]))
        assert workers_used == {"w1", "w2"}

        # one writer per pool at a time, across the three runs: a step of one table (or the marts
        # publish) never ran while the same step of another day did
        assert set(spans) >= POOLED_STEPS
        for key in POOLED_STEPS:
            intervals = sorted(spans[key])
            assert len(intervals) == len(DAYS)
            assert all(a[1] <= b[0] for a, b in zip(intervals, intervals[1:], strict=False)), (key, intervals)
    finally:
        for process in reversed(started):
            stop(process)
        instance.dispose()

    # (b) the same tables as the in-process build, exactly; each day committed once per table
    for spec in SILVER_INPUTS:
        assert sorted_rows(lake, spec.name) == sorted_rows(reference, spec.name), spec.name
        versions = history(lake, spec.name)
        assert [h["version"] for h in versions] == list(range(len(versions))), spec.name
        assert sorted(h["production_day"] for h in versions if "production_day" in h) == DAYS, spec.name
    distributed, in_process = marts_rows(marts_path(str(lake))), marts_rows(marts_path(str(reference)))
    assert len(distributed["oee_daily"]) == 6 * len(DAYS)  # six machines, each day
    assert distributed == in_process
