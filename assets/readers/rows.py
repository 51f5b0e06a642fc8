"""The rules every format shares, applied in one place: from a reader's columns to points and rejects.

A reader only knows where its tag, time, value and quality are. It hands over a table of "staged" rows
and `RowFinisher` types them, checks them, converts times to UTC and decides, row by row, point or
reject with a reason:

* tag: empty, longer than 256 characters or with control characters -> reject;
* time: never guessed (see core/timestamps.py). ISO 8601 text with an explicit offset (`Z`, `+01:00`) is
  that instant; an epoch number (when the format allows it) is UTC; other text is wall-clock time in the
  source's time zone, read by the source's `timestamp_format` alone, else only as ISO 8601 (or the
  format's own forms, e.g. PI's `02-Mar-26 06:00:00`): anything else is rejected with a reason that
  names the format, or asks for one. A time outside the source's plausible range, or an offset beyond
  ±14:00, is rejected as `timestamp out of range`. The daylight-saving gap and the repeated hour are
  decided as core/timestamps.py describes;
* value: a finite number -> `value`; NaN/Inf/overflow -> "Value is not finite: ..."; text that is a
  system state of the historian (`bad_states`) -> a bad point with the text; other text -> a text point
  where the format has text values, else "Value is not a number: ..."; no value -> a bad point if the
  row says so, else a reject.

Staged columns (all but source_line and tag optional): source_line, tag, raw, ts_text, ts_num, or the
already parsed local_ts / utc_ts / ts_reason (from `parse_times` or `check_times`, which apply the range),
value_num, value_str, value_text, quality ('good' | 'uncertain' | 'bad', null for good) and reason (the
reader's own reject reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.timestamps import (
    HAS_OFFSET_SQL,
    ISO_FORM_SQL,
    RANGE_CHECK_SQL,
    RANGE_REASON_SQL,
    TEXT_TIME_REASON_SQL,
    TEXT_TIME_SQL,
    DeferredAmbiguity,
    TimestampBounds,
    ambiguous_reason,
    nonexistent_reason,
    time_params,
    wall_clock_candidates,
)
from assets.storage.schemas import UTC_TS

from .csv_stream import stream_text_batches
from .parsed import POINT_COLUMNS, REJECT_COLUMNS, ParsedBatch, invalid_rows_table

_TIMES_SQL = f"""
with src as (
    select row_id, trim(ts_text) as t, ts_num as n from times
),
epochs as (
    select
        *,
        -- a number in the text is an epoch only where the format has epochs and no timestamp_format is set
        coalesce(n, case
            when $epoch and not $has_format and regexp_full_match(coalesce(t, ''), '-?[0-9]+(\\.[0-9]+)?')
                then try_cast(t as double)
        end) as epoch
    from src
),
scaled as (
    select
        *,
        case
            when epoch is null or isnan(epoch) or isinf(epoch) then null
            when $unit = 's' or ($unit = 'auto' and abs(epoch) < 1e11) then epoch * 1e6
            when $unit = 'ms' or ($unit = 'auto' and abs(epoch) < 1e14) then epoch * 1e3
            else epoch
        end as epoch_us
    from epochs
),
texts as (
    select row_id, epoch, epoch_us, t as shown, case when epoch is null then t end as t from scaled
),
forms as (
    select *, {ISO_FORM_SQL} from texts
),
offsets as (
    select *, {HAS_OFFSET_SQL} from forms
),
parsed as (
    select row_id, shown, t, epoch, epoch_us, iso_form, has_offset, {TEXT_TIME_SQL} from offsets
),
timed as (
    select
        row_id,
        shown,
        epoch,
        case
            when epoch_us is not null and abs(epoch_us) < 9e15 then make_timestamp(cast(round(epoch_us) as bigint))
            else utc_naive
        end as utc_naive,
        offset_s,
        local_ts,
        case
            when epoch is not null and (epoch_us is null or abs(epoch_us) >= 9e15)
                then $label || ' is not a timestamp: ' || cast(epoch as varchar)
            when epoch is not null then null
            else {TEXT_TIME_REASON_SQL}
        end as ts_reason
    from parsed
),
"""

# A time as the file gives it: its text, its epoch number, or a typed time as written.
_SHOWN_TIME = "coalesce(left(shown, 60), cast(epoch as varchar), cast(utc_naive as varchar), cast(local_ts as varchar))"

# The plausibility check of parsed times (`timed`: row_id, shown, epoch, utc_naive, offset_s, local_ts,
# ts_reason). A time out of range is nulled with its reason, so that no later step converts year 1 or 9999.
_CHECK_SQL = f"""
checked as (
    select *, ts_reason is null and {RANGE_CHECK_SQL} as out_of_range from timed
),
final as (
    select
        row_id,
        case when out_of_range then null else utc_naive end as utc_naive,
        case when out_of_range then null else local_ts end as local_ts,
        case
            when out_of_range then {RANGE_REASON_SQL.format(shown=_SHOWN_TIME)}
            else ts_reason
        end as ts_reason
    from checked
)
select * from final
"""

_ROWS_SQL = """
with src as (
    select
        *,
        nullif(trim(value_str), '') as vs
    from staged
),
numbers as (
    select
        *,
        case
            when vs is null then null
            when $decimal_comma and contains(vs, ',') then replace(replace(replace(vs, ' ', ''), '.', ''), ',', '.')
            else vs
        end as vs_number
    from src
),
typed as (
    select
        *,
        coalesce(value_num, try_cast(vs_number as double)) as num,
        value_text is null and value_num is null and vs is not null
            and try_cast(vs_number as double) is null as is_text,
        value_text is null and value_num is null and vs is not null
            and try_cast(vs_number as double) is null and list_contains($bad_states, lower(vs)) as is_bad_state
    from numbers
),
final as (
    select
        source_line,
        tag,
        local_ts,
        utc_ts,
        case when value_text is null and not is_text then num end as value,
        coalesce(value_text, case when is_text then vs end) as value_text,
        case when is_bad_state then 'bad' else coalesce(quality, 'good') end as quality,
        case
            when reason is not null then reason
            when tag is null or tag = '' then $tag_label || ' is empty'
            when length(tag) > 256 then $tag_label || ' is longer than 256 characters'
            when tag_control then $tag_label || ' contains control characters'
            when ts_reason is not null then ts_reason
            when value_text is not null then null
            when num is not null and (isnan(num) or isinf(num))
                then 'Value is not finite: ' || coalesce(vs, cast(value_num as varchar))
            when num is not null then null
            when is_bad_state then null
            when is_text and $text_values then null
            when is_text then 'Value is not a number: ' || left(vs, 40)
            when quality = 'bad' then null
            else $value_label || ' is empty'
        end as reason
    from typed
)
select * from final
"""

# The quarantine's raw text of a staged row that brings none of its own (computed for rejected rows only).
_RAW_SQL = """
select coalesce(raw, concat_ws(',', tag, ts_text, cast(ts_num as varchar), value_str, cast(value_num as varchar)))
from needed
"""

_CONTROL_CHARACTERS = "[\\x00-\\x1f\\x7f]"


def has_control_characters(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Per row: whether the text holds a control character (tested once per distinct value)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    distinct = pc.unique(values).drop_null()
    flagged = distinct.filter(pc.match_substring_regex(distinct, _CONTROL_CHARACTERS))
    return pc.is_in(values, value_set=flagged)


_STAGED_DEFAULTS = {
    "raw": pa.string(),
    "ts_text": pa.string(),
    "ts_num": pa.float64(),
    "value_num": pa.float64(),
    "value_str": pa.string(),
    "value_text": pa.string(),
    "quality": pa.string(),
    "reason": pa.string(),
}


@dataclass(frozen=True)
class RowRules:
    """How one format's rows are read: time forms, value kinds, and the names used in reasons."""

    timezone: str
    time_format: str | None = None  # the source's timestamp_format: alone it reads wall-clock texts
    native_formats: tuple[str, ...] = ()  # the format's own forms, tried after ISO 8601 when no format is set
    bounds: TimestampBounds | None = None  # None: TimestampBounds.from_options({}) when the file is opened
    epoch_unit: str | None = None  # "s" | "ms" | "us" | "auto"; None: a bare number is not a time
    text_values: bool = True
    bad_states: frozenset[str] = frozenset()  # lower case
    decimal_comma: bool = False
    tag_label: str = "tag"
    time_label: str = "timestamp"
    value_label: str = "value"


