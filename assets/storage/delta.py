"""Delta table locations, writes and reads.

Table locations are URIs (a local folder today, object storage later), so nothing here joins
paths with os.path. Reads go through DuckDB over a pyarrow dataset of the Delta table's files:
DuckDB cannot load its delta extension in an air-gapped plant, and scanning through DuckDB avoids
materialising whole tables in Python.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Schema, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

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


@contextmanager
def duckdb_session(memory_limit: str = "2GB", temp_directory: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with bounded memory, closed when done."""
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 2})
    con.execute("SET TimeZone = 'UTC'").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    if temp_directory:
        con.execute("SET temp_directory = ?", [temp_directory]).fetchall()
    try:
        yield con
    finally:
        con.close()


def register_table(
    con: duckdb.DuckDBPyConnection,
    view: str,
    uri: str,
    spec: TableSpec,
    partitions: list[tuple[str, str, object]] | None = None,
    storage_options: dict[str, str] | None = None,
    native: bool = False,
) -> None:
    """Expose a Delta table (optionally only some partitions) to DuckDB as a view.

    A table that does not exist yet reads as empty with its declared schema, so the first run of a
    fresh lakehouse needs no special case. With `native`, a local table of plain Parquet files is read
    by DuckDB's own Parquet reader, within the session's memory limit (bronze's millions of points);
    otherwise, and for a remote table, through a pyarrow dataset. The marts keep the dataset: DuckDB
    plans their joins from the files' row counts, and a different plan adds floating-point sums in
    another order, so a day published beside other neighbours would differ in its last bits.
    """
    table = open_table(uri, storage_options)
    if table is None:
        con.register(view, spec.empty())
        return
    if partitions is not None and any(op == "in" and not values for _, op, values in partitions):
        con.register(view, spec.empty())
        return
    if native and is_local(uri) and _plain_parquet(table):
        _register_files(
            con, view, spec, table.file_uris(file_pruning_predicate=partitions) if partitions else table.file_uris()
        )
        return
    dataset = table.to_pyarrow_dataset(partitions=partitions) if partitions else table.to_pyarrow_dataset()
    con.register(view, dataset)


def query_table(
    lakehouse_root: str,
    spec: TableSpec,
    sql: str,
    params: list | None = None,
    partitions: list[tuple[str, str, object]] | None = None,
    storage_options: dict[str, str] | None = None,
) -> list[dict]:
    """The rows of a query over one Delta table (named in `sql` by its table name), as dicts: the small
    control tables (the plant config's history, the day watermark, a day's calendar) are read this way."""
    with duckdb_session() as con:
        register_table(
            con, spec.name, table_uri(lakehouse_root, spec.name), spec, partitions, storage_options=storage_options
        )
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# DuckDB types of the partition columns, read from the file paths (dates are all the tables use)
_HIVE_TYPES = {pa.date32(): "DATE", pa.string(): "VARCHAR"}

# Reader features that change how a Parquet file's rows are read: such a table goes through delta-rs.
_READER_FEATURES_NEEDING_DELTA = {"deletionVectors", "columnMapping"}


def _plain_parquet(table: DeltaTable) -> bool:
    """Whether the table's active files, read as they are, give its rows (no deletion vectors, no
    column mapping)."""
    protocol = table.protocol()
    if protocol.min_reader_version == 1:
        return True
    features = set(protocol.reader_features or [])
    return protocol.min_reader_version == 3 and not features & _READER_FEATURES_NEEDING_DELTA


def _register_files(con: duckdb.DuckDBPyConnection, view: str, spec: TableSpec, files: list[str]) -> None:
    """The table's files as a view with the spec's columns and types.

    A pyarrow dataset scan reads ahead several files outside DuckDB's memory limit (about 360 MB more
    for a re-export's classification against 1 M-point bronze files); DuckDB's reader stays within it.
    A column added to the table after some files were written reads NULL in them (union by name with
    the spec's empty table, which also fixes the types).
    """
    if not files:
        con.register(view, spec.empty())
        return
    con.register(f"{view}__columns", spec.empty())
    # A view takes no bind parameters: the file paths come from the Delta log and are quoted as literals.
    # In path order (partition by partition), not the log's, which depends on the order of the commits.
    listed = ", ".join(string_literal(f) for f in sorted(files))
    options = "union_by_name = true"
    if spec.partition_by:
        types = ", ".join(f"'{c}': '{_HIVE_TYPES[spec.arrow_schema.field(c).type]}'" for c in spec.partition_by)
        options += f", hive_partitioning = true, hive_types = {{{types}}}"
    else:
        options += ", hive_partitioning = false"
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    con.execute(
        f"create or replace temp view {view} as select {columns} from ("
        f"select * from {view}__columns union all by name "
        f"select * from read_parquet([{listed}], {options}))"
    ).fetchall()


