"""Work orders exported from an MES/ERP (format `orders_csv`): one order per line, each landing as one point.

Header `order_id,product,line,machine,planned_qty,planned_start,planned_end,actual_start,actual_end`
(names case-insensitive, in any order; the actual_end column may be left out). A valid order is the
point tag `order:<order_id>`, ts planned_start (UTC), value planned_qty, quality good, and value_text the
order as compact JSON with sorted keys (times ISO 8601 UTC `2026-03-02T06:00:00Z`, null where empty;
machine null = every OEE machine of the line), so that the ledger, the quarantine and a later export
superseding an earlier one apply to orders as to any point.

Times follow the row rules (readers/rows.py): an ISO text with an offset is that instant, other text is
wall clock of the source's time zone read by `timestamp_format` alone, else as ISO 8601 only; out of range,
the daylight-saving gap and the repeated hour (an order's row cannot tell which pass) are rejected.

An order is quarantined, first reason wins, for an empty or bad field, a product not in the catalog, a line
or a machine with OEE the plant does not have, planned_end not after planned_start, actual_end without
actual_start or before it, an order id listed again in the file, and a window overlapping an earlier
order of the file on the same machine: the later line is quarantined, naming the earlier order (the
window is actual_start..coalesce(actual_end, planned_end) where actual_start is set, else planned). The
overlap is a check across the file's lines, so the file is read whole: an orders export is a few
thousand lines, not a historian's millions.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.config import OrderTargets, Source
from assets.plant.timestamps import ambiguous_reason, nonexistent_reason, wall_clock_candidates

from .csv_rows import find_column, positional_names, raw_lines
from .csv_stream import FileRejected, InvalidRow, read_head_lines, split_line, stream_text_batches
from .parsed import POINT_COLUMNS, REJECT_COLUMNS, ParsedBatch, invalid_rows_table
from .rows import RowFinisher, RowRules, has_control_characters, source_times

ORDER_TAG_PREFIX = "order:"
TEXT_COLUMNS = ("order_id", "product", "line", "machine", "planned_qty")
TIME_COLUMNS = ("planned_start", "planned_end", "actual_start", "actual_end")
OPTIONAL_COLUMNS = ("actual_end",)
REQUIRED_TIMES = ("planned_start", "planned_end")


def read_orders_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse an orders export into one batch: a point per valid order, a reject per other line."""
    targets = source.order_targets
    if targets is None:
        raise FileRejected("an orders export is checked against the plant's products and lines: read the plant YAML")
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        lines = read_head_lines(head, encoding)
    header = split_line(lines[0], delimiter) if lines else []
    found = {name: find_column(header, name, (), name) for name in (*TEXT_COLUMNS, *TIME_COLUMNS)}
    missing = [name for name, index in found.items() if index is None and name not in OPTIONAL_COLUMNS]
    if missing:
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {', '.join(header[:12])}")

    names = positional_names(header)
    line_numbers: list[pa.Array] = []
    fields: dict[str, list[pa.Array]] = {name: [] for name in found if found[name] is not None}
    raws: list[pa.Array] = []
    invalid: list[InvalidRow] = []
    with stream_opener() as stream:
        for text in stream_text_batches(stream, names, encoding=encoding, delimiter=delimiter):
            line_numbers.append(text.lines)
            for name in fields:
                fields[name].append(text.table[names[found[name]]].combine_chunks())
            raws.append(raw_lines(text.table, delimiter))
            invalid.extend(text.invalid)
    n = sum(len(a) for a in line_numbers)
    columns = {name: _concat(parts, n) for name, parts in fields.items()}
    for name in OPTIONAL_COLUMNS:
        columns.setdefault(name, pa.nulls(n, pa.string()))
    times = _times(columns, source, options)
    batch = _orders(_concat(line_numbers, n, pa.int64()), columns, times, _concat(raws, n), targets)
    if invalid:
        batch = ParsedBatch(points=batch.points, rejects=pa.concat_tables([batch.rejects, invalid_rows_table(invalid)]))
    yield batch


def _concat(parts: list[pa.Array], n: int, typ: pa.DataType | None = None) -> pa.Array:
    typ = typ or pa.string()
    return pa.concat_arrays([p.cast(typ) for p in parts]) if parts else pa.nulls(n, typ)


def _times(columns: dict[str, pa.Array], source: Source, options: dict) -> dict[str, list]:
    """Each time column as a list of (UTC datetime | None, reason | None), by the shared row rules."""
    rules = RowRules(timezone=source.timezone, **source_times(options))
    out: dict[str, list] = {}
    with RowFinisher(rules) as finisher:
        for name in TIME_COLUMNS:
            # the reasons name the column (`planned_end is empty`)
            finisher.rules = replace(rules, time_label=name)
            parsed = finisher.parse_times(columns[name])
            local = parsed["local_ts"].combine_chunks()
            summer, _winter, nonexistent, ambiguous = wall_clock_candidates(local, source.timezone)
            utc = pc.coalesce(parsed["utc_ts"].combine_chunks(), summer).to_pylist()
            naive = pc.and_(pc.is_valid(local), pc.is_null(parsed["utc_ts"])).to_pylist()
            values = []
            for i, reason in enumerate(parsed["ts_reason"].to_pylist()):
                if reason is None and naive[i] and nonexistent[i].as_py():
                    reason = nonexistent_reason(local[i].as_py(), source.timezone)
                elif reason is None and naive[i] and ambiguous[i].as_py():
                    reason = ambiguous_reason(local[i].as_py(), source.timezone)
                values.append((None if reason else utc[i], reason))
            out[name] = values
    return out