class RowFinisher:
    """Turns staged rows into `ParsedBatch`es; holds the per-file state (repeated-hour rows, DuckDB)."""

    def __init__(self, rules: RowRules) -> None:
        self.rules = rules
        self.bounds = rules.bounds or TimestampBounds.from_options({})
        self._range_params = self.bounds.sql_params(rules.timezone)
        self.resolver = DeferredAmbiguity()
        self.con = duckdb.connect(config={"threads": 1, "memory_limit": "256MB"})
        self.con.execute("SET TimeZone = 'UTC'").fetchall()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> RowFinisher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def parse_times(self, ts_text: pa.Array | None = None, ts_num: pa.Array | None = None) -> pa.Table:
        """Times as text and/or numbers to columns local_ts (naive wall clock), utc_ts and ts_reason."""
        n = len(ts_text) if ts_text is not None else len(ts_num)
        times = pa.table(
            {
                "row_id": pa.array(np.arange(n, dtype=np.int64)),
                "ts_text": ts_text if ts_text is not None else pa.nulls(n, pa.string()),
                "ts_num": (ts_num if ts_num is not None else pa.nulls(n, pa.float64())).cast(pa.float64()),
            }
        )
        rules = self.rules
        self.con.register("times", times)
        try:
            out = self.con.sql(
                _TIMES_SQL + _CHECK_SQL,
                params={
                    "epoch": rules.epoch_unit is not None,
                    "unit": rules.epoch_unit or "none",
                    **time_params(rules.time_format, rules.native_formats, rules.time_label),
                    **self._range_params,
                },
            ).to_arrow_table()
        finally:
            self.con.unregister("times")
        return self._times_table(out)

    def check_times(self, local_ts: pa.Array, utc_ts: pa.Array, ts_reason: pa.Array) -> pa.Table:
        """Typed times (a Parquet timestamp column) through the plausibility check of `parse_times`."""
        n = len(local_ts)
        timed = pa.table(
            {
                "row_id": pa.array(np.arange(n, dtype=np.int64)),
                "shown": pa.nulls(n, pa.string()),
                "epoch": pa.nulls(n, pa.float64()),
                "utc_naive": utc_ts.cast(UTC_TS).cast(pa.timestamp("us")),
                "offset_s": pa.nulls(n, pa.float64()),
                "local_ts": local_ts.cast(pa.timestamp("us")),
                "ts_reason": ts_reason.cast(pa.string()),
            }
        )
        self.con.register("timed_in", timed)
        try:
            out = self.con.sql(
                "with timed as (select * from timed_in),\n" + _CHECK_SQL, params=self._range_params
            ).to_arrow_table()
        finally:
            self.con.unregister("timed_in")
        return self._times_table(out)

    @staticmethod
    def _times_table(out: pa.Table) -> pa.Table:
        return pa.table(
            {
                "local_ts": out["local_ts"].cast(pa.timestamp("us")),
                "utc_ts": out["utc_naive"].cast(pa.timestamp("us")).cast(UTC_TS),
                "ts_reason": out["ts_reason"].cast(pa.string()),
            }
        )

    def finish(self, staged: pa.Table, raw_of=None) -> ParsedBatch:
        """Points and rejects of one batch of staged rows (rows of the repeated hour may come later).

        `raw_of(mask) -> pa.Array` gives the raw text of the rows the mask selects, in order; a reader
        passes it instead of a `raw` column so that the text is built only for the rows that need it.
        """
        staged = self._complete(staged)
        staged = staged.append_column("tag_control", has_control_characters(staged["tag"]))
        rules = self.rules
        self.con.register("staged", staged)
        try:
            rows = self.con.sql(
                _ROWS_SQL,
                params={
                    "decimal_comma": rules.decimal_comma,
                    "bad_states": sorted(rules.bad_states) or [""],
                    "text_values": rules.text_values,
                    "tag_label": rules.tag_label,
                    "value_label": rules.value_label,
                },
            ).to_arrow_table()
        finally:
            self.con.unregister("staged")
        rows = rows.combine_chunks()
        return self._localize(rows, lambda need: self._raw(staged, need, raw_of))

    def _raw(self, staged: pa.Table, need: pa.Array, raw_of) -> pa.Array:
        """The raw text of the rows `need` selects: from `raw_of`, else the staged raw or its fields joined."""
        if raw_of is not None:
            return raw_of(need)
        self.con.register("needed", staged.filter(need))
        try:
            out = self.con.sql(_RAW_SQL).to_arrow_table()
        finally:
            self.con.unregister("needed")
        return out.column(0).combine_chunks().cast(pa.string())

    def flush(self) -> ParsedBatch | None:
        """At the end of the file: the repeated-hour rows still held are rejected as ambiguous."""
        decided = self.resolver.flush()
        if not decided:
            return None
        return _decided_batch(decided, self.rules.timezone)

    def _complete(self, staged: pa.Table) -> pa.Table:
        n = staged.num_rows
        for name, typ in _STAGED_DEFAULTS.items():
            if name not in staged.column_names:
                staged = staged.append_column(name, pa.nulls(n, typ))
        if "local_ts" not in staged.column_names:
            has_text = pc.any(pc.is_valid(staged["ts_text"])).as_py() if n else False
            has_num = pc.any(pc.is_valid(staged["ts_num"])).as_py() if n else False
            times = self.parse_times(
                staged["ts_text"].combine_chunks() if has_text or not has_num else None,
                staged["ts_num"].combine_chunks() if has_num else None,
            )
            for name in times.column_names:
                staged = staged.append_column(name, times[name])
        for name, typ in (("utc_ts", UTC_TS), ("ts_reason", pa.string())):
            if name not in staged.column_names:
                staged = staged.append_column(name, pa.nulls(n, typ))
        return staged.set_column(
            staged.column_names.index("local_ts"), "local_ts", staged["local_ts"].cast(pa.timestamp("us"))
        )

    def _localize(self, rows: pa.Table, raw_for) -> ParsedBatch:
        tz = self.rules.timezone
        local = rows["local_ts"].combine_chunks()
        summer, winter, nonexistent, ambiguous = wall_clock_candidates(local, tz)
        reason = rows["reason"].combine_chunks()
        naive = pc.and_(pc.is_valid(local), pc.is_null(rows["utc_ts"].combine_chunks()))
        gap = pc.fill_null(pc.and_(pc.and_(naive, nonexistent), pc.is_null(reason)), False)
        if pc.any(gap).as_py():
            texts = [nonexistent_reason(v, tz) for v in local.filter(gap).to_pylist()]
            reason = pc.replace_with_mask(reason, gap, pa.array(texts, pa.string()))
        ts = pc.coalesce(rows["utc_ts"].combine_chunks(), summer)
        ok = pc.is_null(reason)

        # Rows of the repeated hour, and later rows of tags with held rows, go through the resolver in order.
        held = np.zeros(rows.num_rows, dtype=bool)
        decided: list = []
        amb = pc.fill_null(pc.and_(pc.and_(naive, ambiguous), ok), False)
        open_tags = self.resolver.open_tags
        if pc.any(amb).as_py():
            open_tags |= set(pc.unique(rows["tag"].filter(amb)).to_pylist())
        watch = amb
        if open_tags:
            later = pc.and_(pc.and_(naive, ok), pc.is_in(rows["tag"], pa.array(sorted(open_tags), pa.string())))
            watch = pc.or_(amb, pc.fill_null(later, False))
        # The raw text only of the rows that may end in quarantine: rejected now, or held for the repeated hour.
        need = pc.or_(pc.invert(ok), watch)
        need = need.combine_chunks() if isinstance(need, pa.ChunkedArray) else need
        raw = pa.nulls(rows.num_rows, pa.string())
        if pc.any(need).as_py():
            raw = pc.replace_with_mask(raw, need, raw_for(need))
        rows = rows.append_column("raw", raw)
        if pc.any(watch).as_py():
            idx = np.flatnonzero(watch.to_numpy(zero_copy_only=False))
            amb_np = amb.to_numpy(zero_copy_only=False)
            sub = rows.take(pa.array(idx)).to_pylist()
            s_list = summer.take(pa.array(idx)).to_pylist()
            w_list = winter.take(pa.array(idx)).to_pylist()
            for i, row, s, w in zip(idx, sub, s_list, w_list, strict=True):
                if amb_np[i]:
                    held[i] = True
                    decided.extend(self.resolver.ambiguous(row["tag"], row["local_ts"], s, w, row))
                else:
                    decided.extend(self.resolver.unambiguous(row["tag"], row["local_ts"]))

        keep = pc.and_(ok, pa.array(~held))
        points = pa.table(
            {
                "tag": rows["tag"],
                "ts": ts,
                "value": rows["value"],
                "value_text": rows["value_text"],
                "quality": rows["quality"],
                "source_line": rows["source_line"],
            }
        ).filter(keep)
        bad = pc.invert(ok)
        rejects = pa.table(
            {"line": rows["source_line"].filter(bad), "reason": reason.filter(bad), "raw": rows["raw"].filter(bad)}
        )
        batch = ParsedBatch(points=points, rejects=rejects)
        if decided:
            extra = _decided_batch(decided, tz)
            batch = ParsedBatch(
                points=pa.concat_tables([batch.points, extra.points]),
                rejects=pa.concat_tables([batch.rejects, extra.rejects]),
            )
        return batch


