"""The file ledger: what landing one file did (FileReport), what the ledger already holds (KnownFiles),
its rows, and the figures read back from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pyarrow as pa

from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import FILE_LEDGER, UTC_TS
from assets.storage.sql_files import sql_file
from assets.storage.validation import ValidationResult


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
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        rows = con.sql(sql_file("bronze/ledger_known_files.sql")).fetchall()
    for key, sha, name, status, size, exported_at, file_version in rows:
        known.keys.add(key)
        known._sign(name, size, exported_at, file_version)
        if status == "landed":
            known.contents.setdefault(sha, name)
    return known


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


def point_span(lakehouse: Lakehouse) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The oldest and newest point timestamps of any landed file, from the ledger."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return None, None
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        earliest, latest = con.sql("select min(min_ts), max(max_ts) from ledger").fetchall()[0]
    return earliest, latest


def bronze_row_balance(lakehouse: Lakehouse) -> pa.Table:
    """Per file: rows in, landed and quarantined as the ledger says, and whether they add up."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return FILE_LEDGER.empty()
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        return con.sql("select * from ledger where rows_in <> rows_landed + rows_quarantined").to_arrow_table()
