"""Landing export files into bronze: every row ends in bronze or in quarantine, never twice.

For each file: hash it (a file already in the ledger with the same content is not landed again; a
file under a new name is staged while it is hashed), stage it into a local Parquet file (a plain AVEVA
export in one DuckDB statement, any other file through its reader in Arrow batches), classify every
staged point against what bronze already holds (new, identical duplicate, or a conflicting value),
then commit in an order that a crash at any point can repeat safely:

1. quarantine rows of this file are replaced (keyed by the file's name and content hash),
2. the new and changed points are committed to bronze, at most COMMIT_ROWS per Delta commit (a repeat
   finds the committed ones as duplicates),
3. the ledger row of this file is replaced (keyed the same way).

Rows in = rows new + rows duplicate + rows quarantined, and the ledger records each figure.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import errno
import hashlib
import io
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from stat import S_ISREG

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..readers import FileRejected, read_source_file, source_options, stage_source_file, staged_rows
from ..readers.archives import is_zip, iter_members
from ..readers.csv_stream import BLOCK_SIZE, large_blocks, line_too_long
from ..readers.line_limit import limit_lines
from ..readers.parsed import POINT_COLUMNS, REJECT_COLUMNS
from . import delta, object_store
from .locks import exclusive_lock
from .plant import PlantConfig, Source
from .schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG, UTC_TS
from .validation import KEY_CHECKED_BY_CALLER, ValidationResult, validated_stream

# Files still being written by the exporting system, by their usual temporary names.
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")

# Crash tests set this to a point name below to cut the power there: the process kills itself (SIGKILL).
KILL_AT_ENV = "IIOT_LANDING_KILL_AT"


def _kill_point(point: str) -> None:
    """A named point in the commit order (staged, quarantined, points_committed, ledger_written, landed).

    Does nothing unless IIOT_LANDING_KILL_AT names this point; the crash tests use it to stop a landing
    exactly between two commits, where random timing rarely lands.
    """
    if os.environ.get(KILL_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Lakehouse:
    """Where the lakehouse tables live: a root URI and the storage options to reach it."""

    root: str
    # credentials of an object store: kept out of repr, so that no log or error message shows them
    storage_options: dict[str, str] = field(default_factory=dict, repr=False)

    def uri(self, table: str) -> str:
        return delta.table_uri(self.root, table)


@dataclass
class FileReport:
    """What landing one file did; the same figures go into the file ledger."""

    source: str
    source_file: str
    file_sha256: str
    # landed | rejected | duplicate (same content as a file landed before) | skipped; not in the ledger:
    # deferred (left for a later run) | refused (not read: a link, a hard link, not a regular file)
    status: str
    message: str | None = None
    format: str = ""
    exported_at: dt.datetime | None = None
    rows_in: int = 0  # values in: every point and every quarantined row (= rows_landed + rows_quarantined)
    lines_in: int = 0  # data lines (records) read: a wide line holds a value per channel, a long line one
    rows_new: int = 0
    rows_changed: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    min_ts: dt.datetime | None = None
    max_ts: dt.datetime | None = None
    new_hours: list[dt.datetime] = field(default_factory=list)
    size_bytes: int = 0
    file_version: str | None = None  # device, inode and change time (local) or ETag (object storage)
    validation: ValidationResult = field(default_factory=ValidationResult)
    tag_stats: pa.Table | None = None  # per tag: the points this file added (for the tag catalog)
    units: dict[str, str] = field(default_factory=dict)  # engineering units the export states, per tag

    @property
    def file_key(self) -> str:
        """The ledger key: this content under this name (a copy under another name is landed and counted too)."""
        return hashlib.sha256(f"{self.source_file}\0{self.file_sha256}".encode()).hexdigest()

    @property
    def rows_landed(self) -> int:
        return self.rows_new + self.rows_changed + self.rows_duplicate


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


def discover_files(landing_root: Path, source: Source) -> tuple[list[Path], list[str]]:
    """The files waiting in a source's folder, and notes on anything that was passed over (never silently)."""
    base = (landing_root / source.folder).resolve()
    root = landing_root.resolve()
    found: list[Path] = []
    notes: list[str] = []
    if not base.is_relative_to(root):
        return [], [f"{source.folder}: the folder leaves LANDING_ROOT; nothing read"]
    if not base.is_dir():
        return [], [
            f"{source.folder}/: the folder of source {source.name} does not exist under LANDING_ROOT; nothing read"
        ]
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = display_name(path.relative_to(root).as_posix())
            if name.startswith("."):
                continue
            if name.lower().endswith(PARTIAL_SUFFIXES):
                notes.append(f"{rel}: still being written (temporary name), left for the next run")
                continue
            if path.is_symlink():
                try:
                    leaves = not path.resolve().is_relative_to(root)
                except OSError:
                    notes.append(f"{rel}: replaced while it was listed; left for the next run")
                    continue
                if leaves:
                    notes.append(f"{rel}: a link that leaves LANDING_ROOT; not read")
                else:
                    # landing opens no link (see open_landing_file): the file it points to lands where it lies
                    notes.append(f"{rel}: a link; landing reads no links (the file it points to lands where it lies)")
                continue
            found.append(path)
    return found, notes


@dataclass
class KnownFiles:
    """What the ledger already holds: file keys (name + content) and, per content hash, the first name."""

    keys: set[str] = field(default_factory=set)
    contents: dict[str, str] = field(default_factory=dict)
    # (name, size, modification time) of files in the ledger -> their versions (inode and change time,
    # or ETag): a file matching all four is not even hashed again. Name, size and time alone are not
    # enough: `cp -p` or `touch -r` keep the time, and object storage dates to the whole second.
    signatures: dict[tuple[str, int, dt.datetime], set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)

    def add(self, report: FileReport) -> None:
        self.keys.add(report.file_key)
        self._sign(report.source_file, report.size_bytes, report.exported_at, report.file_version)
        if report.status == "landed":
            self.contents.setdefault(report.file_sha256, report.source_file)

    def _sign(self, name: str, size: int, exported_at: dt.datetime | None, version: str | None) -> None:
        self.names.add(name)
        if exported_at is not None and version:
            self.signatures.setdefault((name, size, exported_at), set()).add(version)

    def may_have(self, name: str, size: int, exported_at: dt.datetime) -> bool:
        """Whether a file of this name, size and time is in the ledger under some version."""
        return (name, size, exported_at) in self.signatures

    def has(self, name: str, size: int, exported_at: dt.datetime, version: str | None) -> bool:
        """Whether exactly this version of the file is in the ledger (so it need not be read again)."""
        return version is not None and version in self.signatures.get((name, size, exported_at), ())


