"""Validating Arrow data against a table declaration with pandera's polars backend (cheap at scale)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.errors
import polars as pl
import pyarrow as pa

from .schemas import TableSpec


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


def validate(spec: TableSpec, data: pa.Table | pa.RecordBatch) -> ValidationResult:
    """Validate rows against the spec's pandera schema, collecting every failure (lazy)."""
    frame = pl.from_arrow(data)
    if isinstance(frame, pl.Series):  # a single-column table comes back as a Series
        frame = frame.to_frame()
    try:
        spec.pandera_schema().validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return ValidationResult(rows_checked=data.num_rows, failures=cases.height, cases=[cases.head(50)])
    return ValidationResult(rows_checked=data.num_rows)


def validated_stream(
    reader: pa.RecordBatchReader,
    spec: TableSpec,
    validation: ValidationResult,
    group_rows: int,
    ordered_by_key: bool = False,
) -> pa.RecordBatchReader:
    """Conform each batch to the spec and validate it on its way to the Delta writer, adding to
    `validation`; the batches pass on as they came.

    A pandera call costs about 15 ms whatever its size, so batches are validated together until they
    hold `group_rows` rows. The key is unique within each group; for a stream `ordered_by_key`, a key
    repeated across two groups is the last row of one and the first of the next, and that pair is
    checked too, so the key check is whole.
    """
    schema = spec.arrow_schema
    last: list[tuple | None] = [None]

    def check(held: list[pa.RecordBatch]) -> None:
        group = pa.Table.from_batches(held, schema)
        validation.add(validate(spec, group))
        if ordered_by_key and spec.unique and group.num_rows:
            first = tuple(group.column(c)[0].as_py() for c in spec.unique)
            if first == last[0]:
                validation.add(_repeated_key(spec, first))
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


def _repeated_key(spec: TableSpec, key: tuple) -> ValidationResult:
    """A failure for a key found again in a later group of a stream validated group by group."""
    case = pl.DataFrame(
        {
            "schema_context": ["DataFrameSchema"],
            "column": [spec.name],
            "check": [f"unique across batches: {', '.join(spec.unique)}"],
            "failure_case": [str(key)],
        }
    )
    return ValidationResult(rows_checked=0, failures=1, cases=[case])