def date_partitions(column: str, days: Iterable[dt.date]) -> list[tuple[str, str, object]]:
    """A partition filter selecting some dates of a date-partitioned table."""
    return [(column, "in", sorted({d.isoformat() for d in days}))]


def replace_points(
    uri: str,
    spec: TableSpec,
    data: pa.RecordBatchReader,
    storage_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Replace the points with the same key (date partition, tag and ts) as `data`'s, in one Delta
    commit: each file holding one of them is written again without it, and `data`'s points are added.

    Not delta-rs's MERGE: its rewritten files store text as Arrow `string_view`, which pyarrow cannot
    compare with a string, so every later filtered read of the table through pyarrow failed (an
    analyst's `to_pyarrow_table(filters=...)`, DuckDB over a pyarrow dataset on object storage).
    Everything streams in batches: memory holds the replaced keys, not the points or the files.
    """
    table = ensure_table(uri, spec, storage_options)
    (partition,) = spec.partition_by
    filesystem = table.to_pyarrow_dataset().filesystem  # rooted at the table, local or remote
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    # the new points, one file per date, written as they come; their keys kept for the files below
    writers: dict[dt.date, _FileWriter] = {}
    keys = []
    for batch in data:
        batch = spec.conform_batch(batch)
        keys.append(batch.select([partition, *spec.unique]))
        for day in pc.unique(batch[partition]).to_pylist():
            if day not in writers:
                writers[day] = _FileWriter(filesystem, spec, day)
            day_type = batch.schema.field(partition).type
            writers[day].write(batch.filter(pc.equal(batch[partition], pa.scalar(day, day_type))))
    if not writers:
        return
    added = [writer.close(now_ms) for writer in writers.values()]
    # the replaced keys, joined with each file's: the join spills beyond 128 MB
    with tempfile.TemporaryDirectory(prefix="iiot-replace-") as spill, duckdb_session("128MB", spill) as con:
        con.register("replacing", pa.Table.from_batches(keys))
        # A commit that finds another one before it (maintenance compacting the same files) must not be
        # rebased onto it: the files it removes may be gone, their points in a compacted file that the
        # commit would leave beside the replacements. It fails instead, and the files holding the keys
        # are found again in the newer version.
        for _attempt in range(REPLACE_ATTEMPTS):
            table = DeltaTable(uri, storage_options=storage_options)
            rewritten, written = _rewrite_files_holding(con, table, spec, filesystem, now_ms)
            try:
                table.create_write_transaction(
                    added + rewritten,
                    mode="append",
                    schema=spec.arrow_schema,
                    partition_by=list(spec.partition_by),
                    commit_properties=CommitProperties(custom_metadata=metadata or {}, max_commit_retries=0),
                )
                return
            except CommitFailedError:
                for path in written:
                    filesystem.delete_file(path)
    raise CommitFailedError(f"{uri}: points not replaced, {REPLACE_ATTEMPTS} commits lost to other writers")


REPLACE_ATTEMPTS = 20


def _rewrite_files_holding(
    con: duckdb.DuckDBPyConnection, table: DeltaTable, spec: TableSpec, filesystem, now_ms: int
) -> tuple[list[AddAction | RemoveAction], list[str]]:
    """For each file of the table that holds a key of the view `replacing`: the action removing it and
    the one adding it again without those keys. Also the paths written, for a commit that fails."""
    (partition,) = spec.partition_by
    using = ", ".join(f'"{c}"' for c in spec.unique)
    file_columns = [c for c in spec.column_names if c != partition]
    actions: list[AddAction | RemoveAction] = []
    written: list[str] = []
    # the files that can hold a replaced point: its date, and statistics whose times span it (a file
    # without times in its statistics is read to find out)
    spans = con.sql(f'select "{partition}", min(ts), max(ts) from replacing group by all').fetchall()
    files = pa.table(table.get_add_actions(flatten=True))
    no_stats = [None] * files.num_rows
    for path, size, part, low, high in zip(
        files["path"].to_pylist(),
        files["size_bytes"].to_pylist(),
        files[f"partition.{partition}"].to_pylist(),
        files["min.ts"].to_pylist() if "min.ts" in files.column_names else no_stats,
        files["max.ts"].to_pylist() if "max.ts" in files.column_names else no_stats,
        strict=True,
    ):
        # the statistics keep times to the millisecond: widened by one, a file is never passed over
        # for a point it holds (which would then be there twice)
        if not any(
            part == day and (low is None or high is None or (low - _MS <= last and high + _MS >= first))
            for day, first, last in spans
        ):
            continue
        day_keys = f'(select * from replacing where "{partition}" = $part) as r'
        # the positions in the file of the points replaced: most files hold none
        keys_in_file = pq.read_table(path, columns=list(spec.unique), filesystem=filesystem)
        keys_in_file = keys_in_file.cast(spec.schema_of(spec.unique)).append_column(
            "row_index", pa.array(np.arange(keys_in_file.num_rows, dtype=np.int64))
        )
        con.register("file_keys", keys_in_file)
        replaced = con.sql(
            f"select row_index from file_keys semi join {day_keys} using ({using})", params={"part": part}
        ).to_arrow_table()["row_index"]
        con.unregister("file_keys")
        del keys_in_file
        if not len(replaced):
            continue
        # the file's other rows, in the file's order, streamed into a new file
        writer = _FileWriter(filesystem, spec, part)
        written.append(writer.path)
        for start, batch in _batches(filesystem, path, spec, file_columns):
            positions = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
            writer.write(batch.filter(pc.invert(pc.is_in(positions, value_set=replaced))))
        actions.append(
            RemoveAction(
                path=path,
                data_change=True,
                deletion_timestamp=now_ms,
                size=size,
                partition_values={partition: part.isoformat()},
            )
        )
        if writer.rows:
            actions.append(writer.close(now_ms))
        else:
            writer.discard()
            written.pop()
    return actions, written


_MS = dt.timedelta(milliseconds=1)


def _batches(filesystem, path: str, spec: TableSpec, columns: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
    """A data file's rows in batches, cast to the table's types (text read as `string_view` back to
    string), each with the position of its first row in the file."""
    source = pq.ParquetFile(filesystem.open_input_file(path))
    start = 0
    try:
        for batch in source.iter_batches(batch_size=100_000, columns=columns):
            yield start, spec.conform_batch(batch, columns)
            start += batch.num_rows
    finally:
        source.close()


class _FileWriter:
    """One data file of a date-partitioned table, written batch by batch where Delta keeps it, and the
    action that adds it. Its statistics give the row count, the null counts and the span of `tag` and
    `ts` (times to the millisecond, widened outwards, so that no reader skips the file for a time it
    holds)."""

    def __init__(self, filesystem, spec: TableSpec, day: dt.date):
        (self.partition,) = spec.partition_by
        self.day = day
        self.filesystem = filesystem
        self.spec = spec
        self.columns = [c for c in spec.column_names if c != self.partition]
        self.schema = spec.schema_of(self.columns)
        self.path = f"{self.partition}={day.isoformat()}/part-00000-{uuid.uuid4()}-c000.snappy.parquet"
        self.writer = pq.ParquetWriter(self.path, self.schema, filesystem=filesystem, compression="snappy")
        self.rows = 0
        self.nulls = dict.fromkeys(self.columns, 0)
        self.low: dict[str, object] = {}
        self.high: dict[str, object] = {}

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        batch = self.spec.conform_batch(batch, self.columns)
        self.writer.write_batch(batch)
        self.rows += batch.num_rows
        for c in self.columns:
            self.nulls[c] += batch.column(c).null_count
        for c in ("tag", "ts"):
            low, high = (v.as_py() for v in pc.min_max(batch.column(c)).values())
            self.low[c] = low if c not in self.low else min(self.low[c], low)
            self.high[c] = high if c not in self.high else max(self.high[c], high)

    def close(self, now_ms: int) -> AddAction:
        self.writer.close()
        stats = {
            "numRecords": self.rows,
            "minValues": {"tag": self.low["tag"], "ts": _stat_time(self.low["ts"], up=False)},
            "maxValues": {"tag": self.high["tag"], "ts": _stat_time(self.high["ts"], up=True)},
            "nullCount": self.nulls,
        }
        return AddAction(
            path=self.path,
            size=self.filesystem.get_file_info(self.path).size,
            partition_values={self.partition: self.day.isoformat()},
            modification_time=now_ms,
            data_change=True,
            stats=json.dumps(stats),
        )

    def discard(self) -> None:
        self.writer.close()
        self.filesystem.delete_file(self.path)


def _stat_time(value: dt.datetime, up: bool) -> str:
    """A time for Delta statistics: UTC, to the millisecond (a maximum rounded up)."""
    value = value.astimezone(dt.UTC)
    if up and value.microsecond % 1000:
        value += dt.timedelta(microseconds=1000 - value.microsecond % 1000)
    else:
        value -= dt.timedelta(microseconds=value.microsecond % 1000)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


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
