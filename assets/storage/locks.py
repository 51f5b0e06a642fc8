"""An exclusive lock between processes of one machine, held on a lock file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold a blocking flock on lock_file; the kernel releases it if the process dies.

    filelock rather than raw fcntl: it handles the open/lock/close and release on errors in one
    well-tested place. preserve_lock_file keeps the file (waiters share its inode) and refuses the
    soft, marker-file fallback, which a killed process would leave held.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_file, preserve_lock_file=True, fallback_to_soft=False):
        yield
