"""AVEVA / Wonderware Historian CSV exports of the History table.

Columns as exported: DateTime, TagName, Value, vValue, Quality, QualityDetail, OPCQuality (trailing
ww* columns are ignored). DateTime is local wall-clock time of the source's time zone. Quality 0 is
good, 1 bad, 16 doubtful; OPCQuality 192 and above is good, 64-191 uncertain, below 64 bad. String
tags have an empty Value and their text in vValue.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..core.timestamps import AmbiguityResolver, localize
from .csv_stream import FileRejected, TextBatch, read_header, stream_text_batches
from .parsed import ParsedBatch, invalid_rows_table

REQUIRED = ("DateTime", "TagName", "Value")
OPTIONAL = ("vValue", "Quality", "QualityDetail", "OPCQuality")

# Classify each row: typed values, normalised quality, and the first reason it cannot be landed.
_CLASSIFY_SQL = """
with typed as (
    select
        source_line,
        trim("TagName") as tag,
        trim("DateTime") as ts_text,
        regexp_matches(trim("DateTime"), '(Z|[+-][0-9]{2}:?[0-9]{2})$') as has_offset,
        try_cast(trim("DateTime") as timestamp) as local_ts,
        try_cast(trim("DateTime") as timestamptz) as offset_ts,
        nullif(trim("Value"), '') as value_raw,
        try_cast(nullif(trim("Value"), '') as double) as value,
        nullif("vValue", '') as value_text,
        try_cast(nullif(trim("Quality"), '') as integer) as q,
        try_cast(nullif(trim("OPCQuality"), '') as integer) as opc,
        nullif(trim("Quality"), '') as q_raw,
        nullif(trim("OPCQuality"), '') as opc_raw,
        concat_ws(',', "DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality") as raw
    from batch
),
graded as (
    select
        *,
        case q when 0 then 0 when 16 then 1 when 1 then 2 end as q_grade,
        case when opc >= 192 then 0 when opc >= 64 then 1 when opc >= 0 then 2 end as opc_grade
    from typed
),
final as (
    select
        source_line,
        tag,
        has_offset,
        local_ts,
        offset_ts,
        case when value_raw is null then null else value end as value,
        case when value_raw is null then value_text end as value_text,
        case greatest(coalesce(q_grade, opc_grade), coalesce(opc_grade, q_grade))
            when 0 then 'good' when 1 then 'uncertain' when 2 then 'bad'
        end as quality,
        raw,
        case
            when tag = '' and ts_text = '' then 'empty line'
            when tag = '' then 'TagName is empty'
            when length(tag) > 256 then 'TagName is longer than 256 characters'
            when regexp_matches(tag, '[\\x00-\\x1f\\x7f]') then 'TagName contains control characters'
            when has_offset and offset_ts is null then 'DateTime is not a timestamp: ' || left(ts_text, 60)
            when not has_offset and local_ts is null then 'DateTime is not a timestamp: ' || left(ts_text, 60)
            when q_raw is not null and q_grade is null then 'Quality code not recognised: ' || left(q_raw, 20)
            when opc_raw is not null and opc_grade is null then 'OPCQuality code not recognised: ' || left(opc_raw, 20)
            when q_raw is null and opc_raw is null then 'no Quality or OPCQuality given'
            when value_raw is not null and value is null then 'Value is not a number: ' || left(value_raw, 40)
            when value_raw is not null and (isnan(value) or isinf(value)) then 'Value is not finite: ' || value_raw
        end as reason
    from graded
)
select * from final
"""


def read_aveva_historian_csv(
    stream_opener,
    timezone: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Iterator[ParsedBatch]:
    """Parse an AVEVA Historian export into batches of points and of rejected rows.

    `stream_opener` returns a fresh binary stream of the (decompressed) file each time it is called.
    """
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    by_lower = {name.lower(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name.lower() not in by_lower]
    if missing:
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {', '.join(header[:12])}")
    if "quality" not in by_lower and "opcquality" not in by_lower:
        raise FileRejected("header has neither a Quality nor an OPCQuality column")
    if len(set(n.lower() for n in header)) != len(header):
        raise FileRejected("header names a column twice")
    # Give the columns we know their canonical names; positional placeholders for the rest.
    canonical = {name.lower(): name for name in REQUIRED + OPTIONAL}
    column_names = [canonical.get(name.lower(), f"_extra_{i}") for i, name in enumerate(header)]

    resolver = AmbiguityResolver()
    con = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
    con.execute("SET TimeZone = 'UTC'").fetchall()
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(stream, column_names, encoding=encoding, delimiter=delimiter):
                yield _classify(con, text, timezone, resolver)
    finally:
        con.close()


def _classify(
    con: duckdb.DuckDBPyConnection, text: TextBatch, timezone: str, resolver: AmbiguityResolver
) -> ParsedBatch:
    table = text.table
    for name in OPTIONAL:
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * table.num_rows, pa.string()))
    table = table.append_column("source_line", text.lines)
    con.register("batch", table)
    try:
        rows = con.sql(_CLASSIFY_SQL).to_arrow_table()
    finally:
        con.unregister("batch")

    # Local wall-clock times to UTC; offsets in the text win where the export carries them.
    utc, nonexistent = localize(rows["local_ts"].combine_chunks(), rows["tag"].combine_chunks(), timezone, resolver)
    has_offset = pc.fill_null(rows["has_offset"].combine_chunks(), False)
    offset_utc = rows["offset_ts"].combine_chunks().cast(utc.type)
    ts = pc.if_else(has_offset, offset_utc, utc)
    reason = rows["reason"].combine_chunks()
    gap = pc.and_(pc.and_(nonexistent, pc.invert(has_offset)), pc.is_null(reason))
    if pc.any(gap).as_py():
        message = pc.binary_join_element_wise(
            "nonexistent local time ",
            pc.strftime(
                rows["local_ts"].combine_chunks().cast(pa.timestamp("s"), safe=False), format="%Y-%m-%d %H:%M:%S"
            ),
            f" in {timezone} (daylight-saving gap)",
            "",
        )
        reason = pc.if_else(gap, message, reason)

    ok = pc.is_null(reason)
    points = pa.table(
        {
            "tag": rows["tag"],
            "ts": ts,
            "value": rows["value"],
            "value_text": rows["value_text"],
            "quality": rows["quality"],
            "source_line": rows["source_line"],
        }
    ).filter(ok)
    bad = pc.invert(ok)
    rejects = pa.table(
        {
            "line": rows["source_line"].filter(bad),
            "reason": reason.filter(bad),
            "raw": rows["raw"].filter(bad),
        }
    )
    if text.invalid:
        rejects = pa.concat_tables([rejects, invalid_rows_table(text.invalid)])
    return ParsedBatch(points=points, rejects=rejects)