def _decided_batch(decided: list[tuple[dict, dt.datetime | None]], timezone: str) -> ParsedBatch:
    placed = [(row, utc) for row, utc in decided if utc is not None]
    lost = [row for row, utc in decided if utc is None]
    points = pa.table(
        {
            "tag": [r["tag"] for r, _ in placed],
            "ts": pa.array([u for _, u in placed], UTC_TS),
            "value": pa.array([r["value"] for r, _ in placed], pa.float64()),
            "value_text": pa.array([r["value_text"] for r, _ in placed], pa.string()),
            "quality": pa.array([r["quality"] for r, _ in placed], pa.string()),
            "source_line": pa.array([r["source_line"] for r, _ in placed], pa.int64()),
        },
        schema=POINT_COLUMNS,
    )
    rejects = pa.table(
        {
            "line": pa.array([r["source_line"] for r in lost], pa.int64()),
            "reason": pa.array([ambiguous_reason(r["local_ts"], timezone) for r in lost], pa.string()),
            "raw": pa.array([r["raw"] for r in lost], pa.string()),
        },
        schema=REJECT_COLUMNS,
    )
    return ParsedBatch(points=points, rejects=rejects)


def staged_table(columns: dict[str, list | pa.Array], types: dict[str, pa.DataType] | None = None) -> pa.Table:
    """A staged table from Python lists (JSON readers), typed the way `RowFinisher` expects."""
    known = {
        "source_line": pa.int64(),
        "tag": pa.string(),
        **_STAGED_DEFAULTS,
        **(types or {}),
    }
    return pa.table({name: pa.array(values, known.get(name)) for name, values in columns.items()})


