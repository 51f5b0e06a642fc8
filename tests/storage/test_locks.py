"""The exclusive lock between processes: blocks a second holder, is released on exit, on errors and on a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assets.storage.locks import exclusive_lock

# A second process that takes the lock, prints the time it got it, and holds it for `hold` seconds.
_HOLDER = """
import sys, time
from pathlib import Path
from assets.storage.locks import exclusive_lock
with exclusive_lock(Path(sys.argv[1])):
    print(time.monotonic(), flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(lock_file: Path, hold: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock_file), str(hold)], stdout=subprocess.PIPE, text=True
    )


def test_a_held_lock_blocks_another_process_until_released(tmp_path: Path) -> None:
    lock_file = tmp_path / "nested" / "a.lock"  # the folder does not exist yet: the lock creates it
    with exclusive_lock(lock_file):
        other = _holder(lock_file, 0)
        time.sleep(1.0)
        released_at = time.monotonic()
    acquired_at = float(other.stdout.readline())
    other.wait(timeout=30)
    # the other process could only take the lock after this one left the block
    assert acquired_at >= released_at
    assert lock_file.exists()  # the file stays, so later waiters lock the same inode


def test_the_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    lock_file = tmp_path / "a.lock"
    with pytest.raises(RuntimeError), exclusive_lock(lock_file):
        raise RuntimeError("boom")
    started = time.monotonic()
    other = _holder(lock_file, 0)
    other.stdout.readline()
    assert other.wait(timeout=30) == 0
    assert time.monotonic() - started < 20  # not waiting on a lock left held


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    lock_file = tmp_path / "a.lock"
    holder = _holder(lock_file, 600)
    holder.stdout.readline()  # it holds the lock now
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    started = time.monotonic()
    with exclusive_lock(lock_file):
        waited = time.monotonic() - started
    assert waited < 5  # the kernel dropped the dead process's lock; no stale marker to wait out
