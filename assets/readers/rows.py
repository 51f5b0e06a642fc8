"""The rules every format shares, applied in one place: from a reader's columns to points and rejects.

The rules are DuckDB macros (sql/bronze/row_rules.sql), run over each batch by the statements of
sql/bronze/rows_*.sql; the AVEVA whole-file stager calls the same macros.

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
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.timestamps import (
    DeferredAmbiguity,
    TimestampBounds,
    ambiguous_reason,
    nonexistent_reason,
    time_params,
    wall_clock_candidates,
)
from assets.storage.schemas import UTC_TS
from assets.storage.sql_files import register_macros, sql_file

from .parsed import POINT_COLUMNS, REJECT_COLUMNS, ParsedBatch

# The rules themselves are DuckDB macros (sql/bronze/row_rules.sql), shared with the AVEVA whole-file stager.
ROW_RULES_SQL = "bronze/row_rules.sql"
_TIMES_SQL = "bronze/rows_times.sql"
_CHECK_TIMES_SQL = "bronze/rows_check_times.sql"
_FINISH_SQL = "bronze/rows_finish.sql"
_RAW_SQL = "bronze/rows_raw.sql"

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
        register_macros(self.con, ROW_RULES_SQL)

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
                sql_file(_TIMES_SQL),
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
                "utc_naive": utc_ts.cast(UTC_TS).cast(pa.timestamp("us")),
                "local_ts": local_ts.cast(pa.timestamp("us")),
                "ts_reason": ts_reason.cast(pa.string()),
            }
        )
        self.con.register("typed_times", timed)
        try:
            out = self.con.sql(sql_file(_CHECK_TIMES_SQL), params=self._range_params).to_arrow_table()
        finally:
            self.con.unregister("typed_times")
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
                sql_file(_FINISH_SQL),
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
            out = self.con.sql(sql_file(_RAW_SQL)).to_arrow_table()
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