def source_times(options: dict) -> dict:
    """The `RowRules` time arguments of a source's options: its timestamp_format and its plausible range."""
    return {"time_format": options.get("timestamp_format"), "bounds": TimestampBounds.from_options(options)}


# ---- helpers the CSV readers share ---------------------------------------------------------------


def map_text(values: pa.Array, fn) -> tuple[pa.Array, pa.Array]:
    """Apply `fn(text) -> (quality, reason)` once per distinct value of a column; two arrays back."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    distinct = pc.unique(values)
    results = [fn(v) for v in distinct.to_pylist()]
    index = pc.index_in(values, value_set=distinct)
    quality = pa.array([r[0] for r in results], pa.string()).take(index)
    reason = pa.array([r[1] for r in results], pa.string()).take(index)
    return quality, reason


def opc_quality(text: str | None, label: str) -> tuple[str | None, str | None]:
    """Quality words (Good*, Uncertain*, Bad*) and OPC codes (192-255 good, 64-127 uncertain, else bad)."""
    t = (text or "").strip()
    if t == "":
        return None, None
    low = t.lower()
    try:
        code = float(t)
    except ValueError:
        code = None
    if code is not None:
        if not code.is_integer():
            return None, f"{label} code not recognised: {t[:20]}"
        code = int(code)
        if 192 <= code <= 255:
            return "good", None
        if 64 <= code <= 127:
            return "uncertain", None
        return "bad", None
    if low.startswith("good"):
        return "good", None
    if low.startswith(("uncertain", "questionable", "doubtful", "substituted")):
        return "uncertain", None
    return "bad", None


def find_column(header: list[str], wanted: str | None, aliases: tuple[str, ...], option: str) -> int | None:
    """The index of a column by its configured name or, when none is configured, by the usual names."""
    lower = [h.strip().lower() for h in header]
    names = (wanted,) if wanted else aliases
    for name in names:
        if name.lower() in lower:
            return lower.index(name.lower())
    return None


def raw_lines(table: pa.Table, delimiter: str) -> pa.Array:
    """The fields of each row joined again, for the quarantine's raw text."""
    columns = [c.combine_chunks() for c in table.columns]
    if not columns:
        return pa.nulls(table.num_rows, pa.string())
    if len(columns) == 1:
        return columns[0]
    return pc.binary_join_element_wise(*columns, delimiter, null_handling="replace", null_replacement="")


