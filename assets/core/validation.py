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


def repeated_key(spec: TableSpec, key: tuple) -> ValidationResult:
    """A failure for a key found again in a later batch of rows validated batch by batch."""
    case = pl.DataFrame(
        {
            "schema_context": ["DataFrameSchema"],
            "column": [spec.name],
            "check": [f"unique across batches: {', '.join(spec.unique)}"],
            "failure_case": [str(key)],
        }
    )
    return ValidationResult(rows_checked=0, failures=1, cases=[case])
