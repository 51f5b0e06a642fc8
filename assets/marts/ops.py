"""The `ops` schema of the marts file: the tag catalog, a quarantine summary and the file ledger, so the DuckDB
CLI and BI tools see how the data arrived beside the marts it made. Written into the copy built aside, with
the marts, so they are published (or not) together."""

from __future__ import annotations

import duckdb

from assets.plant.config import PlantConfig
from assets.plant.tags import model_tags_table
from assets.storage import delta, delta_read
from assets.storage.schemas import FILE_LEDGER, QUARANTINE, TAG_CATALOG, TableSpec
from assets.storage.sql_files import sql_file

SCHEMA = "ops"


def _docs(spec: TableSpec, **overrides: str) -> dict[str, str]:
    return {c.name: c.description for c in spec.columns if c.description} | overrides


# (table, the Delta table it reads, its view name in the SQL, description, column descriptions)
OPS_TABLES = (
    (
        "tag_catalog",
        TAG_CATALOG,
        "catalog",
        "Every tag that has landed, mapped or not: first and last seen (UTC), points, the share of bad quality, "
        "the unit, and the line, machine and role the plant config now maps it to (NULL: not mapped).",
        _docs(
            TAG_CATALOG,
            tag="Tag name as exported.",
            first_seen="First point's time.",
            last_seen="Last point's time.",
            points="Points landed.",
            bad_points="Points of bad quality.",
            uncertain_points="Points of uncertain quality.",
            bad_share="bad_points / points.",
            mapped="Whether the current plant config uses the tag.",
            line="Line of the machine that uses the tag.",
            machine="Machine that uses the tag.",
        ),
    ),
    (
        "quarantine_summary",
        QUARANTINE,
        "quarantine",
        "Quarantined rows counted per file and reason, with the first quarantined line as an example "
        "(every row: `iiot-lakehouse quarantine`).",
        {
            "source": "Source of the file.",
            "source_file": "File path relative to LANDING_ROOT.",
            "reason": "Why the rows were not landed.",
            "rows_quarantined": "Rows of the file quarantined for this reason.",
            "first_line": "First such line in the file (1 = header); NULL if unknown.",
            "last_line": "Last such line in the file.",
            "first_raw": "The first such row as read, fields joined by commas.",
            "last_quarantined_at": "When the last of them was quarantined.",
        },
    ),
    (
        "file_ledger",
        FILE_LEDGER,
        "ledger",
        "One row per file (or archive member) seen by the landing, newest first: status landed, rejected or "
        "duplicate, with its counts; rows_in = rows_landed + rows_quarantined.",
        _docs(
            FILE_LEDGER,
            source="Source of the file.",
            size_bytes="File size in bytes.",
            status="landed, rejected (unreadable as a whole) or duplicate (same content as a file landed before).",
            rows_quarantined="Rows that could not be landed (see ops.quarantine_summary).",
            min_ts="Earliest point's time in the file.",
            max_ts="Latest point's time in the file.",
            landed_at="When the file was landed.",
        ),
    ),
)


def write_ops_tables(
    con: duckdb.DuckDBPyConnection,
    lakehouse_root: str,
    config: PlantConfig,
    storage_options: dict[str, str] | None = None,
) -> None:
    """Replace the `ops` tables in the marts file being built from bronze as it is now."""
    con.execute(f"create schema if not exists {SCHEMA}").fetchall()
    con.register("model_tags", model_tags_table(config))
    for name, spec, view, description, docs in OPS_TABLES:
        delta_read.register_table(
            con, view, delta.table_uri(lakehouse_root, spec.name), spec, storage_options=storage_options
        )
        con.execute(f"create or replace table {SCHEMA}.{name} as {sql_file(f'ops/{name}.sql')}").fetchall()
        con.unregister(view)
        con.execute(f"comment on table {SCHEMA}.{name} is {delta.string_literal(description)}").fetchall()
        for column, doc in docs.items():
            con.execute(f'comment on column {SCHEMA}.{name}."{column}" is {delta.string_literal(doc)}').fetchall()
    con.unregister("model_tags")
