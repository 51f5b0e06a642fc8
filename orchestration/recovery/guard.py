"""RunGuard: runs the CLI's jobs so that a signal or a concurrency slot that stays taken ends them cleanly."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import dagster as dg

from .dead_runs import HOST_TAG, PID_TAG, UNFINISHED, describe_run, free_slots, process_tags, recover_dead_runs
from .stopped import RunStopped

SLOT_WAIT_ENV = "IIOT_SLOT_WAIT_SECONDS"
DEFAULT_SLOT_WAIT_SECONDS = 600
# After SIGTERM/SIGINT, Dagster interrupts a running step itself; a run that is still going after
# this long is waiting for a slot, where nothing looks at the signal, and is interrupted by the guard.
SIGNAL_GRACE_SECONDS = 1.0
SIGNAL_LAST_RESORT_SECONDS = 6.0
SIGNAL_EXIT_SECONDS = 8.5


class _Interrupted(KeyboardInterrupt):
    """Raised into the main thread by the guard; Dagster ends the run as interrupted (canceled)."""


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
        free_slots(self.instance, run_id)

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
            described.append(f"{describe_run(run)[:-1]}, {run.status.value}{where})")
        return ", ".join(described)
