"""Committing a staged file: classify each point against bronze (new, duplicate, changed, superseded or
a conflict), then quarantine, points and the ledger row, in the order the landing's module docstring
(assets.bronze.landing) gives, with the crash tests' kill points between.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from assets.bronze.landing_ledger import FileReport, write_ledger_row
from assets.plant.config import Source
from assets.readers import staged_rows
from assets.readers.parsed import REJECT_COLUMNS
from assets.storage import delta, delta_read, delta_replace
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, QUARANTINE, UTC_TS
from assets.storage.sql_files import register_macros, sql_file
from assets.storage.validation import KEY_CHECKED_BY_CALLER, validated_stream

# Crash tests set this to a point name below to cut the power there: the process kills itself (SIGKILL).
KILL_AT_ENV = "IIOT_LANDING_KILL_AT"


def _kill_point(point: str) -> None:
    """A named point in the commit order (staged, quarantined, points_committed, ledger_written, landed).

    Does nothing unless IIOT_LANDING_KILL_AT names this point; the crash tests use it to stop a landing
    exactly between two commits, where random timing rarely lands.
    """
    if os.environ.get(KILL_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


# The landing's SQL (sql/bronze/landing_*.sql), read once.
_REPEAT_KEYS_SQL = "bronze/landing_repeat_keys.sql"
_CLASSIFY_SQL = "bronze/landing_classify.sql"
_CLASSIFY_UNIQUE_SQL = "bronze/landing_classify_unique.sql"
_ALL_NEW_SQL = "bronze/landing_all_new.sql"
_HOURLY_GROUPS_SQL = "bronze/landing_hourly_groups.sql"
_TAG_STATS_SQL = "bronze/landing_tag_stats.sql"
_COMMIT_POINTS_SQL = "bronze/landing_commit_points.sql"
_CONFLICTS_SQL = "bronze/landing_conflicts.sql"


def _register_points(con, points_path: Path) -> None:
    """The staged points as the view `points`.

    A file staged whole (see readers.stage_source_file) holds its rejected rows too, with a reason; they
    were copied to the rejects file and are left out here.
    """
    # a view takes no bind parameters: the staged file's path (ours) is a literal
    if "reason" in pq.read_schema(points_path).names:
        rows = f"{staged_rows(points_path)} where reason is null"
    else:
        rows = f"read_parquet({delta.string_literal(str(points_path))})"
    con.execute(
        f"create temp view points as select tag, ts, value, value_text, quality, source_line from {rows}"
    ).fetchall()


def _classify_and_commit(
    lakehouse: Lakehouse,
    source: Source,
    rel: str,
    sha: str,
    report: FileReport,
    points_path: Path,
    rejects_path: Path,
    staging: Path,
    now: dt.datetime,
) -> None:
    bronze_uri = lakehouse.uri(BRONZE_POINTS.name)
    # DuckDB spills the classification to disk beyond this, and hands freed memory back early, so a
    # landing's memory stays bounded whatever the file's size.
    with delta_read.duckdb_session(memory_limit="128MB", temp_directory=str(staging / "spill")) as con:
        con.execute("SET allocator_flush_threshold = '16MB'").fetchall()
        _register_points(con, points_path)
        register_macros(con, _HOURLY_GROUPS_SQL)
        con.execute(
            "create temp view new_points as select 'new' as outcome, * from points;"
            "create temp table point_groups as from bronze_hourly_groups('new_points')"
        ).fetchall()
        # The span of the staged points and the UTC days they fall on (as whole days since 1970: integer
        # division truncates towards zero, so a day before 1970 also names the day after it).
        first, last, day_numbers = con.execute(
            "select min(first_seen), max(last_seen), list(distinct epoch_us(hour) // 86400000000) from point_groups"
        ).fetchall()[0]
        # The (tag, time) hashes that occur more than once: usually none.
        con.execute(sql_file(_REPEAT_KEYS_SQL)).fetchall()
        repeated = con.execute("select count(*) from repeat_keys").fetchall()[0][0] > 0
        report.min_ts, report.max_ts = first, last
        epoch = dt.date(1970, 1, 1)
        days = sorted(
            {epoch + dt.timedelta(days=d) for d in day_numbers or []}
            | {epoch + dt.timedelta(days=d - 1) for d in day_numbers or [] if d <= 0}
        )
        delta_read.register_table(
            con,
            "existing",
            bronze_uri,
            BRONZE_POINTS,
            partitions=delta_read.date_partitions("ts_date", days) if days else [("ts_date", "in", [])],
            storage_options=lakehouse.storage_options,
            native=True,
        )
        # Bronze points inside the file's span, not only on its UTC days: a production day's export shares
        # its first UTC date with the day before's, and every point of both would otherwise be joined.
        in_bronze = con.execute(
            "select count(*) from (select 1 from existing where ts >= $first and ts <= $last limit 1)",
            {"first": first, "last": last},
        ).fetchall()[0][0]
        if not repeated and not in_bronze:
            # a hash that repeats without a real repeat (a collision) takes the path below, which ranks it
            con.execute(sql_file(_ALL_NEW_SQL)).fetchall()
            con.execute("create temp table outcome_groups as from point_groups").fetchall()
        else:
            # the join with bronze's points of these days would spill within 128 MB: it gets 256 MB
            con.execute("SET memory_limit = '256MB'").fetchall()
            classify_sql = _CLASSIFY_SQL if repeated else _CLASSIFY_UNIQUE_SQL
            # a temp table, not a Parquet file: writing the 13 columns of a 4.4 M-point classification
            # took 4.8 s, the table 1.7 s; beyond the limit DuckDB moves its blocks to the spill folder
            con.execute(sql_file(classify_sql), {"file": rel, "exported_at": report.exported_at}).fetchall()
            # back to 128 MB for the commits: the Delta writer's batches need the room
            con.execute("SET memory_limit = '128MB'").fetchall()
            con.execute("create temp table outcome_groups as from bronze_hourly_groups('classified')").fetchall()
        counts = dict(con.execute("select outcome, sum(points)::bigint from outcome_groups group by 1").fetchall())
        report.rows_new = counts.get("new", 0)
        report.rows_changed = counts.get("changed", 0)
        report.rows_duplicate = counts.get("duplicate", 0)
        report.tag_stats = con.sql(
            sql_file(_TAG_STATS_SQL),
            params={"source": source.name},
        ).to_arrow_table()
        units = [report.units.get(tag) for tag in report.tag_stats["tag"].to_pylist()]
        report.tag_stats = report.tag_stats.append_column("unit", pa.array(units, pa.string()))
        report.new_hours = [
            r[0]
            for r in con.execute(
                "select distinct hour from outcome_groups where outcome in ('new', 'changed') order by 1"
            ).fetchall()
        ]

        conflicts = REJECT_COLUMNS.empty_table()
        if counts.get("conflict", 0) or counts.get("superseded", 0):
            conflicts = _conflicts(con)
        rejects = pq.read_table(rejects_path).cast(REJECT_COLUMNS)
        quarantine = pa.concat_tables([rejects, conflicts.cast(REJECT_COLUMNS)])
        report.rows_quarantined = quarantine.num_rows

        # 1. quarantine, keyed by the file's hash: a repeat replaces, never doubles.
        if quarantine.num_rows:
            n = quarantine.num_rows
            quarantine_rows = pa.table(
                {
                    "source": pa.array([source.name] * n),
                    "source_file": pa.array([rel] * n),
                    "file_key": pa.array([report.file_key] * n),
                    "line": quarantine["line"],
                    "reason": quarantine["reason"],
                    "raw": quarantine["raw"],
                    "quarantined_at": pa.array([now] * n, UTC_TS),
                }
            )
            delta.replace_where(
                lakehouse.uri(QUARANTINE.name),
                QUARANTINE,
                f"file_key = {delta.hex_literal(report.file_key)}",
                QUARANTINE.conform(quarantine_rows),
                lakehouse.storage_options,
            )

        _kill_point("quarantined")
        # 2. the new points appended, then the changed ones in place of the points they replace, in
        # Delta commits of at most COMMIT_ROWS points: the writer holds a commit's files in memory, and
        # a repeat after a crash between commits finds the committed points already there. Replacing
        # rewrites every bronze file that holds a replaced point, so it gets the changed points alone.
        metadata = {"source_file": rel, "file_key": report.file_key}
        for outcome, count in (("new", report.rows_new), ("changed", report.rows_changed)):
            if not count:
                continue
            reader = con.sql(
                sql_file(_COMMIT_POINTS_SQL),
                params={
                    "source": source.name,
                    "file": rel,
                    "now": now,
                    "exported_at": report.exported_at,
                    "outcome": outcome,
                },
            ).to_arrow_reader(batch_size=COMMIT_BATCH_ROWS)
            for chunk in _chunks(reader, COMMIT_ROWS if outcome == "new" else REPLACE_ROWS):
                # the classification above compared each point with its file and with bronze: the key is whole
                rows = validated_stream(
                    chunk, BRONZE_POINTS, report.validation, VALIDATE_ROWS, key=KEY_CHECKED_BY_CALLER
                )
                if outcome == "changed":
                    delta_replace.replace_points(bronze_uri, BRONZE_POINTS, rows, lakehouse.storage_options, metadata)
                else:
                    delta.append(bronze_uri, BRONZE_POINTS, rows, lakehouse.storage_options, metadata=metadata)

    _kill_point("points_committed")
    # 3. the ledger row last: a file without one is landed again, and finds its points already there.
    write_ledger_row(lakehouse, report, now)
    _kill_point("ledger_written")


def _conflicts(con) -> pa.Table:
    """The quarantine rows of points that repeat a (tag, time) with another value, in the file or in bronze."""
    return con.sql(sql_file(_CONFLICTS_SQL)).to_arrow_table()


# Points per Delta commit, and per batch handed to the writer: the writer's memory grows with a commit
# (a 17.7 M-point export peaks at 640 MB with commits of 200 k points, 720 MB with 1 M), while each commit
# costs a log entry and a small file: 1 M points per commit lands that export 12 % faster, in 18 commits
# instead of 89, and leaves fewer, larger files for the daily job to read. Batches of 100 k made the
# process's memory climb over a file's first commits (the Delta writer's and polars' allocations for
# validation); at 50 k it stays level, at the same speed.
COMMIT_ROWS = 1_000_000
COMMIT_BATCH_ROWS = 50_000
# Changed points per commit: a commit reads the bronze files that may hold them and rewrites those that
# do, with its points' keys in memory beside the classification. A re-export changing 2.2 M landed
# points peaked at 1,039 MB in commits of 1 M (11.1 s), 897 MB in commits of 500 k (12.2 s) and 831 MB
# in commits of 250 k (16.0 s: each commit reads the day's files again).
REPLACE_ROWS = 500_000


def _chunks(reader: pa.RecordBatchReader, max_rows: int) -> Iterator[pa.RecordBatchReader]:
    """Split a stream of batches into streams of at most about `max_rows` rows, read one after another."""
    batches = iter(reader)
    pending = next(batches, None)
    while pending is not None:
        first = pending

        def take(first=first):
            nonlocal pending
            rows = 0
            batch = first
            while batch is not None:
                yield batch
                rows += batch.num_rows
                batch = next(batches, None)
                if batch is not None and rows + batch.num_rows > max_rows:
                    break
            pending = batch

        pending = None
        yield pa.RecordBatchReader.from_batches(reader.schema, take())
        if pending is None and first is not None and next(batches, None) is not None:
            # the consumer stopped before the end of its chunk: rows would be lost without a word
            raise RuntimeError("a commit chunk was not read to its end; no rows may be left behind")


# Rows validated at a time: the writer's 50 k batches are validated ten at a time (a 17.7 M-point export:
# 1.5 s of validation in all; groups of 1 M points were a little faster, but held so much more before
# the writer that landing's peak memory rose from 720 to 920 MB).
VALIDATE_ROWS = 500_000
