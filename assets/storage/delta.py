"""Delta table locations, SQL literals for predicates, and whole-partition writes.

Table locations are URIs (a local folder today, object storage later), so nothing here joins
paths with os.path. Reading goes through DuckDB (`delta_read`); replacing single points by key
rewrites the files holding them (`delta_replace`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Schema, write_deltalake
from deltalake.exceptions import TableNotFoundError

from assets.storage.schemas import TableSpec

# The Delta writer builds each Parquet file in memory before it stores it, one per open partition: a
# smaller target bounds a landing's memory (the weekly maintenance compacts the files again).
TARGET_FILE_SIZE = 32 << 20

# Concurrent writers to one table (landing beside maintenance, two plants' runs on a shared store) each
# retry a commit that lost the race on the version that won; an append never conflicts with another
# append, so it is retried until it lands. delta-rs's default of 15 runs out under real contention.
MAX_COMMIT_RETRIES = 100

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def normalise_root(root: str) -> str:
    """Return a root as a URI-like string: URIs unchanged, local paths made absolute."""
    if _SCHEME_RE.match(root):
        return root.rstrip("/")
    return str(Path(root).expanduser().resolve())


def table_uri(root: str, name: str) -> str:
    """The location of a table under the lakehouse root."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"not a table name: {name!r}")
    return f"{normalise_root(root)}/{name}"


def is_local(uri: str) -> bool:
    return not _SCHEME_RE.match(uri) or uri.lower().startswith("file://")


def open_table(uri: str, storage_options: dict[str, str] | None = None) -> DeltaTable | None:
    """Open a Delta table, or None if there is none at that location yet."""
    try:
        return DeltaTable(uri, storage_options=storage_options)
    except TableNotFoundError:
        return None


def ensure_table(uri: str, spec: TableSpec, storage_options: dict[str, str] | None = None) -> DeltaTable:
    """Open a table, creating it empty with its declared schema and partitioning if it does not exist.

    A table made by an earlier release gets the nullable columns its spec has gained since (one commit);
    its existing rows read NULL there.
    """
    table = open_table(uri, storage_options)
    if table is not None:
        have = set(table.schema().to_arrow().names)
        missing = [f for f in spec.arrow_schema if f.name not in have and f.nullable]
        if missing:
            table.alter.add_columns(Schema.from_arrow(pa.schema(missing)).fields)
        return table
    return DeltaTable.create(
        uri,
        schema=spec.arrow_schema,
        partition_by=list(spec.partition_by) or None,
        mode="ignore",
        name=spec.name,
        description=spec.description,
        # a checkpoint every 20 commits keeps opening a table fast however long its history grows
        configuration={"delta.checkpointInterval": "20"},
        storage_options=storage_options,
    )


def commit_properties(metadata: dict[str, str] | None = None) -> CommitProperties:
    """Commit properties of every write: its metadata and the retries a commit gets under contention."""
    return CommitProperties(custom_metadata=metadata or {}, max_commit_retries=MAX_COMMIT_RETRIES)


def date_literal(day: dt.date) -> str:
    """A date as a SQL literal for a Delta predicate; only ever made from a real date object."""
    if not isinstance(day, dt.date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return f"'{day.isoformat()}'"


def string_literal(value: str) -> str:
    """Text as a SQL string literal, for the few statements that take no bind parameters (a view, COPY)."""
    return "'" + value.replace("'", "''") + "'"


def hex_literal(value: str) -> str:
    """A content hash as a SQL literal for a Delta predicate; refuses anything but lowercase hex."""
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError(f"not a sha256 hex digest: {value!r}")
    return f"'{value}'"


def replace_days(
    uri: str,
    spec: TableSpec,
    days: Iterable[dt.date],
    data: pa.Table | pa.RecordBatchReader,
    storage_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Replace whole production-day partitions in one Delta commit, so a re-run gives the same table."""
    days = sorted(set(days))
    if not days:
        return
    ensure_table(uri, spec, storage_options)
    predicate = f"day IN ({', '.join(date_literal(d) for d in days)})"
    write_deltalake(
        uri,
        data,
        mode="overwrite",
        predicate=predicate,
        partition_by=list(spec.partition_by) or None,
        storage_options=storage_options,
        commit_properties=commit_properties(metadata),
    )


def append(
    uri: str,
    spec: TableSpec,
    data: pa.Table | pa.RecordBatchReader,
    storage_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Append rows in one Delta commit (callers make sure the rows are not already there)."""
    ensure_table(uri, spec, storage_options)
    write_deltalake(
        uri,
        data,
        mode="append",
        partition_by=list(spec.partition_by) or None,
        storage_options=storage_options,
        target_file_size=TARGET_FILE_SIZE,
        commit_properties=commit_properties(metadata),
    )


def replace_where(
    uri: str,
    spec: TableSpec,
    predicate: str,
    data: pa.Table,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Replace the rows matching a predicate built from checked literals, in one commit."""
    ensure_table(uri, spec, storage_options)
    write_deltalake(
        uri,
        data,
        mode="overwrite",
        predicate=predicate,
        partition_by=list(spec.partition_by) or None,
        storage_options=storage_options,
        commit_properties=commit_properties(),
    )


def replace_all(uri: str, spec: TableSpec, data: pa.Table, storage_options: dict[str, str] | None = None) -> None:
    """Replace a small table's whole content in one commit (a catalog rewritten from itself)."""
    ensure_table(uri, spec, storage_options)
    write_deltalake(
        uri,
        data,
        mode="overwrite",
        partition_by=list(spec.partition_by) or None,
        storage_options=storage_options,
        commit_properties=commit_properties(),
    )
