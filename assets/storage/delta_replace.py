"""Replacing single points of a date-partitioned Delta table by key: the files holding a replaced key
are written again without it, beside the new points' files, in one commit."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import AddAction, RemoveAction

from assets.storage.delta import ensure_table
from assets.storage.delta_read import duckdb_session
from assets.storage.schemas import TableSpec


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
