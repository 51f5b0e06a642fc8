"""Landing exports that arrive in object storage (LANDING_ROOT = s3://bucket/prefix).

Each object under a source's folder is streamed to a local spool file (memory bounded by the copy
buffer), landed through the same path as a local file, and the spool file deleted. The spool file
sits at the object's key relative to LANDING_ROOT and carries the object's LastModified as its
modification time, so the ledger names it by its key and the later-export-wins rule dates it by
LastModified, exactly as a local file is named by its path and dated by its mtime.
"""

from __future__ import annotations

import datetime as dt
import os

from assets.bronze.landing_discovery import PARTIAL_SUFFIXES, source_folders_hint
from assets.bronze.landing_ledger import FileReport, KnownFiles
from assets.bronze.landing_staging import STAGING_PREFIX
from assets.bronze.landing_units import land_path
from assets.plant.config import PlantConfig, Source
from assets.storage import object_store
from assets.storage.lakehouse import Lakehouse


def _in_folder(rel: str, source: Source) -> bool:
    folder = source.folder.strip("/")
    return rel.startswith(f"{folder}/")


def land_remote_files(
    lakehouse: Lakehouse,
    config: PlantConfig,
    landing_uri: str,
    known: KnownFiles,
    only: set[str] | None = None,
) -> tuple[list[FileReport], list[str]]:
    """Land every object under the sources' folders; notes on every object passed over."""
    objects = object_store.list_landing(landing_uri, lakehouse.storage_options)
    files: list[FileReport] = []
    notes: list[str] = []
    claimed: set[str] = set()
    for source in config.sources:
        for remote in objects:
            if not _in_folder(remote.rel, source) or remote.rel in claimed:
                continue
            claimed.add(remote.rel)
            if remote.rel.lower().endswith(PARTIAL_SUFFIXES):
                notes.append(f"{remote.rel}: still being written (temporary name), left for the next run")
                continue
            if only is not None and remote.rel not in only:
                continue
            exported_at = remote.modified.astimezone(dt.UTC)
            uri = f"{landing_uri.rstrip('/')}/{remote.rel}"
            if known.may_have(remote.rel, remote.size, exported_at) and known.has(
                remote.rel, remote.size, exported_at, object_store.object_version(uri, lakehouse.storage_options)
            ):
                # landed before under this key, size, LastModified and ETag: not even downloaded again
                files.append(
                    FileReport(
                        source=source.name,
                        source_file=remote.rel,
                        file_sha256="",
                        status="skipped",
                        message="this file was landed before",
                        exported_at=exported_at,
                        size_bytes=remote.size,
                    )
                )
                continue
            # named like a staging folder, so that a later landing clears the spool of a killed one
            spool = object_store.spooled(
                landing_uri, remote, lakehouse.storage_options, f"{STAGING_PREFIX}{os.getpid()}-spool-"
            )
            with spool as (spool_root, path, version):
                # without an ETag the spool file's own version is new each time: the object is hashed again
                files.extend(land_path(lakehouse, source, spool_root, path, known, version=version))
    for remote in objects:
        if remote.rel not in claimed and not remote.rel.lower().endswith(PARTIAL_SUFFIXES):
            notes.append(f"{remote.rel}: in no source's folder; not read{source_folders_hint(config)}")
    return files, sorted(set(notes))
