"""Reading Delta tables through DuckDB over a pyarrow dataset of the table's files (or DuckDB's own
Parquet reader for a local table of plain files): DuckDB cannot load its delta extension in an
air-gapped plant, and scanning through DuckDB avoids materialising whole tables in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

from assets.storage.delta import is_local, open_table, string_literal, table_uri
from assets.storage.schemas import TableSpec


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