def known_files(lakehouse: Lakehouse) -> KnownFiles:
    """The ledger's file keys, and the first name each landed content hash came under."""
    known = KnownFiles()
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return known
    # a ledger written before file versions were recorded has no such column until its next write
    version = "file_version" if "file_version" in table.schema().to_arrow().names else "null"
    with delta.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        rows = con.sql(
            f"select file_key, file_sha256, source_file, status, size_bytes, exported_at, {version} from ledger "
            "order by landed_at, source_file"
        ).fetchall()
    for key, sha, name, status, size, exported_at, file_version in rows:
        known.keys.add(key)
        known._sign(name, size, exported_at, file_version)
        if status == "landed":
            known.contents.setdefault(sha, name)
    return known


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


def local_version(stat: os.stat_result) -> str:
    """A local file's version: device, inode and change time. Writing the file or replacing it (even
    with the same size and a preserved modification time) changes at least one of them."""
    return f"inode:{stat.st_dev}:{stat.st_ino}:{stat.st_ctime_ns}"


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


def _deferred(
    source: Source, rel: str, reason: str, stat: os.stat_result | None = None, status: str = "deferred"
) -> FileReport:
    """A file left for a later run (`deferred`), or not read at all (`refused`): nothing recorded."""
    return FileReport(
        source=source.name,
        source_file=rel,
        file_sha256="",
        status=status,
        message=f"{reason}; nothing recorded, landed on a later run" if status == "deferred" else reason,
        format=source.format,
        size_bytes=stat.st_size if stat is not None else 0,
    )


def _within(path: Path, landing_root: Path) -> Path:
    """The file's path under LANDING_ROOT's real path. Discovery's paths are real already; another is
    taken from its folder's real path. The file itself is never followed (it may be a link put in its
    place); FileRefused if the path leads out of LANDING_ROOT."""
    root = landing_root.resolve()
    if not (path.is_absolute() and path.is_relative_to(root) and ".." not in path.parts):
        path = path.parent.resolve() / path.name
    if not path.is_relative_to(root):
        raise FileRefused("its folder leads out of LANDING_ROOT; not read")
    return path


def _relative(path: Path, landing_root: Path) -> str:
    """The file's path relative to LANDING_ROOT (see _within). Bytes of a name that are not UTF-8 are
    shown as \\xNN."""
    return display_name(_within(path, landing_root).relative_to(landing_root.resolve()).as_posix())


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as lone surrogates, which no table,
    log or terminal takes) are shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def land_path(
    lakehouse: Lakehouse,
    source: Source,
    landing_root: Path,
    path: Path,
    known: KnownFiles,
    now: dt.datetime | None = None,
    version: str | None = None,
    settle_seconds: float = 0.0,
) -> list[FileReport]:
    """Land a file, or each member of an archive (named `archive.zip!member`), and report on each.

    `version` identifies the content where the local file is a copy (the ETag of a spooled object);
    by default it is the local file's own (`local_version`). A file modified less than `settle_seconds`
    ago, or one that changes, vanishes or is replaced before its commit, is left for a later run (a report
    with status `deferred`, nothing recorded).
    """
    now = now or dt.datetime.now(dt.UTC)
    try:
        path = _within(path, landing_root)
    except FileRefused as exc:
        return [_deferred(source, display_name(path.name), str(exc), status="refused")]
    rel = _relative(path, landing_root)
    try:
        stat = os.lstat(path)
    except FileNotFoundError:
        return [_deferred(source, rel, "deleted after it was found")]
    age = now.timestamp() - stat.st_mtime
    if settle_seconds and age < settle_seconds:
        return [
            _deferred(
                source,
                rel,
                f"modified {max(age, 0):.0f} s ago, within the settle time of {settle_seconds:g} s "
                "(LANDING_SETTLE_SECONDS): it may still be written",
                stat,
            )
        ]
    try:
        opened = open_landing_file(landing_root, path, stat)
    except FileChanged as exc:
        return [_deferred(source, rel, str(exc), stat)]
    except FileRefused as exc:
        return [_deferred(source, rel, str(exc), stat, status="refused")]
    try:
        return _land_opened(lakehouse, source, rel, path, opened, known, now, version)
    except FileChanged as exc:
        return [_deferred(source, rel, str(exc), stat)]
    finally:
        opened.close()


def _land_opened(
    lakehouse: Lakehouse,
    source: Source,
    rel: str,
    path: Path,
    opened: OpenedFile,
    known: KnownFiles,
    now: dt.datetime,
    version: str | None,
) -> list[FileReport]:
    stat = opened.stat
    exported_at = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
    version = version or local_version(stat)
    limits = source.options or {}
    max_bytes = int(float(limits.get("max_uncompressed_mb", 8192)) * (1 << 20))
    max_ratio = float(limits.get("max_compression_ratio", 200))
    reports: list[FileReport] = []
    unchanged = partial(check_unchanged, opened, path)
    if known.has(rel, stat.st_size, exported_at, version):
        # the same name, size, modification time and version as a file in the ledger (landed, or an
        # archive or a name rejected as a whole): not read again
        return [
            FileReport(
                source=source.name,
                source_file=rel,
                file_sha256="",
                status="skipped",
                message="this file was landed before",
                exported_at=exported_at,
                size_bytes=stat.st_size,
                file_version=version,
            )
        ]
    try:
        if display_name(path.name) != path.name:
            raise FileRejected("the file name is not UTF-8 text (its other bytes are shown as \\xNN); rename it")
        if is_zip(path):
            for member, opener in _members(opened, max_bytes, max_ratio):
                member_sha, size = _stream_sha256(opener)
                name = f"{rel}!{member}"
                reports.append(
                    land_unit(
                        lakehouse, source, name, member_sha, size, exported_at, opener, known, now, version, unchanged
                    )
                )
            return reports
        ((_, opener),) = list(_members(opened, max_bytes, max_ratio))
        # A name the ledger has is hashed first: most often the same content, rewritten or touched, and
        # then there is nothing to stage. A new name is staged while it is hashed.
        sha = file_sha256(opened.path) if rel in known.names else LocalDigest(opened.path)
        return [
            land_unit(lakehouse, source, rel, sha, stat.st_size, exported_at, opener, known, now, version, unchanged)
        ]
    except FileRejected as exc:
        # The archive as a whole is refused (a bomb, a member leaving its folder, not a zip at all).
        report = FileReport(
            source=source.name,
            source_file=rel,
            file_sha256=file_sha256(opened.path),
            status="rejected",
            message=str(exc),
            format=source.format,
            exported_at=exported_at,
            size_bytes=stat.st_size,
            file_version=version,
        )
        unchanged()
        if report.file_key not in known.keys:
            write_ledger_row(lakehouse, report, now)
        known.add(report)
        return [*reports, report]


