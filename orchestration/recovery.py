"""A killed `iiot-lakehouse run` never blocks the next one.

The CLI executes its jobs in its own process (`execute_in_process`) against the instance in
DAGSTER_HOME. Steps claim concurrency-pool slots (`bronze_landing`, `marts_publish`, `delta_*`) in the
instance's storage; a process killed with SIGKILL, or by a power cut, leaves its run STARTED and its
slots claimed, and every later run waits for them forever. This module:

- tags each run the CLI starts with the host, PID and process start of the CLI (`process_tags`);
- at start, fails the CLI's own runs whose process is gone, with a message in their event log, and
  frees their slots (`recover_dead_runs`); the slots of runs that ended long ago are freed too;
- bounds a wait for a slot (IIOT_SLOT_WAIT_SECONDS) and names the run that holds it (`RunGuard`);
- stops the CLI on SIGTERM or SIGINT within seconds, with its run canceled and its slots freed.

Runs launched by the daemon (schedules, sensors, the UI) are covered by Dagster's run monitoring,
configured in the generated dagster.yaml (see cli.INSTANCE_YAML).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

HOST_TAG = "iiot/host"
PID_TAG = "iiot/pid"
# The process's start on this boot: a PID alone may be reused by another process after a kill.
PROCESS_START_TAG = "iiot/process_start"
# Dagster's run monitoring cancels runs older than its max_runtime_seconds; the CLI's runs are watched
# by the CLI itself (a live process is never cut short; a dead one is found at the next start).
MAX_RUNTIME_TAG = "dagster/max_runtime"
SLOT_WAIT_ENV = "IIOT_SLOT_WAIT_SECONDS"
DEFAULT_SLOT_WAIT_SECONDS = 600
# Runs that ended this long ago can no longer have a step running (the daemon's default is the same).
FINISHED_RUN_SLOT_GRACE_SECONDS = 60
# After SIGTERM/SIGINT, Dagster interrupts a running step itself; a run that is still going after
# this long is waiting for a slot, where nothing looks at the signal, and is interrupted by the guard.
SIGNAL_GRACE_SECONDS = 1.0
SIGNAL_LAST_RESORT_SECONDS = 6.0
SIGNAL_EXIT_SECONDS = 8.5

UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class RunStopped(BaseException):
    """The CLI stops before its work is done: a signal, or a slot that stayed taken.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class _Interrupted(KeyboardInterrupt):
    """Raised into the main thread by the guard; Dagster ends the run as interrupted (canceled)."""


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


