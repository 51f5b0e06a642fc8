"""Parquet dumps, long (tag, ts, value [, quality]) or wide (ts + one column per channel).

Layout `auto` (default) is long when the file has the tag and value columns, else wide. Column names
are options. The time column may be a timestamp with a time zone (that instant), a naive timestamp
(local to the source), text (ISO 8601, or the source's timestamp_format alone, as in the CSV formats)
or an epoch number (epoch_unit). Every time passes the plausibility check of `rows.py`. Values: numbers
(booleans as 1/0); text in a long file is a text point. Quality: text (good/uncertain/bad, OPC names),
OPC codes, or booleans (true good).

The file is read by record batches (row group by row group). A compressed Parquet file (`.gz`, or a
zip member) cannot be read in place and is read into memory up to `max_in_memory_mb`. source_line is
the record number in the file (1-based). In a wide file every non-null cell is one input row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assets.plant.config import Source
from assets.storage.schemas import UTC_TS

from .csv_rows import unpivot_wide
from .csv_stream import FileRejected
from .parsed import ParsedBatch
from .quality import map_text, opc_quality
from .rows import RowFinisher, RowRules, source_times
from .sensor_jsonl import message_quality

BATCH_ROWS = 65_536


def _open(stream_opener, limit: int) -> tuple[pq.ParquetFile, pa.NativeFile]:
    stream = stream_opener()
    try:
        if isinstance(stream, pa.PythonFile) or not stream.seekable():
            data = stream.read(limit + 1)
            stream.close()
            if len(data) > limit:
                raise FileRejected(
                    f"a compressed Parquet file is read into memory and this one is larger than "
                    f"{limit // (1 << 20)} MB (option max_in_memory_mb); land it uncompressed"
                )
            stream = pa.BufferReader(data)
        return pq.ParquetFile(stream), stream
    except (pa.ArrowInvalid, OSError) as exc:
        stream.close()
        raise FileRejected(f"not a readable Parquet file: {exc}") from None


def _column(schema: pa.Schema, name: str | None) -> str | None:
    if not name:
        return None
    lower = {n.lower(): n for n in schema.names}
    return lower.get(name.lower())


def _times(finisher: RowFinisher, column: pa.Array) -> pa.Table:
    """local_ts / utc_ts / ts_reason for a time column of any supported type."""
    n = len(column)
    typ = column.type
    if pa.types.is_timestamp(typ) and typ.tz is not None:
        utc = column.cast(UTC_TS)
        reason = pc.if_else(pc.is_null(utc), pa.scalar("time is empty"), pa.scalar(None, pa.string()))
        return finisher.check_times(pa.nulls(n, pa.timestamp("us")), utc, reason)
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        local = column.cast(pa.timestamp("us"))
        reason = pc.if_else(pc.is_null(local), pa.scalar("time is empty"), pa.scalar(None, pa.string()))
        return finisher.check_times(local, pa.nulls(n, UTC_TS), reason)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return finisher.parse_times(ts_num=column.cast(pa.float64()))
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return finisher.parse_times(ts_text=column.cast(pa.string()))
    raise FileRejected(f"the time column has type {typ}; expected a timestamp, text or an epoch number")


def _quality_text(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if value.strip().replace(".", "", 1).isdigit():
        return opc_quality(value, "quality")
    if value.lower() in ("true", "false"):
        return ("good" if value.lower() == "true" else "bad"), None
    low = value.lower()
    if low.startswith("good"):
        return "good", None
    return message_quality(value, "quality")


def _as_text(column: pa.Array) -> pa.Array:
    return column.cast(pa.string()) if not pa.types.is_timestamp(column.type) else pc.strftime(column)


def read_sensor_parquet(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a long or wide Parquet dump by record batches."""
    parquet, handle = _open(stream_opener, int(options["max_in_memory_mb"] * (1 << 20)))
    try:
        schema = parquet.schema_arrow
        ts_name = _column(schema, options["timestamp_column"])
        if ts_name is None:
            raise FileRejected(f"no time column {options['timestamp_column']}; found {', '.join(schema.names[:12])}")
        tag_name = _column(schema, options["tag_column"])
        value_name = _column(schema, options["value_column"])
        layout = options["layout"]
        if layout == "auto":
            layout = "long" if tag_name and value_name else "wide"
        finisher = RowFinisher(
            RowRules(
                timezone=source.timezone, epoch_unit=options["epoch_unit"], time_label=ts_name, **source_times(options)
            )
        )
        if layout == "long":
            if not tag_name or not value_name:
                raise FileRejected(
                    f"a long Parquet file needs the columns {options['tag_column']} and {options['value_column']}; "
                    f"found {', '.join(schema.names[:12])}"
                )
            batches = _long(
                parquet, finisher, ts_name, tag_name, value_name, _column(schema, options["quality_column"])
            )
        else:
            channels = _channels(schema, ts_name, options)
            batches = _wide(parquet, finisher, ts_name, channels, options["tag_prefix"])
        yield from batches
    finally:
        handle.close()


