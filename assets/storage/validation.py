"""Validating Arrow data against a table declaration with pandera's polars backend (cheap at scale)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.errors
import polars as pl
import pyarrow as pa

from assets.storage.schemas import TableSpec


@dataclass
class ValidationResult:
    """Rows checked, failures found, and the first failure cases for a person to look at."""

    rows_checked: int = 0
    failures: int = 0
    cases: list[pl.DataFrame] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failures == 0

    def add(self, other: ValidationResult) -> None:
        self.rows_checked += other.rows_checked
        self.failures += other.failures
        if sum(c.height for c in self.cases) < 50:
            self.cases.extend(other.cases)

    def failure_cases(self, limit: int = 20) -> pl.DataFrame | None:
        if not self.cases:
            return None
        return pl.concat(self.cases, how="diagonal_relaxed").head(limit)


def validate(spec: TableSpec, data: pa.Table | pa.RecordBatch, with_key: bool = True) -> ValidationResult:
    """Validate rows against the spec's pandera schema, collecting every failure (lazy); the key is
    left out with `with_key` false."""
    frame = pl.from_arrow(data)
    if isinstance(frame, pl.Series):  # a single-column table comes back as a Series
        frame = frame.to_frame()
    try:
        spec.pandera_schema(with_key).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return ValidationResult(rows_checked=data.num_rows, failures=cases.height, cases=[cases.head(50)])
    return ValidationResult(rows_checked=data.num_rows)


# How a validated stream's key is checked (`validated_stream`).
KEY_ORDERED = "ordered"
KEY_CHECKED_BY_CALLER = "checked by caller"


def validated_stream(
    reader: pa.RecordBatchReader,
    spec: TableSpec,
    validation: ValidationResult,
    group_rows: int,
    key: str,
) -> pa.RecordBatchReader:
    """Conform each batch to the spec and validate it on its way to the Delta writer, adding to
    `validation`; the batches pass on as they came.

    A pandera call costs about 15 ms whatever its size, so batches are validated together until they
    hold `group_rows` rows. pandera's own key check hashes every group and sees no repeat across two
    groups; it is left out, and `key` says how the key is checked instead:

    - `KEY_ORDERED`: the stream is ordered by the key, which must then increase strictly from each row
      to the next, across group edges too. That is exact for the whole stream and a few times cheaper.
    - `KEY_CHECKED_BY_CALLER`: the caller has established that the key is unique (landing's
      classification compares every point with the rest of its file and with bronze).
    """
    if key not in (KEY_ORDERED, KEY_CHECKED_BY_CALLER):
        raise ValueError(f"unknown key check: {key!r}")
    schema = spec.arrow_schema
    last: list[tuple | None] = [None]

    def check(held: list[pa.RecordBatch]) -> None:
        group = pa.Table.from_batches(held, schema)
        validation.add(validate(spec, group, with_key=False))
        if key == KEY_ORDERED and spec.unique and group.num_rows:
            validation.add(_key_not_increasing(spec, group, last[0]))
            last[0] = tuple(group.column(c)[group.num_rows - 1].as_py() for c in spec.unique)

    def batches():
        held: list[pa.RecordBatch] = []
        rows = 0
        for batch in reader:
            held.append(spec.conform_batch(batch))
            rows += batch.num_rows
            if rows >= group_rows:
                check(held)
                yield from held
                held, rows = [], 0
        if held:
            check(held)
            yield from held

    return pa.RecordBatchReader.from_batches(schema, batches())


def _key_not_increasing(spec: TableSpec, group: pa.Table, previous: tuple | None) -> ValidationResult:
    """Failures where the key does not increase strictly from a row to the next: a repeated key, or a
    stream out of order. `previous` is the key of the row before the group (the last of the group
    before), so a repeat across the edge counts too. Strings compare by code point, as DuckDB's ORDER BY
    sorts them (UTF-8 bytes keep that order)."""
    keys = pl.from_arrow(group.select(list(spec.unique)))
    if isinstance(keys, pl.Series):
        keys = keys.to_frame()
    # the next row's key greater than this row's, built from the last key column to the first
    greater = None
    for name in reversed(spec.unique):
        col, nxt = pl.col(name), pl.col(name).shift(-1)
        greater = nxt > col if greater is None else (nxt > col) | ((nxt == col) & greater)
    # the row after each failing position is the repeat (or the row out of order)
    bad = keys.with_columns(ok=greater.shift(1)).filter(pl.col("ok").not_())
    cases = [tuple(row) for row in bad.select(list(spec.unique)).iter_rows()]
    first = tuple(group.column(c)[0].as_py() for c in spec.unique)
    # a null key is pandera's failure (nullable); it has no order to check
    if previous is not None and None not in previous and None not in first and not first > previous:
        cases.insert(0, first)
    if not cases:
        return ValidationResult()
    shown = cases[:50]
    frame = pl.DataFrame(
        {
            "schema_context": ["DataFrameSchema"] * len(shown),
            "column": [spec.name] * len(shown),
            "check": [f"unique and ordered: {', '.join(spec.unique)}"] * len(shown),
            "failure_case": [", ".join(str(v) for v in c) for c in shown],
        }
    )
    return ValidationResult(rows_checked=0, failures=len(cases), cases=[frame])
