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


_REPEAT_KEYS_SQL = """
create temp table repeat_keys as
select distinct h
from (select h, lead(h) over (order by h) as next_h from (select hash(tag, ts) as h from points))
where h = next_h
"""


# A file with (tag, time) repeats: rows are ranked by line within their (tag, time), the first of each is the
# reference of the others. Only rows whose (tag, time) hash repeats (`repeat_keys`) are ranked; any other row
# is the only one of its (tag, time), first by itself.
_CLASSIFY_SQL = """
create temp table classified as
    with points as (
        select *, hash(tag, ts) in (select h from repeat_keys) as maybe_repeated from points
    ),
    ranked as (
        select
            tag, ts, value, value_text, quality, source_line,
            row_number() over (partition by tag, ts order by source_line) as rn
        from points
        where maybe_repeated
    ),
    staged as (
        select tag, ts, value, value_text, quality, source_line, 1 as rn from points where not maybe_repeated
        union all
        select * from ranked
    ),
    firsts as (
        select tag, ts, value, value_text, quality, source_line from ranked where rn = 1
    ),
    final as (
        select
            s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
            case
                -- a repeated row in the same file: identical is a duplicate, different is a conflict
                when s.rn > 1 and s.value is not distinct from f.value
                    and s.value_text is not distinct from f.value_text and s.quality = f.quality then 'duplicate'
                when s.rn > 1 then 'conflict'
                when e.tag is null then 'new'
                when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                    and s.quality = e.quality then 'duplicate'
                -- a different value for a landed point: the later export wins, whatever the arrival order
                when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                    then 'changed'
                else 'superseded'
            end as outcome,
            case when s.rn > 1 then $file else e.source_file end as ref_file,
            case when s.rn > 1 then f.source_line else e.source_line end as ref_line,
            case when s.rn > 1 then f.value else e.value end as ref_value,
            case when s.rn > 1 then f.value_text else e.value_text end as ref_text,
            case when s.rn > 1 then f.quality else e.quality end as ref_quality,
            e.exported_at as ref_exported_at
        from staged as s
        left join firsts as f on f.tag = s.tag and f.ts = s.ts
        left join existing as e on e.tag = s.tag and e.ts = s.ts
    )
    select * from final
"""


# The usual case: no (tag, time) repeats inside the file, so each point is only compared with bronze. The
# outcomes and references are those _CLASSIFY_SQL gives when every row is the first of its (tag, time).
_CLASSIFY_UNIQUE_SQL = """
create temp table classified as
    select
        s.tag, s.ts, s.value, s.value_text, s.quality, s.source_line,
        case
            when e.tag is null then 'new'
            when s.value is not distinct from e.value and s.value_text is not distinct from e.value_text
                and s.quality = e.quality then 'duplicate'
            when $exported_at > e.exported_at or ($exported_at = e.exported_at and $file > e.source_file)
                then 'changed'
            else 'superseded'
        end as outcome,
        e.source_file as ref_file,
        e.source_line as ref_line,
        e.value as ref_value,
        e.value_text as ref_text,
        e.quality as ref_quality,
        e.exported_at as ref_exported_at
    from points as s
    left join existing as e on e.tag = s.tag and e.ts = s.ts
"""

# One pass over points: per tag and hour, what the ledger, the tag catalog and the touched hours need (a
# few rows per tag and hour, however many points).
_HOURLY_GROUPS_SQL = """
create temp table {table} as
select
    {keys}tag, date_trunc('hour', ts) as hour, count(*) as points, min(ts) as first_seen, max(ts) as last_seen,
    count(*) filter (where quality = 'bad') as bad_points,
    count(*) filter (where quality = 'uncertain') as uncertain_points
from {source}
group by all
"""
# over the staged points, and per outcome over the classified points (when some are not new)
_POINT_GROUPS_SQL = _HOURLY_GROUPS_SQL.format(table="point_groups", keys="", source="points")
_OUTCOME_GROUPS_SQL = _HOURLY_GROUPS_SQL.format(table="outcome_groups", keys="outcome, ", source="classified")