def _channels(schema: pa.Schema, ts_name: str, options: dict) -> list[str]:
    if options["channels"] is not None:
        picked = [_column(schema, c) for c in options["channels"]]
        missing = [c for c, p in zip(options["channels"], picked, strict=True) if p is None]
        if missing:
            raise FileRejected(f"no channel column(s) {', '.join(missing)}; found {', '.join(schema.names[:12])}")
        return picked
    skip = {s.lower() for s in options["skip_columns"]}
    picked = [n for n in schema.names if n != ts_name and n.lower() not in skip]
    for name in picked:
        typ = schema.field(name).type
        if not (
            pa.types.is_integer(typ)
            or pa.types.is_floating(typ)
            or pa.types.is_boolean(typ)
            or pa.types.is_string(typ)
            or pa.types.is_decimal(typ)
        ):
            raise FileRejected(f"channel column {name} has type {typ}; list the channels to read in options.channels")
    if not picked:
        raise FileRejected("no channel column besides the time column")
    return picked


def _long(parquet, finisher, ts_name, tag_name, value_name, quality_name) -> Iterator[ParsedBatch]:
    columns = [c for c in (tag_name, ts_name, value_name, quality_name) if c]
    first = 1
    try:
        for record in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns, use_threads=False):
            n = record.num_rows
            table = pa.Table.from_batches([record]).combine_chunks()
            times = _times(finisher, table[ts_name].combine_chunks())
            value = table[value_name].combine_chunks()
            staged = {
                "source_line": pa.array(range(first, first + n), pa.int64()),
                "tag": table[tag_name].combine_chunks().cast(pa.string()),
                **{name: times[name] for name in times.column_names},
            }
            if pa.types.is_string(value.type) or pa.types.is_large_string(value.type):
                staged["value_str"] = value.cast(pa.string())
            else:
                staged["value_num"] = value.cast(pa.float64())
            if quality_name:
                quality, reason = map_text(_as_text(table[quality_name].combine_chunks()), _quality_text)
                staged["quality"], staged["reason"] = quality, reason
            staged["raw"] = pc.binary_join_element_wise(
                *[_as_text(table[c].combine_chunks()) for c in columns],
                ",",
                null_handling="replace",
                null_replacement="",
            )
            first += n
            yield finisher.finish(pa.table(staged))
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()


def _wide(parquet, finisher, ts_name, channels, prefix) -> Iterator[ParsedBatch]:
    first = 1
    try:
        for record in parquet.iter_batches(batch_size=BATCH_ROWS, columns=[ts_name, *channels], use_threads=False):
            n = record.num_rows
            table = pa.Table.from_batches([record]).combine_chunks()
            ts = table[ts_name].combine_chunks()
            times = _times(finisher, ts)
            cells = []
            for name in channels:
                column = table[name].combine_chunks()
                if pa.types.is_boolean(column.type) or pa.types.is_decimal(column.type):
                    column = column.cast(pa.float64())
                cells.append((prefix + name, column))
            lines = pa.array(range(first, first + n), pa.int64())
            staged = unpivot_wide(finisher, lines, times, cells, _as_text(ts))
            first += n
            batch = finisher.finish(staged)
            batch.lines = n  # a row holds a value per channel, or none
            yield batch
        tail = finisher.flush()
        if tail is not None:
            tail.lines = 0  # rows held back for the repeated hour: their rows were counted when read
            yield tail
    finally:
        finisher.close()