def positional_names(header: list[str]) -> list[str]:
    """Unique positional column names for the CSV parser (headers may repeat or be empty)."""
    return [f"c{i}" for i in range(len(header))]


def read_tall_csv(
    stream_opener,
    finisher: RowFinisher,
    header: list[str],
    columns: dict[str, int],
    quality_of,
    encoding: str,
    delimiter: str,
    header_line: int = 1,
) -> Iterator[ParsedBatch]:
    """One point per line: `columns` maps tag, timestamp, value (and optional others) to positions.

    `quality_of(text_table) -> (quality, reason)` grades each row from its own columns.
    """
    names = positional_names(header)
    try:
        with stream_opener() as stream:
            for text in stream_text_batches(
                stream, names, encoding=encoding, delimiter=delimiter, header_line=header_line
            ):
                table = text.table
                quality, reason = quality_of(table)
                staged = pa.table(
                    {
                        "source_line": text.lines,
                        "tag": pc.utf8_trim_whitespace(table[names[columns["tag"]]]),
                        "ts_text": table[names[columns["timestamp"]]],
                        "value_str": table[names[columns["value"]]],
                        "quality": quality,
                        "reason": reason,
                        "raw": raw_lines(table, delimiter),
                    }
                )
                batch = finisher.finish(staged)
                if text.invalid:
                    batch = ParsedBatch(
                        points=batch.points, rejects=pa.concat_tables([batch.rejects, invalid_rows_table(text.invalid)])
                    )
                yield batch
        tail = finisher.flush()
        if tail is not None:
            yield tail
    finally:
        finisher.close()


