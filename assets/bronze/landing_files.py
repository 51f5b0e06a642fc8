"""Reading a landing file safely: opened once, without following links, checked unchanged before
anything is recorded; its hash and line count, and the members of an archive.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from assets.readers import FileRejected
from assets.readers.archives import iter_members


def file_sha256(path: Path) -> str:
    return _sha256_and_lines(path)[0]


def _sha256_and_lines(path: Path | io.BufferedReader) -> tuple[str, int]:
    """A file's sha256 and its physical lines (a last line without a line break counts too)."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    with open(path, "rb") if isinstance(path, (str, Path)) else path as handle:
        for chunk in iter(lambda: handle.read(8 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), lines + (last != b"\n")


class LocalDigest:
    """A local file's sha256 and line count, read once on a background thread while DuckDB stages the
    file on both cores (hashing a 1.25 GB export first took 1.1 s before staging could start)."""

    def __init__(self, path: Path):
        # opened here, not on the thread: `path` may name a descriptor that is closed once landing ends
        handle = open(path, "rb")  # noqa: SIM115 (closed by the thread)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-digest")
        self._result = pool.submit(_sha256_and_lines, handle)
        pool.shutdown(wait=False)

    def sha256(self) -> str:
        return self._result.result()[0]

    def lines(self) -> int:
        return self._result.result()[1]


def _stream_sha256(opener: Callable) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with opener() as stream:
            while chunk := stream.read(8 << 20):
                digest.update(chunk)
                size += len(chunk)
    except FileRejected:
        raise
    except Exception as exc:  # an archive member that cannot be read rejects the archive, not the pass
        raise FileRejected(f"unreadable: {type(exc).__name__}: {exc}"[:1000]) from None
    return digest.hexdigest(), size


def _members(opened: OpenedFile, max_bytes: int, max_ratio: float) -> Iterator[tuple[str, Callable]]:
    """iter_members of the opened file, where an unexpected error (a zip method Python lacks ...) rejects
    the file with its class and message instead of ending the pass."""
    members = iter_members(opened.path, max_bytes, max_ratio, opened.name)
    while True:
        try:
            member = next(members)
        except StopIteration:
            return
        except FileRejected:
            raise
        except Exception as exc:
            raise FileRejected(f"unreadable: {type(exc).__name__}: {exc}"[:1000]) from None
        yield member


class FileChanged(Exception):
    """The file changed, vanished or was replaced between discovery and commit: nothing is recorded, and a
    later run lands it."""


@dataclass
class OpenedFile:
    """A landing file held open: every read (hash, staging, a reader) goes through this descriptor.

    `path` names the descriptor (/proc/self/fd/N), so that DuckDB and pyarrow, which open paths, read the
    very file that was opened, even if its name is replaced meanwhile.
    """

    fd: int
    stat: os.stat_result
    name: str  # the file's own name (tells a zip or gzip)

    @property
    def path(self) -> Path:
        return Path(f"{_FD_FOLDER}/{self.fd}")

    def close(self) -> None:
        os.close(self.fd)


_FD_FOLDER = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"


def _identity(stat: os.stat_result) -> tuple[int, int, int, int, int]:
    # A write or truncation changes the size, the modification time or at least the change time (which no
    # process can set back); a replacement changes the inode.
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _describe_change(before: os.stat_result, after: os.stat_result) -> str:
    if (before.st_dev, before.st_ino) != (after.st_dev, after.st_ino):
        return "was replaced by another file"
    if after.st_size != before.st_size:
        grew = "grew" if after.st_size > before.st_size else "shrank"
        return f"{grew} from {before.st_size} to {after.st_size} bytes"
    return "was rewritten"


class FileRefused(Exception):
    """The file is not one landing reads (a link, not a regular file, another device, a hard link): it is
    left where it is, with a note, and nothing recorded."""


_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def open_landing_file(landing_root: Path, path: Path, seen: os.stat_result) -> OpenedFile:
    """Open a discovered file for landing, and check the descriptor opened, which every read then uses.

    Each folder from LANDING_ROOT down, and the file, is opened with O_NOFOLLOW relative to the one
    above: a link put in place of any of them is refused, not followed. The file must be a regular file
    on LANDING_ROOT's device, with one link (a hard link may be the name of a file outside), and the
    descriptor's own path must lie inside LANDING_ROOT. FileChanged if it is no longer the file discovery
    saw, FileRefused if it is not one to read.
    """
    root = landing_root.resolve()
    parts = path.relative_to(root).parts
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    folder_fd = root_fd
    fd = -1
    try:
        root_device = os.fstat(root_fd).st_dev
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=folder_fd)
            except FileNotFoundError:
                raise FileChanged(f"its folder {part} was removed after it was found") from None
            except OSError as exc:
                problem = f"its folder {part} was replaced by a link or a file ({exc.strerror}); not read"
                raise FileRefused(problem) from None
            if folder_fd != root_fd:
                os.close(folder_fd)
            folder_fd = next_fd
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | _NOFOLLOW, dir_fd=folder_fd)
        except FileNotFoundError:
            raise FileChanged("deleted after it was found") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileRefused("a link (put in place of the file after it was found); not read") from None
            raise
        stat = os.fstat(fd)
        _check_opened(fd, stat, root, root_device)
        if _identity(stat) != _identity(seen):
            raise FileChanged(f"{_describe_change(seen, stat)} after it was found")
    except BaseException:
        if fd >= 0:
            os.close(fd)
        raise
    finally:
        if folder_fd != root_fd:
            os.close(folder_fd)
        os.close(root_fd)
    return OpenedFile(fd, stat, path.name)


def _check_opened(fd: int, stat: os.stat_result, root: Path, root_device: int) -> None:
    """FileRefused unless the opened descriptor is a regular file of LANDING_ROOT's device, with one link,
    whose path lies inside LANDING_ROOT."""
    if not S_ISREG(stat.st_mode):
        raise FileRefused("not a regular file; not read")
    if stat.st_dev != root_device:
        raise FileRefused("on another device than LANDING_ROOT (a mount inside it); not read")
    if stat.st_nlink > 1:
        raise FileRefused(
            f"has {stat.st_nlink} hard links: one may be a file outside LANDING_ROOT; not read "
            "(copy the file in instead of linking it)"
        )
    if _FD_FOLDER == "/proc/self/fd":
        where = Path(os.readlink(f"{_FD_FOLDER}/{fd}"))
        if not where.is_relative_to(root):
            raise FileRefused("its path leads out of LANDING_ROOT; not read")


def check_unchanged(opened: OpenedFile, path: Path) -> None:
    """FileChanged unless the file under `path` is still, unchanged, the one opened: then every read of
    the descriptor (the hash and the staging) saw the same bytes."""
    now = os.fstat(opened.fd)
    if _identity(now) != _identity(opened.stat):
        raise FileChanged(f"{_describe_change(opened.stat, now)} while it was read")
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        raise FileChanged("was deleted while it was read") from None
    if _identity(named) != _identity(opened.stat):
        raise FileChanged(f"{_describe_change(opened.stat, named)} while it was read")
