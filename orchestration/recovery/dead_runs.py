"""The runs of a CLI whose process is gone: tagging the CLI's runs with its process, telling whether that
process still runs, and failing the dead ones and freeing their concurrency-pool slots."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import dagster as dg

HOST_TAG = "iiot/host"
PID_TAG = "iiot/pid"
# The process's start on this boot: a PID alone may be reused by another process after a kill.
PROCESS_START_TAG = "iiot/process_start"
# Dagster's run monitoring cancels runs older than its max_runtime_seconds; the CLI's runs are watched
# by the CLI itself (a live process is never cut short; a dead one is found at the next start).
MAX_RUNTIME_TAG = "dagster/max_runtime"
# Runs that ended this long ago can no longer have a step running (the daemon's default is the same).
FINISHED_RUN_SLOT_GRACE_SECONDS = 60

UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _proc_start(pid: int) -> str | None:
    """The boot and the start time (clock ticks after boot) of a process, where /proc tells them."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count fields after its closing one
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"


def process_tags() -> dict[str, str]:
    """The tags that let a later CLI tell whether the process of a run is still alive."""
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
        PROCESS_START_TAG: _proc_start(os.getpid()) or "",
        MAX_RUNTIME_TAG: "0",
    }


def process_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process that started a run still runs: None when it ran on another host (unknown)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not (tags.get(PID_TAG) or "").isdigit():
        return None
    pid = int(tags[PID_TAG])
    recorded = tags.get(PROCESS_START_TAG) or ""
    if recorded and Path("/proc").is_dir():
        # a reused PID is another process: its start differs; a reboot changes the boot id
        return _proc_start(pid) == recorded
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _slot_holders(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Run id -> the pools in which it claims a slot or waits for one."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    holders: dict[str, list[str]] = {}
    keys = sorted(storage.get_concurrency_keys())
    for key, info in storage.get_concurrency_infos(keys).items():
        for run_id in {slot.run_id for slot in info.claimed_slots} | {s.run_id for s in info.pending_steps}:
            holders.setdefault(run_id, []).append(key)
    return holders


def free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def describe_run(run: dg.DagsterRun) -> str:
    partition = run.tags.get("dagster/partition")
    return f"run {run.run_id} ({run.job_name}{f', {partition}' if partition else ''})"


def recover_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the CLI's runs whose process is gone and free the pool slots no live run uses.

    A run started by a CLI on this host whose process no longer exists (killed, power cut) is marked
    failed with a message in its event log, and its slots are freed. Slots still held by any run that
    ended more than a minute ago are freed too (a run killed after its end was recorded). Returns one
    line per run set right, for the CLI to print.
    """
    lines = []
    holders = _slot_holders(instance)
    host = socket.gethostname()
    for run in instance.get_runs(filters=dg.RunsFilter(tags={HOST_TAG: host}, statuses=UNFINISHED)):
        if process_alive(run.tags) is not False:
            continue
        message = (
            f"The process of this run (pid {run.tags.get(PID_TAG)} on {host}) ended without finishing it "
            "(killed, or the machine stopped); marked failed by the next `iiot-lakehouse run`, its pool slots freed."
        )
        instance.report_run_failed(run, message)
        free_slots(instance, run.run_id)
        pools = holders.pop(run.run_id, [])
        held = f", slots freed in {', '.join(pools)}" if pools else ""
        lines.append(f"{describe_run(run)}: its process {run.tags.get(PID_TAG)} is gone; marked failed{held}")
    if holders:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=FINISHED_RUN_SLOT_GRACE_SECONDS)
        finished = instance.get_run_records(
            filters=dg.RunsFilter(
                run_ids=list(holders),
                statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
                updated_before=cutoff,
            )
        )
        for record in finished:
            run = record.dagster_run
            free_slots(instance, run.run_id)
            pools = ", ".join(holders[run.run_id])
            lines.append(f"{describe_run(run)}: ended {run.status.value.lower()}; slots freed in {pools}")
        known = {r.dagster_run.run_id for r in finished} | {
            r.run_id for r in instance.get_runs(filters=dg.RunsFilter(run_ids=list(holders)))
        }
        for run_id in set(holders) - known:  # a deleted run's slots: nobody will ever free them
            free_slots(instance, run_id)
            lines.append(f"run {run_id} (deleted): slots freed in {', '.join(holders[run_id])}")
    return lines
