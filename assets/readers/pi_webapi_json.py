"""PI Web API recorded-values responses (streams/{webId}/recorded, streamsets/recorded).

`{"Items": [{"Name": .., "Path": .., "Items": [{"Timestamp": "2026-03-02T05:00:00Z", "Value": 12.3,
"UnitsAbbreviation": "kW", "Good": true, "Questionable": false, "Substituted": false}, ...]}]}`

The tag is the stream's Name (option tag_field: Path for the full path). Value: a number; or a
digital state `{"Name": "Running", "Value": 1, "IsSystem": false}` (a good text point with the state
name); a system state (`IsSystem: true`, e.g. `I/O Timeout`) is a bad point with the state name.
Quality: Good false -> bad; Questionable or Substituted -> uncertain; otherwise good.
Timestamps are ISO 8601 (PI Web API writes UTC with `Z`).

The response is one JSON document, read whole but only up to `max_json_mb` (default 256 MB); a larger
file is refused. source_line is the running number of the value item in the file (1-based).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from assets.plant.config import Source
from assets.plant.source_options import DEFAULT_MAX_JSON_DEPTH

from .csv_stream import FileRejected
from .json_depth import depth_reason, json_deeper_than
from .parsed import ParsedBatch
from .rows import RowFinisher, RowRules, source_times, staged_table

BATCH_ITEMS = 50_000


def _load(stream_opener, limit: int, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    with stream_opener() as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileRejected(
            f"the JSON document is larger than {limit // (1 << 20)} MB (option max_json_mb); "
            "export it in smaller time ranges"
        )
    if not data.strip():
        raise FileRejected("the file is empty")
    try:
        text = data.decode("utf-8-sig")
        if json_deeper_than(text, max_depth):
            raise FileRejected(depth_reason(max_depth))
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise FileRejected(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _streams(document: Any) -> list[dict]:
    if not isinstance(document, dict) or not isinstance(document.get("Items"), list):
        raise FileRejected('not a PI Web API response: expected an object with an "Items" list')
    streams = document["Items"]
    if streams and all(isinstance(s, dict) and "Timestamp" in s for s in streams):
        raise FileRejected(
            "a single-stream response (values without Name/Path); export with streamsets/recorded so each "
            "stream carries its name"
        )
    return streams


def _flag(item: dict, key: str, default: bool) -> bool:
    value = item.get(key, default)
    return value if isinstance(value, bool) else default


def read_pi_webapi_json(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a PI Web API recorded-values response into batches of points and rejects."""
    document = _load(stream_opener, int(options["max_json_mb"] * (1 << 20)), int(options["max_json_depth"]))
    streams = _streams(document)
    tag_field = options["tag_field"]
    finisher = RowFinisher(
        RowRules(timezone=source.timezone, time_label="Timestamp", value_label="Value", **source_times(options))
    )
    keys = ("source_line", "tag", "ts_text", "value_num", "value_text", "value_str", "quality", "reason", "raw")
    cols: dict[str, list] = {k: [] for k in keys}

    def add(*values) -> None:
        for key, value in zip(keys, values, strict=True):
            cols[key].append(value)

    units: dict[str, str] = {}

    def flush_rows() -> ParsedBatch:
        batch = finisher.finish(staged_table(cols))
        for values in cols.values():
            values.clear()
        batch.units = dict(units)
        return batch

    number = 0
    try:
        for position, stream in enumerate(streams, start=1):
            if not isinstance(stream, dict) or not isinstance(stream.get("Items"), list):
                number += 1
                add(number, None, None, None, None, None, None, f"stream {position} has no Items list", None)
                continue
            tag = stream.get(tag_field)
            tag = tag.strip() if isinstance(tag, str) else None
            for item in stream["Items"]:
                number += 1
                raw = json.dumps(item)[:10_000] if not isinstance(item, str) else item[:10_000]
                if not isinstance(item, dict):
                    add(number, tag, None, None, None, None, None, "value item is not a JSON object", raw)
                    continue
                unit = item.get("UnitsAbbreviation")
                if tag and isinstance(unit, str) and unit.strip():
                    units[tag] = unit.strip()[:32]
                ts = item.get("Timestamp")
                ts_text = ts if isinstance(ts, str) else None
                reason = None if ts_text is not None else "Timestamp is missing"
                quality = "good"
                if not _flag(item, "Good", True):
                    quality = "bad"
                elif _flag(item, "Questionable", False) or _flag(item, "Substituted", False):
                    quality = "uncertain"
                value = item.get("Value")
                num = text = other = None
                if isinstance(value, dict):
                    name = value.get("Name")
                    text = str(name) if name is not None else None
                    if value.get("IsSystem") is True:
                        quality = "bad"
                    if text is None:
                        reason = reason or "Value object has no Name"
                elif isinstance(value, bool):
                    num = 1.0 if value else 0.0
                elif isinstance(value, (int, float)):
                    try:
                        num = float(value)
                    except OverflowError:
                        num = float("inf")
                elif isinstance(value, str):
                    other = value
                elif value is not None:
                    reason = reason or "Value is neither a number, a text nor a state"
                add(number, tag, ts_text, num, text, other, quality, reason, raw)
                if len(cols["source_line"]) >= BATCH_ITEMS:
                    yield flush_rows()
        if cols["source_line"]:
            yield flush_rows()
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()
