"""Weekly upkeep of the Delta tables: compact small files, vacuum old ones, checkpoint the log.

Landing appends one small commit per file and every production day is rewritten as a partition, so a
table collects many small Parquet files and a long JSON log; reads slow down with both. For each table:

1. `optimize.compact()` rewrites small files into larger ones (same rows, one new version);
2. `vacuum` deletes files no version newer than the retention needs. The retention (7 days by default,
   never less than 1 day) keeps every file a reader that started within it may still be reading, and
   `enforce_retention_duration` stays on, so a table's own `delta.deletedFileRetentionDuration` wins
   over a shorter retention asked for here (the vacuum is then refused and reported, not forced);
3. `create_checkpoint()` writes a Parquet checkpoint of the log, so opening the table reads one file
   instead of every commit since the last checkpoint.

History stays readable: commits are never removed here, and versions within the retention still load.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from assets.storage import delta
from assets.storage.schemas import ALL_TABLES, TableSpec

DEFAULT_RETENTION = dt.timedelta(days=7)
MIN_RETENTION = dt.timedelta(days=1)


@dataclass
class TableMaintenance:
    """What maintenance did to one table; the figures go into the asset's metadata."""

    table: str
    version_before: int
    version_after: int
    rows: int
    files_before: int
    files_after: int
    files_compacted: int  # small files rewritten
    files_written: int  # larger files they became
    files_vacuumed: int  # unreferenced files deleted from storage
    vacuum: str  # done | refused: <reason>
    checkpoint_version: int

    def as_dict(self) -> dict:
        return asdict(self)


def check_retention(retention: dt.timedelta) -> dt.timedelta:
    """The vacuum retention, refused below one day: a shorter one can delete files a running reader needs."""
    if retention < MIN_RETENTION:
        raise ValueError(f"vacuum retention must be at least {MIN_RETENTION.days} day, got {retention}")
    return retention


def _active_files(table: DeltaTable) -> int:
    return len(table.file_uris())


def _rows(table: DeltaTable) -> int:
    return sum(int(n) for n in table.get_add_actions(flatten=True).column("num_records").to_pylist() if n is not None)


def maintain_table(
    uri: str, retention: dt.timedelta = DEFAULT_RETENTION, storage_options: dict[str, str] | None = None
) -> TableMaintenance | None:
    """Compact, vacuum and checkpoint one table; None if the table does not exist yet."""
    retention = check_retention(retention)
    table = delta.open_table(uri, storage_options)
    if table is None:
        return None
    version_before, files_before = table.version(), _active_files(table)
    metrics = table.optimize.compact()
    table.update_incremental()
    try:
        vacuumed = table.vacuum(
            retention_hours=int(retention.total_seconds() // 3600),
            dry_run=False,
            enforce_retention_duration=True,
        )
        vacuum = "done"
    except DeltaError as exc:
        # The table's own retention is longer than the one asked for: respected, and said so.
        vacuumed, vacuum = [], f"refused: {exc}"
    table.update_incremental()
    table.create_checkpoint()
    return TableMaintenance(
        table=uri.rstrip("/").rsplit("/", 1)[-1],
        version_before=version_before,
        version_after=table.version(),
        rows=_rows(table),
        files_before=files_before,
        files_after=_active_files(table),
        files_compacted=int(metrics.get("numFilesRemoved", 0)),
        files_written=int(metrics.get("numFilesAdded", 0)),
        files_vacuumed=len(vacuumed),
        vacuum=vacuum,
        checkpoint_version=table.version(),
    )


def maintain_lakehouse(
    root: str,
    retention: dt.timedelta = DEFAULT_RETENTION,
    storage_options: dict[str, str] | None = None,
    tables: tuple[TableSpec, ...] = ALL_TABLES,
) -> list[TableMaintenance]:
    """Maintain every lakehouse table that exists, in the declared order."""
    check_retention(retention)
    done = []
    for spec in tables:
        result = maintain_table(delta.table_uri(root, spec.name), retention, storage_options)
        if result is not None:
            done.append(result)
    return done
