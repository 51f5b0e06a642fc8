"""Before a landing: are the folders there, and is there anything new to land?

`iiot-lakehouse run` asks this before it starts a Dagster run: a run with nothing new answers in a
second instead of starting the landing job (a Dagster run, its event log and the row checks cost
seconds even when no file is read). The answer errs towards landing: a file whose name, size,
modification time and version (inode and change time) are not all in the ledger is new, as the
landing itself decides (`KnownFiles.has`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from assets.bronze.landing_discovery import _unclaimed, discover_files, local_version, source_folders_hint
from assets.bronze.landing_ledger import KnownFiles, known_files
from assets.plant.config import PlantConfig, Source
from assets.readers.archives import is_zip
from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, TAG_CATALOG


@dataclass
class PendingFiles:
    """What a landing pass would find: the files not in the ledger, and how many it holds already."""

    new: list[str] = field(default_factory=list)
    already_landed: int = 0
    notes: list[str] = field(default_factory=list)  # files passed over, as the landing would note them
    # the tag catalog is missing or short of bronze (a landing killed after its commits): the landing
    # job heals it, so it has to run even with no new file
    catalog_behind: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not self.new and not self.catalog_behind


def source_folders(landing_root: Path, config: PlantConfig) -> list[str]:
    """Each source's folder under LANDING_ROOT, with the source's name and format, for messages."""
    return [f"{landing_root / s.folder} (source {s.name}, {s.format})" for s in config.sources]


def missing_source_folders(landing_root: Path, config: PlantConfig) -> list[Source]:
    """The sources whose folder is not a folder under LANDING_ROOT."""
    return [s for s in config.sources if not (landing_root / s.folder).is_dir()]


def pending_files(lakehouse: Lakehouse, config: PlantConfig, landing_root: Path) -> PendingFiles:
    """The files in the sources' folders that the ledger does not hold in this exact version."""
    known = known_files(lakehouse)
    pending = PendingFiles(catalog_behind=_catalog_behind(lakehouse))
    root = landing_root.resolve()
    seen: set[Path] = set()
    for source in config.sources:
        paths, notes = discover_files(landing_root, source)
        pending.notes += notes
        for path in paths:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            rel = resolved.relative_to(root).as_posix()
            try:
                stat = path.stat()
            except OSError:
                pending.new.append(rel)  # vanished or unreadable: the landing says what became of it
                continue
            exported_at = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
            version = local_version(stat)
            if _known(known, rel, stat.st_size, exported_at, version, is_zip(path)):
                pending.already_landed += 1
            else:
                pending.new.append(rel)
    pending.notes += _unclaimed(landing_root, seen, source_folders_hint(config))
    return pending


def _known(known: KnownFiles, rel: str, size: int, exported_at: dt.datetime, version: str, archive: bool) -> bool:
    if not archive:
        return known.has(rel, size, exported_at, version)
    # an archive's members are in the ledger as `archive.zip!member`, each with the archive's time and version
    prefix = f"{rel}!"
    return any(
        name.startswith(prefix) and when == exported_at and version in versions
        for (name, _, when), versions in known.signatures.items()
    )


def _catalog_behind(lakehouse: Lakehouse) -> bool:
    """Whether the tag catalog is missing, or counts fewer points than bronze holds (Parquet footers only)."""
    catalog = delta.open_table(lakehouse.uri(TAG_CATALOG.name), lakehouse.storage_options)
    if catalog is None:
        return True
    bronze = delta.open_table(lakehouse.uri(BRONZE_POINTS.name), lakehouse.storage_options)
    if bronze is None:
        return False
    with delta_read.duckdb_session() as con:
        con.register("catalog", catalog.to_pyarrow_dataset())
        counted = con.sql("select coalesce(sum(points), 0) from catalog").fetchall()[0][0]
    return counted != bronze.to_pyarrow_dataset().count_rows()
