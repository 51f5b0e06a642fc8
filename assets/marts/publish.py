"""Publishing the marts atomically: write aside, audit, publish.

The published file `$LAKEHOUSE_ROOT/marts.duckdb` is never written in place: a copy is built aside
(build.py), the days being rebuilt are replaced in it, audited (sql/audit/marts_audit.sql), and only if
they pass is the copy renamed over the published file and are the days published to gold. Otherwise the
copy is deleted and the published file and gold keep their previous numbers. An analyst who holds the old
file open keeps reading a complete version and never blocks the pipeline. Publishers take a lock so that
two runs never build from the same old copy and lose each other's days.

A lakehouse in object storage publishes `$LAKEHOUSE_ROOT/marts/marts.duckdb`: the file is built the same
way in a local cache folder (starting from the published copy) and then stored with one upload, which
readers see whole or not at all, never half-written.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb

from assets.marts.audit import MartsAuditError, audit_marts
from assets.marts.build import build_marts
from assets.marts.gold import publish_all_gold
from assets.marts.inputs import SQL_DIR
from assets.marts.ops import write_ops_tables
from assets.marts.published import (
    STORAGE_VERSION,
    fetch_published_marts,
    marts_path,
    marts_uri,
    published_marts_exist,
    storage_version,
)
from assets.marts.registry import Mart, all_marts
from assets.plant.config import PlantConfig
from assets.silver import watermarks
from assets.storage import object_store
from assets.storage.locks import exclusive_lock


def stale_days(
    lakehouse_root: str, config: PlantConfig, storage_options: dict[str, str] | None = None
) -> list[watermarks.StaleDay]:
    """The production days to rebuild by the day watermark, and why (`watermarks.stale_days`), with the
    published marts file itself checked: a file lost or deleted makes every built day stale."""
    exists = published_marts_exist(lakehouse_root, storage_options)
    return watermarks.stale_days(lakehouse_root, config, storage_options, marts_file_exists=exists)


def publish_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    marts: Sequence[Mart] | None = None,
    sql_dir: Path = SQL_DIR,
) -> dict[str, int]:
    """Rebuild the given production days of every mart aside, audit them, and publish the file atomically.

    Silver is read for the days and their neighbours, so a shift or a stop across a day's edge is
    whole. Returns the rows of the rebuilt scope per mart. When a mart's columns changed since the
    last publish, every mart is rebuilt over every day silver holds, so no old day is left half-filled.

    The rebuilt days are audited in the copy built aside (`audit_marts`): only if every check passes does
    the copy replace the published file and gold take the days. Otherwise the copy is deleted, the
    published file and gold keep their previous numbers, and MartsAuditError names each problem.
    """
    marts = all_marts() if marts is None else marts
    target = marts_path(lakehouse_root)
    remote = object_store.is_remote(marts_uri(lakehouse_root))
    days = sorted(set(days))
    started_at = watermarks.now()  # silver written after this is not in these marts
    # The lock is a local file: for a remote lakehouse it orders the publishers of this machine, and the
    # Dagster pool `marts_publish` those of one instance.
    with exclusive_lock(target.with_suffix(".lock")):
        if remote:
            # build from what is published now, not from what this machine cached earlier
            target.unlink(missing_ok=True)
            fetch_published_marts(lakehouse_root, storage_options)
        building = target.with_name(f".{target.name}.building-{os.getpid()}")
        building.unlink(missing_ok=True)
        fresh = not (target.exists() and storage_version(target) == STORAGE_VERSION)
        if not fresh:
            shutil.copyfile(target, building)
        con = duckdb.connect(str(building), config={"storage_compatibility_version": STORAGE_VERSION})
        try:
            days, written = build_marts(con, lakehouse_root, config, days, marts, storage_options, sql_dir, fresh)
            # the tag catalog, the quarantine by file and reason and the file ledger, published with the marts
            write_ops_tables(con, lakehouse_root, config, storage_options)
            # write, audit, publish: the copy aside replaces the published file only if its days pass
            problems = audit_marts(con, days, sql_dir)
            if not problems:
                con.execute("CHECKPOINT").fetchall()
        except BaseException:
            con.close()
            _discard(building)
            raise
        con.close()
        if problems:
            _discard(building)
            # the days with problems stay "to be rebuilt" until a publish of them passes (watermarks.py)
            watermarks.record_builds(
                lakehouse_root,
                watermarks.MARTS_FAILED_LAYER,
                watermarks.MARTS_TABLE,
                {p.day for p in problems},
                started_at,
                storage_options=storage_options,
            )
            raise MartsAuditError(problems, days)
        with open(building, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(building, target)
        _fsync_dir(target.parent)
        if remote:
            object_store.upload(target, marts_uri(lakehouse_root), storage_options or {})
        publish_all_gold(target, lakehouse_root, marts, days, storage_options)
        watermarks.record_builds(
            lakehouse_root, "marts", watermarks.MARTS_TABLE, days, started_at, storage_options=storage_options
        )
    return written


def _discard(building: Path) -> None:
    """Remove a copy built aside that is not to be published (and DuckDB's write-ahead log of it)."""
    building.unlink(missing_ok=True)
    building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
