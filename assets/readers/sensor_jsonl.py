"""MQTT gateway dumps: one JSON message per line.

`{"ts": "2026-03-02T05:00:00.123Z", "device": "L1-FILLER-VIB", "metrics": {"vib_rms_mm_s": 2.31}}`
gives the point `L1-FILLER-VIB.vib_rms_mm_s`. Field names (ts_field, device_field, metrics_field,
quality_field) and the separator are options. `ts` is ISO text (an offset is honoured, a naive time is
local to the source; option timestamp_format reads other text) or an epoch number (epoch_unit, default
auto: below 1e11 seconds, below 1e14 milliseconds, else microseconds). The optional message quality
(good/uncertain/bad, OPC codes, or true/false) applies to every metric of the message.

Input rows: every metric of a message is one row (a point or a reject, with the line number). A line
that is not JSON, is not an object, lacks the device or time, or has no metrics, is one reject. Blank
lines are skipped. Metric values: numbers (true/false as 1/0), numeric text, other text (a good text
point), null (a reject unless the message quality is bad); an object or a list is rejected.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from assets.plant.config import Source
from assets.plant.source_options import DEFAULT_MAX_JSON_DEPTH

from .csv_stream import FileRejected
from .json_depth import depth_reason, json_deeper_than
from .parsed import ParsedBatch
from .quality import opc_quality
from .rows import RowFinisher, RowRules, source_times, staged_table

BATCH_LINES = 20_000


def message_quality(value: Any, label: str) -> tuple[str | None, str | None]:
    """A message-level quality to good/uncertain/bad (None: not given)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("good" if value else "bad"), None
    if isinstance(value, (int, float)):
        return opc_quality(str(value), label)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("good", "ok", "valid"):
            return "good", None
        if low.startswith(("uncertain", "questionable", "doubtful", "stale")):
            return "uncertain", None
        if low.startswith(("bad", "invalid", "error", "fault")):
            return "bad", None
        return None, f"{label} not recognised: {value[:20]}"
    return None, f"{label} not recognised: {str(value)[:20]}"


def read_sensor_jsonl(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a JSON-lines dump, one message per line, into batches of points and rejects."""
    ts_field, device_field = options["ts_field"], options["device_field"]
    metrics_field, quality_field = options["metrics_field"], options["quality_field"]
    separator, max_line = options["tag_separator"], int(options["max_line_bytes"])
    max_depth = int(options["max_json_depth"])
    finisher = RowFinisher(
        RowRules(
            timezone=source.timezone, epoch_unit=options["epoch_unit"], time_label=ts_field, **source_times(options)
        )
    )
    cols: dict[str, list] = {k: [] for k in ("source_line", "tag", "ts_text", "ts_num", "value_num", "value_str")}
    cols.update({"quality": [], "reason": [], "raw": []})

    def add(line, tag, ts_text, ts_num, num, text, quality, reason, raw):
        for key, value in zip(cols, (line, tag, ts_text, ts_num, num, text, quality, reason, raw), strict=True):
            cols[key].append(value)

    read = [0]  # non-blank lines read since the last batch: a message holds a value per metric, or none

    def flush_rows() -> ParsedBatch:
        batch = finisher.finish(staged_table(cols))
        for values in cols.values():
            values.clear()
        batch.lines, read[0] = read[0], 0
        return batch

    try:
        with stream_opener() as stream:
            text = io.TextIOWrapper(stream, encoding=options["encoding"], errors="strict", newline="")
            number = 0
            lines_in_batch = 0
            while True:
                try:
                    line = text.readline(max_line + 1)
                except UnicodeDecodeError as exc:
                    raise FileRejected(f"line {number + 1} is not {options['encoding']} text: {exc.reason}") from None
                if not line:
                    break
                number += 1
                if len(line) > max_line and not line.endswith("\n"):
                    read[0] += 1
                    while True:  # skip the rest of the overlong line
                        rest = text.readline(max_line)
                        if not rest or rest.endswith("\n"):
                            break
                    add(
                        number,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        f"line is longer than {max_line} characters",
                        line[:200],
                    )
                    continue
                line = line.rstrip("\r\n")
                if number == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    continue
                read[0] += 1
                _message_rows(
                    line, number, add, ts_field, device_field, metrics_field, quality_field, separator, max_depth
                )
                lines_in_batch += 1
                if lines_in_batch >= BATCH_LINES:
                    yield flush_rows()
                    lines_in_batch = 0
            if cols["source_line"]:
                yield flush_rows()
        tail = finisher.flush()
        if tail is not None:
            tail.lines = 0  # rows held back for the repeated hour: their lines were counted when read
            yield tail
    finally:
        finisher.close()


def _message_rows(
    line, number, add, ts_field, device_field, metrics_field, quality_field, separator, max_depth=DEFAULT_MAX_JSON_DEPTH
) -> None:
    raw = line[:10_000]
    if json_deeper_than(line, max_depth):
        add(number, None, None, None, None, None, None, depth_reason(max_depth), raw)
        return
    try:
        message = json.loads(line)
    except json.JSONDecodeError as exc:
        add(number, None, None, None, None, None, None, f"not JSON: {exc.msg} at column {exc.colno}", raw)
        return
    if not isinstance(message, dict):
        add(number, None, None, None, None, None, None, "message is not a JSON object", raw)
        return
    device, ts, metrics = message.get(device_field), message.get(ts_field), message.get(metrics_field)
    problem = None
    if not isinstance(device, str) or not device.strip():
        problem = f"message has no {device_field}"
    elif ts is None or isinstance(ts, (bool, dict, list)):
        problem = f"message has no usable {ts_field}"
    elif not isinstance(metrics, dict) or not metrics:
        problem = f"message has no {metrics_field} object with values"
    if problem:
        add(number, None, None, None, None, None, None, problem, raw)
        return
    quality, q_reason = message_quality(message.get(quality_field), quality_field)
    ts_text = ts if isinstance(ts, str) else None
    ts_num = float(ts) if isinstance(ts, (int, float)) else None
    for name, value in metrics.items():
        tag = f"{device.strip()}{separator}{name}"
        cell = f"{name}={json.dumps(value)[:200]}"
        reason = q_reason
        num = text = None
        if isinstance(value, bool):
            num = 1.0 if value else 0.0
        elif isinstance(value, (int, float)):
            try:
                num = float(value)
            except OverflowError:  # an integer too large for a double
                num = float("inf") if value > 0 else float("-inf")
        elif isinstance(value, str):
            text = value
        elif value is not None:
            reason = reason or f"metric {name} is not a number or text"
        add(number, tag, ts_text, ts_num, num, text, quality, reason, f"{raw[:2000]} [{cell}]")
