"""Asset check results built from the table declarations (pandera, polars backend)."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pyarrow as pa

from assets.storage.schemas import TableSpec
from assets.storage.validation import ValidationResult, validate


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


def schema_check_result(spec: TableSpec, data: pa.Table | ValidationResult) -> dg.AssetCheckResult:
    """The check result for a table, or for a validation already run (e.g. batch by batch while writing)."""
    result = data if isinstance(data, ValidationResult) else validate(spec, data)
    metadata: dict[str, object] = {"rows_checked": result.rows_checked, "failures": result.failures}
    cases = result.failure_cases()
    if cases is not None:
        metadata["failure_cases"] = dg.MetadataValue.md(_markdown(cases))
    return dg.AssetCheckResult(
        check_name=schema_check_name(spec),
        asset_key=spec.name,
        passed=result.passed,
        metadata=metadata,
    )


def _markdown(frame: pl.DataFrame) -> str:
    columns = frame.columns
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(str(v).replace("|", "\\|")[:80] for v in row) + " |")
    return "\n".join(lines)