# A file without repeats on days bronze holds nothing of: every point is new, classified where it is staged.
_ALL_NEW_VIEW = """
create temp view classified as
select
    tag, ts, value, value_text, quality, source_line, 'new' as outcome, null::varchar as ref_file,
    null::bigint as ref_line, null::double as ref_value, null::varchar as ref_text, null::varchar as ref_quality,
    null::timestamptz as ref_exported_at
from points
"""


def _register_points(con, points_path: Path) -> None:
    """The staged points as the view `points`.

    A file staged whole (see readers.stage_source_file) holds its rejected rows too, with a reason; they
    were copied to the rejects file and are left out here.
    """
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
        con.execute(_POINT_GROUPS_SQL).fetchall()
        # The span of the staged points and the UTC days they fall on (as whole days since 1970: integer
        # division truncates towards zero, so a day before 1970 also names the day after it).
        first, last, day_numbers = con.execute(
            "select min(first_seen), max(last_seen), list(distinct epoch_us(hour) // 86400000000) from point_groups"
        ).fetchall()[0]
        # The (tag, time) hashes that occur more than once: usually none. Equal pairs hash equal, so every
        # repeat is among them (a collision only ranks a few more rows, each first of its own pair). Found
        # by sorting the hashes, which spills to disk within the memory limit: a hash aggregate of a 5 GB
        # export's 70 M keys runs out of memory at 128 MB instead of spilling.
        con.execute(_REPEAT_KEYS_SQL).fetchall()
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
            con.execute(_ALL_NEW_VIEW).fetchall()
            con.execute("create temp table outcome_groups as select 'new' as outcome, * from point_groups").fetchall()
        else:
            # the join with bronze's points of these days would spill within 128 MB: it gets 256 MB
            con.execute("SET memory_limit = '256MB'").fetchall()
            classify_sql = _CLASSIFY_SQL if repeated else _CLASSIFY_UNIQUE_SQL
            # a temp table, not a Parquet file: writing the 13 columns of a 4.4 M-point classification
            # took 4.8 s, the table 1.7 s; beyond the limit DuckDB moves its blocks to the spill folder
            con.execute(classify_sql, {"file": rel, "exported_at": report.exported_at}).fetchall()
            # back to 128 MB for the commits: the Delta writer's batches need the room
            con.execute("SET memory_limit = '128MB'").fetchall()
            con.execute(_OUTCOME_GROUPS_SQL).fetchall()
        counts = dict(con.execute("select outcome, sum(points)::bigint from outcome_groups group by 1").fetchall())
        report.rows_new = counts.get("new", 0)
        report.rows_changed = counts.get("changed", 0)
        report.rows_duplicate = counts.get("duplicate", 0)
        report.tag_stats = con.sql(
            """
            select
                tag, $source as source, min(first_seen) as first_seen, max(last_seen) as last_seen,
                sum(points)::bigint as points, sum(bad_points)::bigint as bad_points,
                sum(uncertain_points)::bigint as uncertain_points
            from outcome_groups
            where outcome = 'new'
            group by tag
            """,
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
                """
                select
                    cast(ts as date) as ts_date, tag, ts, value, value_text, quality,
                    $source as source, $file as source_file, source_line, $exported_at as exported_at,
                    $now as landed_at
                from classified
                where outcome = $outcome
                """,
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
    return con.sql(
        """
        select
            source_line as line,
            case outcome
                when 'conflict' then 'conflicts with line ' || ref_line || ' of the same file for this tag and time'
                else 'superseded: a later export (' || ref_file || ' line ' || ref_line || ', exported '
                    || strftime(ref_exported_at, '%Y-%m-%d %H:%M:%S') || ' UTC) gave this tag and time'
            end || ': value ' || coalesce(cast(value as varchar), value_text, 'NULL') || ' (' || quality
                || ') vs ' || coalesce(cast(ref_value as varchar), ref_text, 'NULL') || ' (' || ref_quality
                || ')' as reason,
            tag || ',' || cast(ts as varchar) || ',' || coalesce(cast(value as varchar), value_text, '') as raw
        from classified
        where outcome in ('conflict', 'superseded')
        """
    ).to_arrow_table()


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
