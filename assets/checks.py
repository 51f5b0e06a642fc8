"""Asset checks built from the table declarations: pandera (polars backend) and invariants."""

from __future__ import annotations

import dagster as dg
import pandera.errors
import polars as pl
import pyarrow as pa

from .core.schemas import TableSpec

MAX_FAILURE_ROWS = 20


def schema_check_name(spec: TableSpec) -> str:
    return f"{spec.name}_schema"


def schema_check_spec(spec: TableSpec, description: str | None = None) -> dg.AssetCheckSpec:
    """A blocking check: the table's rows satisfy its declared schema (types, nulls, values, keys)."""
    return dg.AssetCheckSpec(
        schema_check_name(spec),
        asset=spec.name,
        blocking=True,
        description=description or f"Rows of {spec.name} match its declared schema (pandera).",
    )


def validate(spec: TableSpec, table: pa.Table) -> tuple[bool, int, pl.DataFrame | None]:
    """Validate an Arrow table against the spec; returns (passed, failure count, failure cases)."""
    frame = pl.from_arrow(table)
    if isinstance(frame, pl.Series):  # a single-column table comes back as a Series
        frame = frame.to_frame()
    try:
        spec.pandera_schema().validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return False, cases.height, cases
    return True, 0, None


def schema_check_result(spec: TableSpec, table: pa.Table) -> dg.AssetCheckResult:
    passed, failures, cases = validate(spec, table)
    metadata: dict[str, object] = {"rows_checked": table.num_rows, "failures": failures}
    if cases is not None:
        metadata["failure_cases"] = dg.MetadataValue.md(_markdown(cases.head(MAX_FAILURE_ROWS)))
    return dg.AssetCheckResult(
        check_name=schema_check_name(spec),
        asset_key=spec.name,
        passed=passed,
        metadata=metadata,
    )


def _markdown(frame: pl.DataFrame) -> str:
    columns = frame.columns
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(str(v).replace("|", "\\|")[:80] for v in row) + " |")
    return "\n".join(lines)
