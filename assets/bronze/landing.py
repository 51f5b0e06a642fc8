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

This module runs a landing pass over every source; its parts live beside it: landing_discovery (the
files waiting), landing_files (opening and hashing one safely), landing_units (one file or archive
member), landing_staging, landing_commit and landing_ledger. The names other modules use are imported
here too, so that `assets.bronze.landing` stays the one place to import the landing from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assets.bronze.landing_commit import COMMIT_ROWS, KILL_AT_ENV, REPLACE_ROWS, _chunks, _kill_point
from assets.bronze.landing_discovery import (
    PARTIAL_SUFFIXES,
    _relative,
    _unclaimed,
    discover_files,
    display_name,
    local_version,
    settle_seconds,
    source_folders_hint,
)
from assets.bronze.landing_files import (
    FileChanged,
    FileRefused,
    OpenedFile,
    check_unchanged,
    file_sha256,
    open_landing_file,
)
from assets.bronze.landing_ledger import (
    FileReport,
    KnownFiles,
    bronze_row_balance,
    known_files,
    point_span,
    write_ledger_row,
)
from assets.bronze.landing_staging import STAGING_PREFIX, _clear_dead_staging
from assets.bronze.landing_units import land_file, land_path, land_unit
from assets.bronze.remote_landing import land_remote_files
from assets.bronze.tag_catalog import STATS_SCHEMA, update_tag_catalog
from assets.plant.calendar import production_day_of
from assets.plant.config import PlantConfig
from assets.storage import delta, delta_read, object_store
from assets.storage.lakehouse import Lakehouse
from assets.storage.locks import exclusive_lock
from assets.storage.schemas import BRONZE_POINTS, TAG_CATALOG
from assets.storage.sql_files import sql_file


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
        files, notes = land_remote_files(lakehouse, config, str(landing_root), known, only)
    else:
        files, notes = _land_local_files(lakehouse, config, Path(landing_root), known, only, settle_seconds)
    notes = [*notes, *(f"{f.source_file}: {f.message}" for f in files if f.status in ("deferred", "refused"))]
    _kill_point("landed")
    stats = [f.tag_stats for f in files if f.tag_stats is not None and f.tag_stats.num_rows]
    if stats or delta.open_table(lakehouse.uri(TAG_CATALOG.name), lakehouse.storage_options) is None:
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
    bronze = delta.open_table(lakehouse.uri(BRONZE_POINTS.name), lakehouse.storage_options)
    catalog = delta.open_table(lakehouse.uri(TAG_CATALOG.name), lakehouse.storage_options)
    if bronze is None or catalog is None:
        return
    with delta_read.duckdb_session() as con:
        con.register("catalog", catalog.to_pyarrow_dataset())
        counted = con.sql("select coalesce(sum(points), 0) from catalog").fetchall()[0][0]
        if counted == bronze.to_pyarrow_dataset().count_rows():
            return
        con.register("bronze", bronze.to_pyarrow_dataset())
        stats = con.sql(sql_file("bronze/tag_catalog_rebuild.sql")).to_arrow_table()
    # Emptied, then filled: a crash in between leaves a catalog that the next run finds short again.
    delta.replace_all(lakehouse.uri(TAG_CATALOG.name), TAG_CATALOG, TAG_CATALOG.empty(), lakehouse.storage_options)
    update_tag_catalog(lakehouse.root, config, [stats.cast(STATS_SCHEMA)], lakehouse.storage_options)


__all__ = [
    "COMMIT_ROWS",
    "KILL_AT_ENV",
    "PARTIAL_SUFFIXES",
    "REPLACE_ROWS",
    "STAGING_PREFIX",
    "FileChanged",
    "FileRefused",
    "FileReport",
    "KnownFiles",
    "Lakehouse",
    "LandingResult",
    "OpenedFile",
    "_chunks",
    "_heal_tag_catalog",
    "bronze_row_balance",
    "check_unchanged",
    "discover_files",
    "display_name",
    "file_sha256",
    "known_files",
    "land_file",
    "land_new_files",
    "land_path",
    "land_unit",
    "local_version",
    "open_landing_file",
    "point_span",
    "settle_seconds",
    "source_folders_hint",
    "write_ledger_row",
]
