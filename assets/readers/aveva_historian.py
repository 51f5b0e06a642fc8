"""AVEVA / Wonderware Historian CSV exports of the History table.

Columns as exported: DateTime, TagName, Value, vValue, Quality, QualityDetail, OPCQuality (trailing
ww* columns are ignored). DateTime is local wall-clock time of the source's time zone unless it carries
an explicit offset (`Z`, `+01:00`), which is honoured. Quality 0 is good, 16 doubtful, 1 bad; OPCQuality
192 and above is good, 64-191 uncertain, below 64 bad; with both columns the worse grade wins. String
tags have an empty Value and their text in vValue.

Times, values and the daylight-saving rules are the shared ones of `rows.py`: a wall-clock time in the
spring-forward gap is rejected (`nonexistent local time ...`); the repeated autumn hour is placed per tag
from the order of its rows, and a point the order cannot place is rejected (`ambiguous local time ...`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .csv_stream import FileRejected, TextBatch, read_header, stream_text_batches
from .parsed import ParsedBatch, invalid_rows_table
from .rows import RowFinisher, RowRules, has_control_characters

REQUIRED = ("DateTime", "TagName", "Value")
OPTIONAL = ("vValue", "Quality", "QualityDetail", "OPCQuality")
# The fields a rejected row's raw text joins, in this order.
RAW_FIELDS = ("DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality")
# The History table writes ISO 8601 wall-clock times; no other forms are guessed.
ISO_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S",)

# Stage each row for the shared rules: value columns, normalised quality, and the AVEVA-specific reasons
# (in the order they are checked: line, tag, time, quality; the value checks follow in `RowFinisher`).
_STAGE_SQL = """
with typed as (
    select
        row_id,
        source_line,
        trim("TagName") as tag,
        trim("DateTime") as ts_text,
        ts_failed,
        "Value" as value_str,
        nullif(trim("Value"), '') as value_raw,
        nullif("vValue", '') as v_value,
        try_cast(nullif(trim("Quality"), '') as integer) as q,
        try_cast(nullif(trim("OPCQuality"), '') as integer) as opc,
        nullif(trim("Quality"), '') as q_raw,
        nullif(trim("OPCQuality"), '') as opc_raw,
        tag_control
    from batch
),
graded as (
    select
        *,
        case q when 0 then 0 when 16 then 1 when 1 then 2 end as q_grade,
        case when opc >= 192 then 0 when opc >= 64 then 1 when opc >= 0 then 2 end as opc_grade
    from typed
)
select
    source_line,
    tag,
    value_str,
    case when value_raw is null then v_value end as value_text,
    case greatest(coalesce(q_grade, opc_grade), coalesce(opc_grade, q_grade))
        when 0 then 'good' when 1 then 'uncertain' when 2 then 'bad'
    end as quality,
    case
        when tag = '' and ts_text = '' then 'empty line'
        when tag = '' then 'TagName is empty'
        when length(tag) > 256 then 'TagName is longer than 256 characters'
        when tag_control then 'TagName contains control characters'
        when ts_failed then 'DateTime is not a timestamp: ' || left(ts_text, 60)
        when q_raw is not null and q_grade is null then 'Quality code not recognised: ' || left(q_raw, 20)
        when opc_raw is not null and opc_grade is null then 'OPCQuality code not recognised: ' || left(opc_raw, 20)
        when q_raw is null and opc_raw is null then 'no Quality or OPCQuality given'
    end as reason
from graded
"""


def read_aveva_historian_csv(
    stream_opener,
    timezone: str,
    encoding: str = "utf-8",
    delimiter: str = ",",
    block_size: int | None = None,
) -> Iterator[ParsedBatch]:
    """Parse an AVEVA Historian export into batches of points and of rejected rows.

    `stream_opener` returns a fresh binary stream of the (decompressed) file each time it is called;
    `block_size` is the number of bytes parsed per batch. Points of the repeated autumn hour may come in
    a later batch than their line (once their tag's order decides them), the undecided ones at the end.
    """
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    by_lower = {name.lower(): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED if name.lower() not in by_lower]
    if missing:
        found = ", ".join(name[:40] for name in header[:12])
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {found[:600]}")
    if "quality" not in by_lower and "opcquality" not in by_lower:
        raise FileRejected("header has neither a Quality nor an OPCQuality column")
    if len(set(n.lower() for n in header)) != len(header):
        raise FileRejected("header names a column twice")
    # Give the columns we know their canonical names; positional placeholders for the rest.
    canonical = {name.lower(): name for name in REQUIRED + OPTIONAL}
    column_names = [canonical.get(name.lower(), f"_extra_{i}") for i, name in enumerate(header)]

    rules = RowRules(
        timezone=timezone,
        time_formats=ISO_TIME_FORMATS,
        text_values=False,  # text belongs in vValue; text in Value is not a number
        tag_label="TagName",
        time_label="DateTime",
        value_label="Value",
    )
    finisher = RowFinisher(rules)
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(
                stream, column_names, encoding=encoding, delimiter=delimiter, block_size=block_size
            ):
                staged, raw_of = _stage(finisher, text)
                batch = finisher.finish(staged, raw_of)
                if text.invalid:
                    batch = ParsedBatch(
                        points=batch.points,
                        rejects=pa.concat_tables([batch.rejects, invalid_rows_table(text.invalid)]),
                    )
                yield batch
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()


def _stage(finisher: RowFinisher, text: TextBatch) -> tuple[pa.Table, object]:
    """One text batch as the staged rows `RowFinisher.finish` takes (times parsed by the shared rules).

    Also returns how to build the raw text (the fields joined by commas) of the rows that are rejected.
    """
    table = text.table
    n = table.num_rows
    for name in OPTIONAL:
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * n, pa.string()))
    times = finisher.parse_times(table["DateTime"].combine_chunks())
    table = table.append_column("row_id", pa.array(np.arange(n, dtype=np.int64)))
    table = table.append_column("source_line", text.lines)
    table = table.append_column("ts_failed", times["ts_reason"].is_valid())
    # trim() in the SQL removes spaces only, so the raw and the trimmed tag hold the same control characters
    table = table.append_column("tag_control", has_control_characters(table["TagName"]))
    con = finisher.con
    con.register("batch", table)
    try:
        staged = con.sql(_STAGE_SQL).to_arrow_table()
    finally:
        con.unregister("batch")
    for name in ("local_ts", "utc_ts", "ts_reason"):
        staged = staged.append_column(name, times[name])
    fields = [table[name].combine_chunks() for name in RAW_FIELDS]

    def raw_of(mask: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(*[f.filter(mask) for f in fields], ",", null_handling="skip")

    return staged, raw_of
