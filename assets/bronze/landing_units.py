"""Landing one discovered file, or each member of an archive: settle time, opening, hashing, the
ledger's verdict (skipped, duplicate), staging and the commit.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow as pa

from assets.bronze.landing_commit import _classify_and_commit, _kill_point
from assets.bronze.landing_discovery import _relative, _within, display_name, local_version
from assets.bronze.landing_files import (
    FileChanged,
    FileRefused,
    LocalDigest,
    OpenedFile,
    _members,
    _stream_sha256,
    check_unchanged,
    file_sha256,
    open_landing_file,
)
from assets.bronze.landing_ledger import FileReport, KnownFiles, known_files, write_ledger_row
from assets.bronze.landing_staging import _stage_file, _staging_dir
from assets.plant.config import Source
from assets.readers import FileRejected
from assets.readers.archives import is_zip
from assets.storage.lakehouse import Lakehouse


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