def land_unit(
    lakehouse: Lakehouse,
    source: Source,
    name: str,
    sha: str | LocalDigest,
    size: int,
    exported_at: dt.datetime,
    opener: Callable,
    known: KnownFiles,
    now: dt.datetime,
    version: str | None = None,
    unchanged: Callable[[], None] | None = None,
) -> FileReport:
    """Land one file's content: see the module docstring for the order of the commits.

    With a `LocalDigest` for `sha`, the file is staged while it is hashed; a file the ledger turns out
    to know (the same content under this name or another) is then recorded as before, its staging
    thrown away. `unchanged` raises FileChanged when the file changed while it was read: it is called
    once the content is hashed and staged, before anything is recorded.
    """
    report = FileReport(
        source=source.name,
        source_file=name,
        file_sha256=sha if isinstance(sha, str) else "",
        status="landed",
        format=source.format,
        exported_at=exported_at,
        size_bytes=size,
        file_version=version,
    )
    with _staging_dir() as staging:
        points_path = staging / "points.parquet"
        rejects_path = staging / "rejects.parquet"
        if isinstance(sha, LocalDigest):
            _stage_file(source, opener, report, points_path, rejects_path, sha.lines)
            report.file_sha256 = sha.sha256()
        if unchanged is not None:
            unchanged()
        if _landed_before(lakehouse, report, known, now):
            return report
        if not isinstance(sha, LocalDigest):
            _stage_file(source, opener, report, points_path, rejects_path)
            if unchanged is not None:
                unchanged()  # the hash was read before this staging: the same bytes only if nothing changed
        pa.default_memory_pool().release_unused()  # hand the parse buffers back before the commit
        _kill_point("staged")
        _classify_and_commit(
            lakehouse, source, name, report.file_sha256, report, points_path, rejects_path, staging, now
        )
    known.add(report)
    return report


def _landed_before(lakehouse: Lakehouse, report: FileReport, known: KnownFiles, now: dt.datetime) -> bool:
    """Whether the ledger has this content already, under this name (skipped) or another (recorded as a
    duplicate); the report says which."""
    if report.file_key in known.keys:
        report.status = "skipped"
        report.message = "this file was landed before"
        report.rows_in = report.lines_in = 0
        return True
    first_name = known.contents.get(report.file_sha256)
    if first_name is not None and first_name != report.source_file:
        # The same content under another name: recorded, not landed twice.
        report.status = "duplicate"
        report.message = f"same content as {first_name}, landed before"
        report.rows_in = report.lines_in = 0
        write_ledger_row(lakehouse, report, now)
        known.add(report)
        return True
    return False


def land_file(
    lakehouse: Lakehouse,
    source: Source,
    landing_root: Path,
    path: Path,
    known: KnownFiles | None = None,
    now: dt.datetime | None = None,
) -> FileReport:
    """Land a single plain or compressed file (the first report, for callers that land one file)."""
    return land_path(lakehouse, source, landing_root, path, known or known_files(lakehouse), now)[0]


STAGING_PREFIX = "iiot-landing-"