def unpivot_wide(
    finisher: RowFinisher,
    lines: pa.Array,
    times: pa.Table,
    channels: list[tuple[str, pa.Array]],
    ts_raw: pa.Array,
) -> pa.Table:
    """Wide rows (one time, one value per channel) to staged rows: one per non-empty cell, line kept.

    `times` holds local_ts / utc_ts / ts_reason per line, already parsed (and corrected).
    """
    parts = []
    for tag, values in channels:
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            present = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(values), ""), False)
            value_cols = {"value_str": values.cast(pa.string()).filter(present)}
        else:
            present = pc.is_valid(values)
            value_cols = {"value_num": values.cast(pa.float64()).filter(present)}
        n = pc.sum(present).as_py() or 0
        if not n:
            continue
        shown = next(iter(value_cols.values())).cast(pa.string())
        part = {
            "source_line": lines.filter(present),
            "tag": pa.array([tag] * n, pa.string()),
            "local_ts": times["local_ts"].filter(present),
            "utc_ts": times["utc_ts"].filter(present),
            "ts_reason": times["ts_reason"].filter(present),
            "value_str": pa.nulls(n, pa.string()),
            "value_num": pa.nulls(n, pa.float64()),
            "raw": pc.binary_join_element_wise(
                ts_raw.filter(present).cast(pa.string()),
                pc.binary_join_element_wise(pa.array([tag] * n, pa.string()), shown, "="),
                ",",
                null_handling="replace",
                null_replacement="",
            ),
        }
        part.update(value_cols)
        parts.append(pa.table(part))
    if not parts:
        return pa.table(
            {
                "source_line": pa.array([], pa.int64()),
                "tag": pa.array([], pa.string()),
                "local_ts": pa.array([], pa.timestamp("us")),
                "utc_ts": pa.array([], UTC_TS),
                "ts_reason": pa.array([], pa.string()),
                "value_str": pa.array([], pa.string()),
                "value_num": pa.array([], pa.float64()),
                "raw": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts, promote_options="default")