def _orders(
    line_numbers: pa.Array, columns: dict[str, pa.Array], times: dict[str, list], raw: pa.Array, targets: OrderTargets
) -> ParsedBatch:
    text = {name: [(v or "").strip() for v in columns[name].to_pylist()] for name in TEXT_COLUMNS}
    control = has_control_characters(columns["order_id"]).to_pylist()
    lines = line_numbers.to_pylist()
    points: list[dict] = []
    rejects: list[tuple[int, str]] = []
    seen: dict[str, int] = {}  # order id -> line of its first appearance in the file
    windows: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime, str]]] = {}
    for i, line in enumerate(lines):
        row = {name: text[name][i] for name in TEXT_COLUMNS}
        row_times = {name: times[name][i] for name in TIME_COLUMNS}
        reason, qty = _row_reason(row, row_times, bool(control[i]), targets)
        if reason is None and row["order_id"] in seen:
            reason = f"order {row['order_id']} is listed again (first on line {seen[row['order_id']]})"
        t = {name: row_times[name][0] for name in TIME_COLUMNS}
        machines = [row["machine"]] if row["machine"] else list(targets.lines.get(row["line"], ()))
        if reason is None:
            start, end = (t["actual_start"], t["actual_end"] or t["planned_end"])
            if start is None:
                start, end = t["planned_start"], t["planned_end"]
            reason = _overlap(windows, row["line"], machines, start, end)
        if reason is not None:
            rejects.append((line, reason))
            continue
        seen[row["order_id"]] = line
        for machine in machines:
            windows.setdefault((row["line"], machine), []).append((start, end, row["order_id"]))
        order = {
            "order_id": row["order_id"],
            "product": row["product"],
            "line": row["line"],
            "machine": row["machine"] or None,
            "planned_qty": int(qty) if qty.is_integer() else qty,
            **{name: _iso(t[name]) for name in TIME_COLUMNS},
        }
        points.append(
            {
                "tag": ORDER_TAG_PREFIX + row["order_id"],
                "ts": t["planned_start"],
                "value": qty,
                "value_text": json.dumps(order, sort_keys=True, separators=(",", ":")),
                "quality": "good",
                "source_line": line,
            }
        )
    bad_lines = pa.array([line for line, _ in rejects], pa.int64())
    raw_of = dict(zip(lines, raw.to_pylist(), strict=True))
    return ParsedBatch(
        points=pa.Table.from_pylist(points, schema=POINT_COLUMNS),
        rejects=pa.table(
            {
                "line": bad_lines,
                "reason": pa.array([reason for _, reason in rejects], pa.string()),
                "raw": pa.array([raw_of[line] for line, _ in rejects], pa.string()),
            },
            schema=REJECT_COLUMNS,
        ),
    )


def _row_reason(
    row: dict[str, str], times: dict[str, tuple], control: bool, targets: OrderTargets
) -> tuple[str | None, float]:
    """The first reason the order cannot land (None if it can), and its planned quantity."""
    order_id, product, line, machine = row["order_id"], row["product"], row["line"], row["machine"]
    tag = ORDER_TAG_PREFIX + order_id
    if not order_id:
        return "order_id is empty", 0.0
    if len(tag) > 256:
        return f"order_id is longer than {256 - len(ORDER_TAG_PREFIX)} characters", 0.0
    if control:
        return "order_id contains control characters", 0.0
    if not product:
        return "product is empty", 0.0
    if product not in targets.products:
        return f"product '{product}' is not in the products catalog", 0.0
    if not line:
        return "line is empty", 0.0
    if line not in targets.lines:
        return f"line '{line}' is not a line of the plant ({', '.join(targets.lines)})", 0.0
    if machine and machine not in targets.lines[line]:
        known = ", ".join(targets.lines[line]) or "none"
        return f"machine '{machine}' is not a machine with OEE on line {line} ({known})", 0.0
    qty_text = row["planned_qty"]
    if not qty_text:
        return "planned_qty is empty", 0.0
    try:
        qty = float(qty_text)
    except ValueError:
        qty = math.nan
    if not math.isfinite(qty) or qty < 0:
        return f"planned_qty is not a non-negative number: {qty_text[:40]}", 0.0
    for name in TIME_COLUMNS:
        value, reason = times[name]
        # an empty actual time is an order not yet started or not yet done
        if reason is not None and (name in REQUIRED_TIMES or not reason.endswith(" is empty")):
            return reason, qty
    t = {name: value for name, (value, _) in times.items()}
    if t["planned_end"] <= t["planned_start"]:
        return f"planned_end {_iso(t['planned_end'])} is not after planned_start {_iso(t['planned_start'])}", qty
    if t["actual_end"] is not None and t["actual_start"] is None:
        return "actual_end is set but actual_start is empty", qty
    if t["actual_end"] is not None and t["actual_end"] < t["actual_start"]:
        return f"actual_end {_iso(t['actual_end'])} is before actual_start {_iso(t['actual_start'])}", qty
    return None, qty


def _overlap(
    windows: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime, str]]],
    line: str,
    machines: list[str],
    start: dt.datetime,
    end: dt.datetime,
) -> str | None:
    """The earlier order of the file whose window [start, end) meets this one on one of its machines."""
    for machine in machines:
        for other_start, other_end, other_id in windows.get((line, machine), ()):
            if start < other_end and other_start < end:
                return f"overlaps order {other_id} on {line}/{machine}"
    return None


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"