@contextmanager
def _staging_dir() -> Iterator[Path]:
    # The pid in the name lets a later run clear what a killed landing left behind (_clear_dead_staging).
    folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _clear_dead_staging() -> None:
    """Remove staging folders of landing processes that no longer run (killed, or the power cut)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*-*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # a live process of another user


# Batches parsed ahead of the one being written: the reader parses while the Parquet writer writes.
READ_AHEAD = 2


def _read_ahead(batches, depth: int = READ_AHEAD) -> Iterator:
    """The items of `batches`, produced by a background thread at most `depth` ahead of the caller.

    The reader keeps parsing while the caller writes, and memory holds at most `depth` more batches. An
    exception of the reader is raised to the caller at the point the batches ended, as if read in line.
    The thread runs in a copy of the caller's context (the parse block size is a context variable).
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(batches)
        try:
            for batch in iterator:
                if not put(("batch", batch)):
                    break
            else:
                put(("done", None))
        except BaseException as exc:  # handed to the caller, raised there
            put(("error", exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(produce,), name="landing-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()


def _stage_file(
    source: Source,
    opener: Callable,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    line_count: Callable[[], int] | None = None,
) -> None:
    """Stage the file into two local Parquet files: points and rejects.

    A plain file of a format with a whole-file stager is staged by DuckDB in one parallel pass, into a
    points file that holds the rejected rows too (see _register_points); they are copied to the rejects
    file. Any other file streams through its reader, and a line longer than a parse block reads the whole
    file again in larger blocks; a line longer than the source's `max_line_bytes` is quarantined.

    An unexpected error of a reader (a RecursionError, an OverflowError, a MemoryError ...) rejects
    this file alone: its lines go to quarantine with the error's class and message, and landing goes on
    with the next file.
    """
    try:
        _stage_readable_file(source, opener, report, points_path, rejects_path, line_count)
    except FileChanged:
        raise
    except Exception as exc:
        reason = f"unreadable: {type(exc).__name__}: {exc}"[:1000]
        report.status, report.message = "rejected", reason
        report.rows_new = report.rows_changed = report.rows_duplicate = 0
        report.units.clear()
        pq.ParquetWriter(points_path, POINT_COLUMNS).close()
        with pq.ParquetWriter(rejects_path, REJECT_COLUMNS) as rejects_writer:
            report.rows_in = report.lines_in = _quarantine_raw_lines(
                opener, reason, rejects_writer, _has_header(source)
            )


def _line_limit(source: Source) -> int | None:
    """The source's `max_line_bytes`, for a text format whose readers hold a line whole (None: no limit
    applies here; sensor_jsonl applies its own, a JSON document has max_json_mb, Parquet has no lines)."""
    if source.format not in LINE_LIMITED_FORMATS:
        return None
    try:
        return int(source_options(source)["max_line_bytes"])
    except FileRejected:
        return None  # the reader rejects the file with the option's reason


LINE_LIMITED_FORMATS = (
    "aveva_historian_csv",
    "pi_csv",
    "ignition_wide_csv",
    "ignition_tall_csv",
    "proficy_csv",
    "sensor_csv",
)


def _stage_readable_file(
    source: Source,
    opener: Callable,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    line_count: Callable[[], int] | None,
) -> None:
    limit = _line_limit(source)
    rows = stage_source_file(source, opener, points_path, line_count, max_line_bytes=limit)
    if rows is not None:
        report.rows_in = report.lines_in = rows  # the whole-file stager reads long exports: a value per line
        with delta.duckdb_session(memory_limit="256MB") as con:
            con.execute(
                f"copy (select source_line as line, reason, raw from {staged_rows(points_path)} "
                f"where reason is not null) to {delta.string_literal(str(rejects_path))} (format parquet)"
            ).fetchall()
        return
    # Every CSV reader parses in blocks of BLOCK_SIZE (csv_stream.py), and a longer line fails the first
    # pass: below that the limit need not be looked for (filtering every line cost 4 ms per MB).
    limited = limit is not None and limit < BLOCK_SIZE
    if limited:
        opener = limit_lines(opener, limit)
    _stream(source, opener, report, points_path, rejects_path)
    if report.message and line_too_long(report.message):
        report.rows_in, report.lines_in, report.status, report.message = 0, 0, "landed", None
        if limit is not None and not limited:
            opener, limited = limit_lines(opener, limit), True
        with large_blocks():
            _stream(source, opener, report, points_path, rejects_path)
    if limited and opener.overlong:
        _quarantine_overlong(report, rejects_path, opener.overlong, limit)
        if report.status == "rejected" and 1 in opener.overlong:
            # the reader was given an empty first line: the reason is the header's length
            report.message = f"line 1 (the header) is longer than {limit} bytes (source option max_line_bytes)"


def _quarantine_overlong(report: FileReport, rejects_path: Path, overlong: dict[int, bytes], limit: int) -> None:
    """Put each line longer than the limit into quarantine, in place of what the reader made of the empty
    line it was given instead (a row with too few fields, or nothing)."""
    rejects = pq.read_table(rejects_path).cast(REJECT_COLUMNS)
    lines = pa.array(sorted(overlong), pa.int64())
    standing_in = pc.is_in(rejects["line"], value_set=lines)
    replaced = pc.sum(standing_in).as_py() or 0
    uncounted = len(overlong) - len(set(pc.filter(rejects["line"], standing_in).to_pylist()))
    reason = f"line is longer than {limit} bytes (source option max_line_bytes); not read"
    ours = pa.table(
        {
            "line": lines,
            "reason": [reason] * len(overlong),
            "raw": [overlong[n].decode("utf-8", errors="replace") for n in sorted(overlong)],
        },
        schema=REJECT_COLUMNS,
    )
    pq.write_table(pa.concat_tables([rejects.filter(pc.invert(standing_in)), ours]), rejects_path)
    report.rows_in += len(overlong) - replaced
    report.lines_in += uncounted  # a line the reader skipped as empty was not counted as read


def _stream(source: Source, opener: Callable, report: FileReport, points_path: Path, rejects_path: Path) -> None:
    """Stream the file through its reader into the points and rejects files."""
    points_writer = pq.ParquetWriter(points_path, POINT_COLUMNS)
    rejects_writer = pq.ParquetWriter(rejects_path, REJECT_COLUMNS)
    try:
        try:
            for batch in _read_ahead(read_source_file(source, opener)):
                values = batch.points.num_rows + batch.rejects.num_rows
                report.rows_in += values
                report.lines_in += values if batch.lines is None else batch.lines
                report.units.update(batch.units)
                if batch.points.num_rows:
                    points_writer.write_table(batch.points)
                if batch.rejects.num_rows:
                    rejects_writer.write_table(batch.rejects)
        except FileRejected as exc:
            if report.rows_in == 0:
                # Nothing could be read: the whole file goes to quarantine, line by line.
                report.status = "rejected"
                report.message = str(exc)
                report.rows_in = report.lines_in = _quarantine_raw_lines(
                    opener, str(exc), rejects_writer, _has_header(source)
                )
            else:
                # The file broke part-way (truncated, corrupt): keep what was read, record the rest.
                _record_break(report, f"unreadable after {report.rows_in} rows: {exc}", rejects_writer)
        except (OSError, EOFError, UnicodeDecodeError, pa.ArrowInvalid) as exc:
            _record_break(report, f"unreadable after {report.rows_in} rows: {exc}", rejects_writer)
            if report.rows_in == 1:
                report.status = "rejected"
        for problem in getattr(opener, "problems", []):
            # a compressed file that breaks part-way: what came before landed, the break is recorded
            _record_break(report, f"unreadable after {report.rows_in} rows: {problem}", rejects_writer)
    finally:
        points_writer.close()
        rejects_writer.close()


def _record_break(report: FileReport, message: str, rejects_writer: pq.ParquetWriter) -> None:
    """Where a file breaks part-way: one quarantine row without a line, counted as a row in, whose
    reason is the report's message."""
    report.message = message
    rejects_writer.write_table(
        pa.table({"line": pa.array([None], pa.int64()), "reason": [message], "raw": [None]}, schema=REJECT_COLUMNS)
    )
    report.rows_in += 1


def _has_header(source: Source) -> bool:
    """Whether the format's first line names columns (JSON lines and documents have data from line 1)."""
    return source.format not in ("sensor_jsonl", "pi_webapi_json")


def _quarantine_raw_lines(opener: Callable, reason: str, writer: pq.ParquetWriter, header: bool = True) -> int:
    """Put every line of an unreadable file into quarantine so that none is lost without a trace.

    The file is read in blocks, and at most the first 10,000 bytes of a line are kept: a rejected
    multi-GB export, or one line of 2 GB, costs no more memory than a small file.
    """
    count = 0
    lines, raws = [], []
    try:
        with opener() as stream:
            for number, head in _line_heads(stream):
                if (header and number == 1) or not head.strip():
                    continue  # the header (or what stands in its place) and blank lines carry no point
                lines.append(number)
                raws.append(head.decode("utf-8", errors="replace").rstrip("\r\n")[:10_000])
                count += 1
                if len(lines) >= 50_000:
                    writer.write_table(_raw_rejects(lines, raws, reason))
                    lines, raws = [], []
    except (OSError, EOFError, pa.ArrowInvalid, FileRejected) as exc:
        lines.append(None)
        raws.append(None)
        count += 1
        reason = f"{reason}; unreadable after line {count}: {exc}"
    if lines:
        writer.write_table(_raw_rejects(lines, raws, reason))
    # An empty file has no row to quarantine: its ledger row (status rejected, with the reason) tells.
    return count


def _line_heads(stream, keep: int = 10_004) -> Iterator[tuple[int, bytes]]:
    """(line number, its first `keep` bytes) for every line of a binary stream, read in 8 MB blocks."""
    number, head, length = 1, bytearray(), 0
    while block := stream.read(8 << 20):
        start = 0
        while start < len(block):
            end = block.find(b"\n", start)
            stop = len(block) if end < 0 else end
            if length < keep:
                head += block[start : min(stop, start + keep - length)]
            length += stop - start
            if end < 0:
                break
            yield number, bytes(head)
            number, head, length = number + 1, bytearray(), 0
            start = end + 1
    if length:
        yield number, bytes(head)


def _raw_rejects(lines: list, raws: list, reason: str) -> pa.Table:
    return pa.table(
        {"line": pa.array(lines, pa.int64()), "reason": [f"file rejected: {reason}"] * len(lines), "raw": raws},
        schema=REJECT_COLUMNS,
    )


_REPEAT_KEYS_SQL = """
create temp table repeat_keys as
select distinct h
from (select h, lead(h) over (order by h) as next_h from (select hash(tag, ts) as h from points))
where h = next_h
"""


# A file with (tag, time) repeats: rows are ranked by line within their (tag, time), the first of each is the
# reference of the others. Only rows whose (tag, time) hash repeats (`repeat_keys`) are ranked; any other row
# is the only one of its (tag, time), first by itself.
_CLASSIFY_SQL = """
create temp table classified as
    with points as (
        select *, hash(tag, ts) in (select h from repeat_keys) as maybe_repeated from points
    ),
    ranked as (
        select
            tag, ts, value, value_text, quality, source_line,
            row_number() over (partition by tag, ts order by source_line) as rn
        from points
        where maybe_repeated
    ),
    staged as (
        select tag, ts, value, value_text, quality, source_line, 1 as rn from points where not maybe_repeated
        union all
        select * from ranked
    ),
    firsts as (
        select tag, ts, value, value_text, quality, source_line from ranked where rn = 1
    ),
    final as (
        select
            s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
            case
                -- a repeated row in the same file: identical is a duplicate, different is a conflict
                when s.rn > 1 and s.value is not distinct from f.value
                    and s.value_text is not distinct from f.value_text and s.quality = f.quality then 'duplicate'
                when s.rn > 1 then 'conflict'
                when e.tag is null then 'new'
                when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                    and s.quality = e.quality then 'duplicate'
                -- a different value for a landed point: the later export wins, whatever the arrival order
                when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                    then 'changed'
                else 'superseded'
            end as outcome,
            case when s.rn > 1 then $file else e.source_file end as ref_file,
            case when s.rn > 1 then f.source_line else e.source_line end as ref_line,
            case when s.rn > 1 then f.value else e.value end as ref_value,
            case when s.rn > 1 then f.value_text else e.value_text end as ref_text,
            case when s.rn > 1 then f.quality else e.quality end as ref_quality,
            e.exported_at as ref_exported_at
        from staged as s
        left join firsts as f on f.tag = s.tag and f.ts = s.ts
        left join existing as e on e.tag = s.tag and e.ts = s.ts
    )
    select * from final
"""


# The usual case: no (tag, time) repeats inside the file, so each point is only compared with bronze. The
# outcomes and references are those _CLASSIFY_SQL gives when every row is the first of its (tag, time).
_CLASSIFY_UNIQUE_SQL = """
create temp table classified as
    select
        s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
        case
            when e.tag is null then 'new'
            when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                and s.quality = e.quality then 'duplicate'
            when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                then 'changed'
            else 'superseded'
        end as outcome,
        e.source_file as ref_file,
        e.source_line as ref_line,
        e.value as ref_value,
        e.value_text as ref_text,
        e.quality as ref_quality,
        e.exported_at as ref_exported_at
    from points as s
    left join existing as e on e.tag = s.tag and e.ts = s.ts
"""

# One pass over points: per tag and hour, what the ledger, the tag catalog and the touched hours need (a
# few rows per tag and hour, however many points).
_HOURLY_GROUPS_SQL = """
create temp table {table} as
select
    {keys}tag, date_trunc('hour', ts) as hour, count(*) as points, min(ts) as first_seen, max(ts) as last_seen,
    count(*) filter (where quality = 'bad') as bad_points,
    count(*) filter (where quality = 'uncertain') as uncertain_points
from {source}
group by all
"""
# over the staged points, and per outcome over the classified points (when some are not new)
_POINT_GROUPS_SQL = _HOURLY_GROUPS_SQL.format(table="point_groups", keys="", source="points")
_OUTCOME_GROUPS_SQL = _HOURLY_GROUPS_SQL.format(table="outcome_groups", keys="outcome, ", source="classified")

# A file without repeats on days bronze holds nothing of: every point is new, classified where it is staged.
_ALL_NEW_VIEW = """
create temp view classified as
select
    tag, ts, value, value_text, quality, source_line, 'new' as outcome, null::varchar as ref_file,
    null::bigint as ref_line, null::double as ref_value, null::varchar as ref_text, null::varchar as ref_quality,
    null::timestamptz as ref_exported_at
from points
"""


def _register_points(con, points_path: Path) -> None:
    """The staged points as the view `points`.

    A file staged whole (see readers.stage_source_file) holds its rejected rows too, with a reason; they
    were copied to the rejects file and are left out here.
    """
    if "reason" in pq.read_schema(points_path).names:
        rows = f"{staged_rows(points_path)} where reason is null"
    else:
        rows = f"read_parquet({delta.string_literal(str(points_path))})"
    con.execute(
        f"create temp view points as select tag, ts, value, value_text, quality, source_line from {rows}"
    ).fetchall()


def _classify_and_commit(
    lakehouse: Lakehouse,
    source: Source,
    rel: str,
    sha: str,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    staging: Path,
    now: dt.datetime,
) -> None:
    bronze_uri = lakehouse.uri(BRONZE_POINTS.name)
    # DuckDB spills the classification to disk beyond this, and hands freed memory back early, so a
    # landing's memory stays bounded whatever the file's size.
    with delta.duckdb_session(memory_limit="128MB", temp_directory=str(staging / "spill")) as con:
        con.execute("SET allocator_flush_threshold = '16MB'").fetchall()
        _register_points(con, points_path)
        con.execute(_POINT_GROUPS_SQL).fetchall()
        # The span of the staged points and the UTC days they fall on (as whole days since 1970: integer
        # division truncates towards zero, so a day before 1970 also names the day after it).
        first, last, day_numbers = con.execute(
            "select min(first_seen), max(last_seen), list(distinct epoch_us(hour) // 86400000000) from point_groups"
        ).fetchall()[0]
        # The (tag, time) hashes that occur more than once: usually none. Equal pairs hash equal, so every
        # repeat is among them (a collision only ranks a few more rows, each first of its own pair). Found
        # by sorting the hashes, which spills to disk within the memory limit: a hash aggregate of a 5 GB
        # export's 70 M keys runs out of memory at 128 MB instead of spilling.
        con.execute(_REPEAT_KEYS_SQL).fetchall()
        repeated = con.execute("select count(*) from repeat_keys").fetchall()[0][0] > 0
        report.min_ts, report.max_ts = first, last
        epoch = dt.date(1970, 1, 1)
        days = sorted(
            {epoch + dt.timedelta(days=d) for d in day_numbers or []}
            | {epoch + dt.timedelta(days=d - 1) for d in day_numbers or [] if d <= 0}
        )
        delta.register_table(
            con,
            "existing",
            bronze_uri,
            BRONZE_POINTS,
            partitions=delta.date_partitions("ts_date", days) if days else [("ts_date", "in", [])],
            storage_options=lakehouse.storage_options,
            native=True,
        )
        # Bronze points inside the file's span, not only on its UTC days: a production day's export shares
        # its first UTC date with the day before's, and every point of both would otherwise be joined.
        in_bronze = con.execute(
            "select count(*) from (select 1 from existing where ts >= $first and ts <= $last limit 1)",
            {"first": first, "last": last},
        ).fetchall()[0][0]
        if not repeated and not in_bronze:
            # a hash that repeats without a real repeat (a collision) takes the path below, which ranks it
            con.execute(_ALL_NEW_VIEW).fetchall()
            con.execute("create temp table outcome_groups as select 'new' as outcome, * from point_groups").fetchall()
        else:
            # the join with bronze's points of these days would spill within 128 MB: it gets 256 MB
            con.execute("SET memory_limit = '256MB'").fetchall()
            classify_sql = _CLASSIFY_SQL if repeated else _CLASSIFY_UNIQUE_SQL
            # a temp table, not a Parquet file: writing the 13 columns of a 4.4 M-point classification
            # took 4.8 s, the table 1.7 s; beyond the limit DuckDB moves its blocks to the spill folder
            con.execute(classify_sql, {"file": rel, "exported_at": report.exported_at}).fetchall()
            # back to 128 MB for the commits: the Delta writer's batches need the room
            con.execute("SET memory_limit = '128MB'").fetchall()
            con.execute(_OUTCOME_GROUPS_SQL).fetchall()
        counts = dict(con.execute("select outcome, sum(points)::bigint from outcome_groups group by 1").fetchall())
        report.rows_new = counts.get("new", 0)
        report.rows_changed = counts.get("changed", 0)
        report.rows_duplicate = counts.get("duplicate", 0)
        report.tag_stats = con.sql(
            """
            select
                tag, $source as source, min(first_seen) as first_seen, max(last_seen) as last_seen,
                sum(points)::bigint as points, sum(bad_points)::bigint as bad_points,
                sum(uncertain_points)::bigint as uncertain_points
            from outcome_groups
            where outcome = 'new'
            group by tag
            """,
            params={"source": source.name},
        ).to_arrow_table()
        units = [report.units.get(tag) for tag in report.tag_stats["tag"].to_pylist()]
        report.tag_stats = report.tag_stats.append_column("unit", pa.array(units, pa.string()))
        report.new_hours = [
            r[0]
            for r in con.execute(
                "select distinct hour from outcome_groups where outcome in ('new', 'changed') order by 1"
            ).fetchall()
        ]

        conflicts = REJECT_COLUMNS.empty_table()
        if counts.get("conflict", 0) or counts.get("superseded", 0):
            conflicts = _conflicts(con)
        rejects = pq.read_table(rejects_path).cast(REJECT_COLUMNS)
        quarantine = pa.concat_tables([rejects, conflicts.cast(REJECT_COLUMNS)])
        report.rows_quarantined = quarantine.num_rows

        # 1. quarantine, keyed by the file's hash: a repeat replaces, never doubles.
        if quarantine.num_rows:
            n = quarantine.num_rows
            quarantine_rows = pa.table(
                {
                    "source": pa.array([source.name] * n),
                    "source_file": pa.array([rel] * n),
                    "file_key": pa.array([report.file_key] * n),
                    "line": quarantine["line"],
                    "reason": quarantine["reason"],
                    "raw": quarantine["raw"],
                    "quarantined_at": pa.array([now] * n, UTC_TS),
                }
            )
            delta.replace_where(
                lakehouse.uri(QUARANTINE.name),
                QUARANTINE,
                f"file_key = {delta.hex_literal(report.file_key)}",
                QUARANTINE.conform(quarantine_rows),
                lakehouse.storage_options,
            )

        _kill_point("quarantined")
        # 2. the new points appended, then the changed ones in place of the points they replace, in
        # Delta commits of at most COMMIT_ROWS points: the writer holds a commit's files in memory, and
        # a repeat after a crash between commits finds the committed points already there. Replacing
        # rewrites every bronze file that holds a replaced point, so it gets the changed points alone.
        metadata = {"source_file": rel, "file_key": report.file_key}
        for outcome, count in (("new", report.rows_new), ("changed", report.rows_changed)):
            if not count:
                continue
            reader = con.sql(
                """
                select
                    cast(ts as date) as ts_date, tag, ts, value, value_text, quality,
                    $source as source, $file as source_file, source_line, $exported_at as exported_at,
                    $now as landed_at
                from classified
                where outcome = $outcome
                """,
                params={
                    "source": source.name,
                    "file": rel,
                    "now": now,
                    "exported_at": report.exported_at,
                    "outcome": outcome,
                },
            ).to_arrow_reader(batch_size=COMMIT_BATCH_ROWS)
            for chunk in _chunks(reader, COMMIT_ROWS if outcome == "new" else REPLACE_ROWS):
                # the classification above compared each point with its file and with bronze: the key is whole
                rows = validated_stream(
                    chunk, BRONZE_POINTS, report.validation, VALIDATE_ROWS, key=KEY_CHECKED_BY_CALLER
                )
                if outcome == "changed":
                    delta.replace_points(bronze_uri, BRONZE_POINTS, rows, lakehouse.storage_options, metadata)
                else:
                    delta.append(bronze_uri, BRONZE_POINTS, rows, lakehouse.storage_options, metadata=metadata)

    _kill_point("points_committed")
    # 3. the ledger row last: a file without one is landed again, and finds its points already there.
    write_ledger_row(lakehouse, report, now)
    _kill_point("ledger_written")


def _conflicts(con) -> pa.Table:
    """The quarantine rows of points that repeat a (tag, time) with another value, in the file or in bronze."""
    return con.sql(
        """
        select
            source_line as line,
            case outcome
                when 'conflict' then 'conflicts with line ' || ref_line || ' of the same file for this tag and time'
                else 'superseded: a later export (' || ref_file || ' line ' || ref_line || ', exported '
                    || strftime(ref_exported_at, '%Y-%m-%d %H:%M:%S') || ' UTC) gave this tag and time'
            end || ': value ' || coalesce(cast(value as varchar), value_text, 'NULL') || ' (' || quality
                || ') vs ' || coalesce(cast(ref_value as varchar), ref_text, 'NULL') || ' (' || ref_quality
                || ')' as reason,
            tag || ',' || cast(ts as varchar) || ',' || coalesce(cast(value as varchar), value_text, '') as raw
        from classified
        where outcome in ('conflict', 'superseded')
        """
    ).to_arrow_table()


# Points per Delta commit, and per batch handed to the writer: the writer's memory grows with a commit
# (a 17.7 M-point export peaks at 640 MB with commits of 200 k points, 720 MB with 1 M), while each commit
# costs a log entry and a small file: 1 M points per commit lands that export 12 % faster, in 18 commits
# instead of 89, and leaves fewer, larger files for the daily job to read. Batches of 100 k made the
# process's memory climb over a file's first commits (the Delta writer's and polars' allocations for
# validation); at 50 k it stays level, at the same speed.
COMMIT_ROWS = 1_000_000
COMMIT_BATCH_ROWS = 50_000
# Changed points per commit: a commit reads the bronze files that may hold them and rewrites those that
# do, with its points' keys in memory beside the classification. A re-export changing 2.2 M landed
# points peaked at 1,039 MB in commits of 1 M (11.1 s), 897 MB in commits of 500 k (12.2 s) and 831 MB
# in commits of 250 k (16.0 s: each commit reads the day's files again).
REPLACE_ROWS = 500_000


def _chunks(reader: pa.RecordBatchReader, max_rows: int) -> Iterator[pa.RecordBatchReader]:
    """Split a stream of batches into streams of at most about `max_rows` rows, read one after another."""
    batches = iter(reader)
    pending = next(batches, None)
    while pending is not None:
        first = pending

        def take(first=first):
            nonlocal pending
            rows = 0
            batch = first
            while batch is not None:
                yield batch
                rows += batch.num_rows
                batch = next(batches, None)
                if batch is not None and rows + batch.num_rows > max_rows:
                    break
            pending = batch

        pending = None
        yield pa.RecordBatchReader.from_batches(reader.schema, take())
        if pending is None and first is not None and next(batches, None) is not None:
            # the consumer stopped before the end of its chunk: rows would be lost without a word
            raise RuntimeError("a commit chunk was not read to its end; no rows may be left behind")


# Rows validated at a time: the writer's 50 k batches are validated ten at a time (a 17.7 M-point export:
# 1.5 s of validation in all; groups of 1 M points were a little faster, but held so much more before
# the writer that landing's peak memory rose from 720 to 920 MB).
VALIDATE_ROWS = 500_000


def write_ledger_row(lakehouse: Lakehouse, report: FileReport, now: dt.datetime) -> None:
    row = pa.table(
        {
            "source": [report.source],
            "source_file": [report.source_file],
            "file_key": [report.file_key],
            "file_sha256": [report.file_sha256],
            "format": [report.format],
            "size_bytes": [report.size_bytes],
            "exported_at": pa.array([report.exported_at], UTC_TS),
            "status": [report.status],
            "message": [report.message],
            "rows_in": [report.rows_in],
            "rows_landed": [report.rows_landed],
            "rows_new": [report.rows_new],
            "rows_changed": [report.rows_changed],
            "rows_duplicate": [report.rows_duplicate],
            "rows_quarantined": [report.rows_quarantined],
            "min_ts": pa.array([report.min_ts], UTC_TS),
            "max_ts": pa.array([report.max_ts], UTC_TS),
            "landed_at": pa.array([now], UTC_TS),
            "file_version": pa.array([report.file_version], pa.string()),
            "lines_in": pa.array([report.lines_in], pa.int64()),
        }
    )
    delta.replace_where(
        lakehouse.uri(FILE_LEDGER.name),
        FILE_LEDGER,
        f"file_key = {delta.hex_literal(report.file_key)}",
        FILE_LEDGER.conform(row),
        lakehouse.storage_options,
    )


@dataclass
class LandingResult:
    """What one landing pass did, over every source."""

    files: list[FileReport]
    notes: list[str]
    latest_ts: dt.datetime | None = None  # the newest point bronze holds, over all files
    earliest_ts: dt.datetime | None = None  # the oldest

    @property
    def landed(self) -> list[FileReport]:
        """The files this pass recorded in the ledger (landed, rejected or duplicate)."""
        return [f for f in self.files if f.status not in ("skipped", "deferred", "refused")]

    @property
    def deferred(self) -> list[FileReport]:
        """The files left for a later run (too young, or changed while they were read): nothing recorded."""
        return [f for f in self.files if f.status == "deferred"]

    @property
    def refused(self) -> list[FileReport]:
        """The files not read at all (a link, not a regular file, a hard link ...): nothing recorded."""
        return [f for f in self.files if f.status == "refused"]

    def touched_days(self, config: PlantConfig) -> list[dt.date]:
        """Production days whose models the new points change.

        The days that gained points (both ends of each hour, so none is missed); the day after each, as
        a late point can change the state or counter reading carried into it (only where bronze holds
        data at or beyond it, so a run never builds a day that has not begun); and the day before each,
        whose last stop may end in the new points.
        """
        from .calendar import production_day_of

        days: set[dt.date] = set()
        for report in self.files:
            for hour in report.new_hours:
                hour = hour if hour.tzinfo else hour.replace(tzinfo=dt.UTC)
                days.add(production_day_of(config, hour))
                days.add(production_day_of(config, hour + dt.timedelta(minutes=59, seconds=59)))
        one = dt.timedelta(days=1)
        if days and self.latest_ts is not None:
            last = production_day_of(config, self.latest_ts)
            days |= {d + one for d in days if d + one <= last}
        if days and self.earliest_ts is not None:
            # a stop running into the new data ends there: the day it started in is rebuilt too
            first = production_day_of(config, self.earliest_ts)
            days |= {d - one for d in days if d - one >= first}
        return sorted(days)


def land_new_files(
    lakehouse: Lakehouse,
    config: PlantConfig,
    landing_root: Path | str,
    only: set[str] | None = None,
    settle_seconds: float = 0.0,
) -> LandingResult:
    """Land every file in the sources' folders that the ledger does not hold yet.

    `only` restricts the pass to some files (paths relative to LANDING_ROOT), as the landing sensor
    asks for one run per new file. One landing runs at a time per lakehouse (see _landing_lock).
    LANDING_ROOT may be an s3:// prefix: each object is spooled to a local file and landed as one.
    A local file modified less than `settle_seconds` ago is left for a later run, with a note (an
    object in object storage is whole once it is listed).
    """
    with _landing_lock(lakehouse):
        return _land_new_files(lakehouse, config, landing_root, only, settle_seconds)


@contextmanager
def _landing_lock(lakehouse: Lakehouse) -> Iterator[None]:
    """Hold the lakehouse's landing lock: a second landing waits, then finds the files in the ledger.

    Two landings classifying the same file against the same bronze would both append its points. The
    Dagster pool `bronze_landing` keeps one landing run per instance; this lock also covers a CLI run
    beside the scheduled one. It is an fcntl lock on LAKEHOUSE_ROOT/.landing.lock, released by the
    kernel if the process dies. A remote root has its lock file in the local temp folder, named by the
    root: it covers the landings of this machine, the pool those of other machines.
    """
    root = delta.normalise_root(lakehouse.root)
    if delta.is_local(root):
        lock_file = Path(root.removeprefix("file://")) / ".landing.lock"
    else:
        lock_file = Path(tempfile.gettempdir()) / f"iiot-landing-{hashlib.sha256(root.encode()).hexdigest()[:16]}.lock"
    with exclusive_lock(lock_file):
        yield


def _land_new_files(
    lakehouse: Lakehouse, config: PlantConfig, landing_root: Path | str, only: set[str] | None, settle_seconds: float
) -> LandingResult:
    _clear_dead_staging()
    known = known_files(lakehouse)
    if object_store.is_remote(landing_root):
        from .remote_landing import land_remote_files

        files, notes = land_remote_files(lakehouse, config, str(landing_root), known, only)
    else:
        files, notes = _land_local_files(lakehouse, config, Path(landing_root), known, only, settle_seconds)
    notes = [*notes, *(f"{f.source_file}: {f.message}" for f in files if f.status in ("deferred", "refused"))]
    _kill_point("landed")
    stats = [f.tag_stats for f in files if f.tag_stats is not None and f.tag_stats.num_rows]
    if stats or delta.open_table(lakehouse.uri(TAG_CATALOG.name), lakehouse.storage_options) is None:
        from .tag_catalog import STATS_SCHEMA, update_tag_catalog

        update_tag_catalog(lakehouse.root, config, [t.cast(STATS_SCHEMA) for t in stats], lakehouse.storage_options)
    _heal_tag_catalog(lakehouse, config)
    earliest, latest = point_span(lakehouse)
    return LandingResult(files=files, notes=notes, latest_ts=latest, earliest_ts=earliest)


def _land_local_files(
    lakehouse: Lakehouse,
    config: PlantConfig,
    landing_root: Path,
    known: KnownFiles,
    only: set[str] | None,
    settle_seconds: float = 0.0,
) -> tuple[list[FileReport], list[str]]:
    files: list[FileReport] = []
    notes: list[str] = []
    claimed: set[Path] = set()
    for source in config.sources:
        paths, source_notes = discover_files(landing_root, source)
        notes.extend(source_notes)
        for path in paths:
            # discovery's paths are real (its folder resolved, no link followed): resolving one again would
            # follow a link swapped in since
            claimed.add(path)
            if only is not None and _relative(path, landing_root) not in only:
                continue
            files.extend(land_path(lakehouse, source, landing_root, path, known, settle_seconds=settle_seconds))
    notes.extend(_unclaimed(landing_root, claimed, source_folders_hint(config)))
    return files, notes


def _heal_tag_catalog(lakehouse: Lakehouse, config: PlantConfig) -> None:
    """Rebuild the tag catalog from bronze when its point counts no longer add up to bronze's rows.

    The catalog is updated from the points a run adds, after they are committed; a landing killed in
    between leaves points the catalog never counted (the re-run finds them already landed). Every new
    point is counted once and a changed one replaces a point, so the catalog's points sum to bronze's
    row count; the check reads only Parquet footers, and the full rebuild happens only after a crash.
    """
    from .tag_catalog import STATS_SCHEMA, update_tag_catalog

    bronze = delta.open_table(lakehouse.uri(BRONZE_POINTS.name), lakehouse.storage_options)
    catalog = delta.open_table(lakehouse.uri(TAG_CATALOG.name), lakehouse.storage_options)
    if bronze is None or catalog is None:
        return
    with delta.duckdb_session() as con:
        con.register("catalog", catalog.to_pyarrow_dataset())
        counted = con.sql("select coalesce(sum(points), 0) from catalog").fetchall()[0][0]
        if counted == bronze.to_pyarrow_dataset().count_rows():
            return
        con.register("bronze", bronze.to_pyarrow_dataset())
        stats = con.sql(
            """
            with counted as (
                select
                    tag, arg_min(source, ts) as source, min(ts) as first_seen, max(ts) as last_seen,
                    count(*) as points,
                    count(*) filter (where quality = 'bad') as bad_points,
                    count(*) filter (where quality = 'uncertain') as uncertain_points
                from bronze
                group by tag
            ),
            -- bronze does not keep units: carry them over from the catalog being rebuilt
            known_units as (
                select tag, any_value(unit) as unit from catalog where unit is not null group by tag
            )
            select c.*, u.unit from counted as c left join known_units as u on u.tag = c.tag
            """
        ).to_arrow_table()
    # Emptied, then filled: a crash in between leaves a catalog that the next run finds short again.
    delta.replace_all(lakehouse.uri(TAG_CATALOG.name), TAG_CATALOG, TAG_CATALOG.empty(), lakehouse.storage_options)
    update_tag_catalog(lakehouse.root, config, [stats.cast(STATS_SCHEMA)], lakehouse.storage_options)


def point_span(lakehouse: Lakehouse) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The oldest and newest point timestamps of any landed file, from the ledger."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return None, None
    with delta.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        earliest, latest = con.sql("select min(min_ts), max(max_ts) from ledger").fetchall()[0]
    return earliest, latest


def source_folders_hint(config: PlantConfig) -> str:
    """Where a file in no source's folder could go: each source's folder and format."""
    return "; it could go in: " + ", ".join(f"{s.folder.strip('/')}/ ({s.format})" for s in config.sources)


def _unclaimed(landing_root: Path, claimed: set[Path], hint: str = "") -> list[str]:
    """Files in LANDING_ROOT that no source reads: reported, so that none is dropped without a word."""
    notes = []
    if not landing_root.is_dir():
        return notes
    root = landing_root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            link = Path(dirpath) / name
            rel = display_name(link.relative_to(root).as_posix())
            if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            try:
                path = link.resolve()
            except OSError:
                continue  # replaced while it was listed (a link swapped in or out): the next run sees it
            if not path.is_relative_to(root):
                notes.append(f"{rel}: a link that leaves LANDING_ROOT; not read")
            elif path not in claimed:
                notes.append(f"{rel}: in no source's folder; not read{hint}")
    return sorted(set(notes))


def bronze_row_balance(lakehouse: Lakehouse) -> pa.Table:
    """Per file: rows in, landed and quarantined as the ledger says, and whether they add up."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return FILE_LEDGER.empty()
    with delta.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        return con.sql("select * from ledger where rows_in <> rows_landed + rows_quarantined").to_arrow_table()


__all__ = [
    "FileReport",
    "Lakehouse",
    "LandingResult",
    "bronze_row_balance",
    "discover_files",
    "land_file",
    "land_new_files",
    "pc",
]