def _free(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def _describe(run: dg.DagsterRun) -> str:
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
        _free(instance, run.run_id)
        pools = holders.pop(run.run_id, [])
        held = f", slots freed in {', '.join(pools)}" if pools else ""
        lines.append(f"{_describe(run)}: its process {run.tags.get(PID_TAG)} is gone; marked failed{held}")
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
            _free(instance, run.run_id)
            lines.append(
                f"{_describe(run)}: ended {run.status.value.lower()}; slots freed in {', '.join(holders[run.run_id])}"
            )
        known = {r.dagster_run.run_id for r in finished} | {
            r.run_id for r in instance.get_runs(filters=dg.RunsFilter(run_ids=list(holders)))
        }
        for run_id in set(holders) - known:  # a deleted run's slots: nobody will ever free them
            _free(instance, run_id)
            lines.append(f"run {run_id} (deleted): slots freed in {', '.join(holders[run_id])}")
    return lines


def slot_wait_seconds(environ: dict[str, str] | None = None) -> float:
    """IIOT_SLOT_WAIT_SECONDS: how long a step waits for a pool slot before the CLI gives up."""
    env = os.environ if environ is None else environ
    text = (env.get(SLOT_WAIT_ENV) or "").strip()
    if not text:
        return float(DEFAULT_SLOT_WAIT_SECONDS)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{SLOT_WAIT_ENV}={text!r}: must be a positive number of seconds")
    return value


@dataclass
class _Current:
    run_id: str
    waiting_since: float | None = None
    interrupted: bool = False
    canceling: bool = False
    announced: set[str] = field(default_factory=set)


class RunGuard:
    """Runs the CLI's jobs so that a signal or a slot that stays taken ends them cleanly.

    Use as a context manager in the main thread, and execute every job through `execute`. Inside,
    SIGTERM and SIGINT cancel the current run and raise RunStopped (exit 128 + signal); a step that
    waits longer than the slot timeout for a pool slot cancels the run and raises RunStopped naming
    the run that holds the slot. Either way the run's slots are freed before `execute` returns.
    """

    def __init__(
        self, instance: dg.DagsterInstance | None = None, slot_wait: float | None = None, poll: float = 0.5, say=print
    ):
        self.instance = instance
        self.slot_wait = slot_wait_seconds() if slot_wait is None else slot_wait
        self.poll = poll
        self.say = say
        self.signal: int | None = None
        self.signal_at: float | None = None
        self.timeout_message: str | None = None
        self._current: _Current | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._previous: dict[int, object] = {}
        self._wakeup_r = self._wakeup_w = None
        self._previous_wakeup = -1
        self._thread: threading.Thread | None = None
        self._owner: threading.Thread | None = None

    def attach(self, instance: dg.DagsterInstance) -> None:
        """Watch runs of this instance, after setting right the runs of CLIs that died."""
        for line in recover_dead_runs(instance):
            self.say(f"  {line}", flush=True)
        self.instance = instance

    # -- signals ---------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        # Outside a Dagster execution (Dagster swaps its own handler in while a run executes).
        self.signal = self.signal or signum
        raise RunStopped(self._stopped_message(), 128 + signum)

    def _stopped_message(self) -> str:
        name = signal.Signals(self.signal).name if self.signal else "a signal"
        return f"stopped by {name}; the run in progress was canceled and its pool slots freed"

    def __enter__(self) -> RunGuard:
        self._owner = threading.current_thread()
        if self._owner is threading.main_thread():  # signals reach the main thread only
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._on_signal)
            # Dagster replaces the Python handlers while a run executes and only looks at a signal between
            # steps; the wakeup fd is written by the interpreter's C handler whatever Python handler is set.
            self._wakeup_r, self._wakeup_w = socket.socketpair()
            self._wakeup_r.setblocking(False)
            self._wakeup_w.setblocking(False)
            self._previous_wakeup = signal.set_wakeup_fd(self._wakeup_w.fileno(), warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="iiot-run-guard", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread:
            self._thread.join(5)
        if self._wakeup_w is not None:
            signal.set_wakeup_fd(self._previous_wakeup)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        for sock in (self._wakeup_r, self._wakeup_w):
            if sock is not None:
                sock.close()

    # -- execution -------------------------------------------------------------------------------
    def execute(self, job, **kwargs):
        """`job.execute_in_process(**kwargs)` with the process tags, under the guard's watch."""
        if self.signal:
            raise RunStopped(self._stopped_message(), 128 + self.signal)
        if self.instance is None:
            raise RuntimeError("RunGuard.attach(instance) before execute")
        run_id = str(uuid.uuid4())
        tags = {**(kwargs.pop("tags", None) or {}), **process_tags()}
        with self._lock:
            self._current = _Current(run_id)
        result = None
        try:
            result = job.execute_in_process(instance=self.instance, run_id=run_id, tags=tags, **kwargs)
        except _Interrupted:
            pass  # raised before or after Dagster's own handling of the run: settled below
        finally:
            with self._lock:
                self._current = None
            self._settle(run_id)
        self._read_signals()  # a signal Dagster took while the run executed
        if self.signal:
            raise RunStopped(self._stopped_message(), 128 + self.signal)
        if self.timeout_message:
            raise RunStopped(self.timeout_message, 1)
        return result

    def _settle(self, run_id: str) -> None:
        """A run that ended in any way holds no slot; one that did not record its end is canceled."""
        run = self.instance.get_run_by_id(run_id)
        if run is not None and run.status in UNFINISHED:
            reason = self.timeout_message or self._stopped_message()
            self.instance.report_run_canceled(run, f"iiot-lakehouse: {reason}")
        _free(self.instance, run_id)

    def _cancel_current(self, current: _Current, message: str) -> None:
        """Mark the run canceling (Dagster then ends it as canceled) and interrupt the main thread."""
        run = self.instance.get_run_by_id(current.run_id)
        if run is not None and run.status in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.NOT_STARTED):
            self.instance.report_run_canceling(run, message)
        with self._lock:
            if self._current is not current or current.interrupted:
                return
            current.interrupted = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._owner.ident), ctypes.py_object(_Interrupted)
            )

    def _watch(self) -> None:
        while not self._done.is_set():
            try:
                self._check_signals()
                self._check_slots()
            except Exception as exc:  # noqa: BLE001 - the watch must outlive a storage hiccup
                self.say(f"  (run guard: {type(exc).__name__}: {exc})")
            self._done.wait(self.poll)

    def _read_signals(self) -> None:
        if self._wakeup_r is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            for signum in self._wakeup_r.recv(64):
                if signum in (signal.SIGTERM, signal.SIGINT) and self.signal is None:
                    self.signal = signum
                    self.signal_at = time.monotonic()

    def _check_signals(self) -> None:
        self._read_signals()
        current = self._current
        if not self.signal or current is None or current.interrupted or self.signal_at is None:
            return
        message = f"iiot-lakehouse: {self._stopped_message()}"
        if not current.canceling:
            current.canceling = True
            run = self.instance.get_run_by_id(current.run_id)
            if run is not None and run.status == dg.DagsterRunStatus.STARTED:
                self.instance.report_run_canceling(run, message)
        # Dagster interrupts a step running Python code itself; a run waiting for a slot never looks.
        since = time.monotonic() - self.signal_at
        if (since >= SIGNAL_GRACE_SECONDS and self._waiting_for_slot(current)) or since >= SIGNAL_LAST_RESORT_SECONDS:
            self._cancel_current(current, message)
        if since >= SIGNAL_EXIT_SECONDS:
            # a step stuck in native code: end the process, its run canceled and its slots freed
            self._settle(current.run_id)
            print(f"iiot-lakehouse: {self._stopped_message()}", file=sys.stderr, flush=True)
            os._exit(128 + self.signal)

    def _waiting_for_slot(self, current: _Current) -> bool:
        storage = self.instance.event_log_storage
        if not storage.supports_global_concurrency_limits:
            return False
        infos = storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values()
        return any(s.run_id == current.run_id and s.assigned_timestamp is None for i in infos for s in i.pending_steps)

    def _check_slots(self) -> None:
        current = self._current
        if self.instance is None or current is None or current.interrupted:
            return
        storage = self.instance.event_log_storage
        if not storage.supports_global_concurrency_limits:
            return
        keys = sorted(storage.get_concurrency_keys())
        waiting = {}
        for key, info in storage.get_concurrency_infos(keys).items():
            mine = [s for s in info.pending_steps if s.run_id == current.run_id and s.assigned_timestamp is None]
            if mine:
                waiting[key] = sorted({slot.run_id for slot in info.claimed_slots if slot.run_id != current.run_id})
        if not waiting:
            current.waiting_since = None
            return
        # A holder whose process died while we wait is set right at once, as at the start of a run.
        recovered = recover_dead_runs(self.instance)
        for line in recovered:
            self.say(f"  {line}", flush=True)
        if recovered:
            return
        now = time.monotonic()
        if current.waiting_since is None:
            current.waiting_since = now
        holders = "; ".join(f"pool {key} held by {self._holder(run_ids)}" for key, run_ids in sorted(waiting.items()))
        if holders not in current.announced and now - current.waiting_since >= min(10.0, self.slot_wait / 2):
            current.announced.add(holders)
            self.say(f"  waiting for a slot: {holders}", flush=True)
        if now - current.waiting_since >= self.slot_wait:
            self.timeout_message = (
                f"gave up after {self.slot_wait:g} s waiting for a concurrency slot: {holders}. "
                f"If that run is dead, terminate it in the Dagster UI (Runs) to free its slots; "
                f"{SLOT_WAIT_ENV} sets how long to wait"
            )
            self._cancel_current(current, f"iiot-lakehouse: {self.timeout_message}")

    def _holder(self, run_ids: list[str]) -> str:
        if not run_ids:
            return "no run (slots in use by pending claims)"
        described = []
        for run_id in run_ids:
            run = self.instance.get_run_by_id(run_id)
            if run is None:
                described.append(f"run {run_id} (deleted)")
                continue
            where = ""
            if run.tags.get(PID_TAG):
                where = f", pid {run.tags[PID_TAG]} on {run.tags.get(HOST_TAG, '?')}"
            described.append(f"{_describe(run)[:-1]}, {run.status.value}{where})")
        return ", ".join(described)
