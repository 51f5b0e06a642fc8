"""A killed or stopped `iiot-lakehouse run` never blocks the next one (issue 14, section 1).

Real CLI processes against a real DAGSTER_HOME in tmp_path. A run that holds a pool slot is either a
CLI killed in a known phase (the test watches the instance's slot table and kills when the phase's pool
is claimed), or a run record written into the instance with a slot claimed for it, as a dead process
leaves it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from orchestration.cli import ensure_dagster_home
from orchestration.recovery.dead_runs import HOST_TAG, PID_TAG, PROCESS_START_TAG
from tests.helpers.exports import HEADER, aveva_row

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
BOUND = 240  # seconds a whole `run` of one demo day may take on a loaded 2-core CI machine: a hang exceeds it


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env.update(PYTHONPATH=str(REPO), DAGSTER_HOME=str(tmp_path / "dagster_home"), IIOT_EXECUTOR="in_process")
    folder = tmp_path / "data" / "landing" / "historian"
    folder.mkdir(parents=True)
    # the demo plant's other source: a missing folder is refused before anything runs
    (tmp_path / "data" / "landing" / "orders").mkdir()
    # something to land, so that each `run` starts a landing run; written ten minutes ago, past the settle time
    export = folder / "History_20260302.csv"
    export.write_text(HEADER + aveva_row("2026-03-02 06:00:00", "L1.FILLER.State", 1), encoding="utf-8")
    os.utime(export, (time.time() - 600, time.time() - 600))
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    ensure_dagster_home()
    return tmp_path, env


def start(args, cwd, env, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        CLI + args, cwd=cwd, env={**env, **kw}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def cli(args, cwd, env, timeout=BOUND, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + args, cwd=cwd, env={**env, **kw}, capture_output=True, text=True, timeout=timeout)


def held_slots(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Pool -> run ids that claim a slot in it or wait for one."""
    storage = instance.event_log_storage
    out = {}
    for key, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        runs = {s.run_id for s in info.claimed_slots} | {s.run_id for s in info.pending_steps}
        if runs:
            out[key] = sorted(runs)
    return out


def holder_run(instance: dg.DagsterInstance, tags: dict[str, str], pool: str = "bronze_landing") -> str:
    """A STARTED landing run that claims the pool's one slot, as a process that died mid-step leaves it."""
    run_id = str(uuid.uuid4())
    instance.add_run(
        dg.DagsterRun(job_name="land_exports_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags)
    )
    storage = instance.event_log_storage
    storage.set_concurrency_slots(pool, 1)
    assert storage.claim_concurrency_slot(pool, run_id, "land_exports").is_claimed
    return run_id


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_dead_cli_run_is_marked_failed_and_its_slot_freed(workdir):
    cwd, env = workdir
    with dg.DagsterInstance.get() as instance:
        # this host, a process that has ended (and a start that no live process has)
        dead = holder_run(
            instance, {HOST_TAG: socket.gethostname(), PID_TAG: str(dead_pid()), PROCESS_START_TAG: "x:1"}
        )
    run = cli(["run"], cwd, env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"run {dead} (land_exports_job): its process" in run.stdout
    assert "marked failed, slots freed in bronze_landing" in run.stdout
    with dg.DagsterInstance.get() as instance:
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "ended without finishing it" in failure[0].message
        assert held_slots(instance) == {}
        cli_runs = instance.get_runs(filters=dg.RunsFilter(tags={HOST_TAG: socket.gethostname()}))
        assert {r.status for r in cli_runs if r.run_id != dead} == {dg.DagsterRunStatus.SUCCESS}


def test_a_slot_wait_times_out_and_names_the_run_that_holds_the_slot(workdir):
    cwd, env = workdir
    with dg.DagsterInstance.get() as instance:
        # another host's run: its process cannot be checked from here, so it is waited for
        other = holder_run(instance, {HOST_TAG: "another-host", PID_TAG: "1"})
    started = time.monotonic()
    run = cli(["run"], cwd, env, IIOT_SLOT_WAIT_SECONDS="3")
    seconds = time.monotonic() - started
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("iiot-lakehouse: gave up after 3 s waiting for a concurrency slot: pool bronze_landing")
    assert f"held by run {other} (land_exports_job, STARTED, pid 1 on another-host)" in last
    assert seconds < 60
    with dg.DagsterInstance.get() as instance:
        assert held_slots(instance) == {"bronze_landing": [other]}  # the CLI's own claim is gone
        mine = instance.get_runs(filters=dg.RunsFilter(tags={HOST_TAG: socket.gethostname()}))
        assert [r.status for r in mine] == [dg.DagsterRunStatus.CANCELED]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_run_waiting_for_a_slot_within_10_s(workdir, signum):
    cwd, env = workdir
    with dg.DagsterInstance.get() as instance:
        other = holder_run(instance, {HOST_TAG: "another-host", PID_TAG: "1"})
        process = start(["run"], cwd, env)
        deadline = time.monotonic() + BOUND
        # the CLI's landing step waits in the pool's queue: today's hang
        while not any(r != other for r in held_slots(instance).get("bronze_landing", [])):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1)
        sent = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
        assert time.monotonic() - sent < 10
        assert process.returncode == 128 + signum
        name = signal.Signals(signum).name
        assert err.strip().splitlines()[-1] == (
            f"iiot-lakehouse: stopped by {name}; the run in progress was canceled and its pool slots freed"
        )
        assert held_slots(instance) == {"bronze_landing": [other]}
        # the holder ends (its slot freed as the UI's terminate does): the next run goes through
        instance.report_run_failed(instance.get_run_by_id(other), "ended by the test")
        instance.event_log_storage.free_concurrency_slots_for_run(other)
    run = cli(["run"], cwd, env)
    assert run.returncode == 0, run.stderr[-3000:]
