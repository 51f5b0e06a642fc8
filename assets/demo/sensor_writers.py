"""The demo's writers of the sensor formats: JSON lines, CSV and Parquet of (timestamp, tag, value, quality)
rows, as data loggers and small gateways export them. The other writers and the registry are in formats.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from assets.demo.point_text import (
    Point,
    WriteContext,
    cell_text,
    csv_bytes,
    epoch_number,
    iso_local,
    iso_utc,
    shown,
    time_formatter,
    times_text,
    wide_rows,
)


def sensor_jsonl(points: list[Point], ctx: WriteContext) -> bytes:
    """MQTT gateway dump: one message per device, instant and quality, with the device's metrics."""
    opts = ctx.options
    sep = opts["tag_separator"]
    if not sep:
        raise ValueError("sensor_jsonl needs a tag_separator to split a tag into device and metric")
    messages: list[dict] = []
    open_messages: dict[tuple[str, str], dict] = {}
    current: dt.datetime | None = None
    for p in points:
        device, found, metric = p.tag.rpartition(sep)
        if not found or not device.strip() or device != device.strip() or not metric:
            ctx.refuse(p, f"the tag must be DEVICE{sep}metric")
        if p.ts != current:
            current, open_messages = p.ts, {}
        message = open_messages.get((device, p.quality))
        if message is None or metric in message[opts["metrics_field"]]:
            stamp = epoch_number(p.ts, opts["epoch_unit"], shown(p)) if ctx.epoch else iso_utc(p.ts)
            message = {opts["ts_field"]: stamp, opts["device_field"]: device, opts["metrics_field"]: {}}
            if p.quality != "good":
                message[opts["quality_field"]] = p.quality
            open_messages[(device, p.quality)] = message
            messages.append(message)
        value: Any = p.text if p.text is not None else p.value
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)
        message[opts["metrics_field"]][metric] = value
    text = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in messages)
    return text.encode(opts["encoding"])


def sensor_csv(points: list[Point], ctx: WriteContext) -> bytes:
    """Data-logger CSV, wide: a local timestamp column, then one column per channel."""
    opts = ctx.options
    columns, times, cells = wide_rows(points, ctx, opts["tag_prefix"])
    if opts["interval_label"] == "end":
        if opts["interval_minutes"] is None:
            raise ValueError("sensor_csv with interval_label end: set interval_minutes so the reader can shift back")
        step = dt.timedelta(minutes=opts["interval_minutes"])
        times = [t + step for t in times]
    local = time_formatter(opts["timestamp_format"], iso_local)
    if opts["midnight_label"]:
        local = midnight_labels(local, opts["timestamp_format"])
    stamps = times_text(times, [list(c) for c in cells], ctx, local)
    comma = opts["decimal_comma"]
    rows = [[stamp, *(cell_text(row.get(c), comma) for c in columns)] for stamp, row in zip(stamps, cells, strict=True)]
    return csv_bytes([opts["timestamp_column"] or "timestamp", *columns], rows, opts)


def midnight_labels(local: Callable[[dt.datetime], str], fmt: str | None) -> Callable[[dt.datetime], str]:
    """A logger that labels the reading ending at midnight with the date that ends (`01/01 23:45`, `01/01 00:00`)."""
    previous: list[dt.datetime] = []

    def text(naive: dt.datetime) -> str:
        last = previous[-1] if previous else None
        previous.append(naive)
        day_before = naive - dt.timedelta(days=1)
        if naive.time() == dt.time(0) and last is not None and last.date() == day_before.date() and last > day_before:
            return day_before.strftime(fmt) if fmt else iso_local(day_before)
        return local(naive)

    return text


def sensor_parquet(points: list[Point], ctx: WriteContext) -> bytes:
    """Parquet dump, long: tag, ts (UTC timestamp, or epoch numbers), value, quality."""
    opts = ctx.options
    if opts["layout"] == "wide":
        raise ValueError("the sensor_parquet writer makes long files; use layout long or auto")
    if ctx.epoch:
        ts = pa.array([epoch_number(p.ts, opts["epoch_unit"], shown(p)) for p in points], pa.int64())
    else:
        ts = pa.array([p.ts for p in points], pa.timestamp("us", tz="UTC"))
    if any(p.text is not None for p in points):
        value = pa.array([p.text if p.text is not None else cell_text(p) or None for p in points], pa.string())
    else:
        value = pa.array([p.value for p in points], pa.float64())
    table = pa.table(
        {
            opts["tag_column"]: pa.array([p.tag for p in points], pa.string()),
            opts["timestamp_column"]: ts,
            opts["value_column"]: value,
            opts["quality_column"]: pa.array([p.quality for p in points], pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


# One writer per format of the registry (assets/readers/registry.py FORMATS); the check below fails at import
# naming a format without one. The source options: a European data logger writes `;` and a decimal comma;
# Proficy writes month-first dates, which no reader assumes (3/2 could be 3 February), so its source names
