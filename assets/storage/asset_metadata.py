"""What the Dagster UI shows of a table asset: its columns (type and description, from the table's one
declaration), where the table lives, the rows of the partition built, who owns it and its layer."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from assets.storage.schemas import TableSpec

# One owning team for every table: the plant YAML names no owner, and the lakehouse is run by the plant's
# engineering team as a whole (a team per table would be a key of the plant YAML nobody has asked for).
OWNERS = ("team:plant-engineering",)
LAYER_TAG = "layer"

COLUMN_SCHEMA = "dagster/column_schema"
TABLE_NAME = "dagster/table_name"
ROW_COUNT = "dagster/row_count"


def layer_tags(layer: str) -> dict[str, str]:
    """The asset's tags: its layer (bronze, silver, marts), which the UI filters the graph by."""
    return {LAYER_TAG: layer}


def column_schema(columns: Iterable[tuple[str, str, str]]) -> dg.TableSchema:
    """A TableSchema of (name, type, description) columns."""
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type=kind, description=doc or None) for name, kind, doc in columns]
    )


def spec_column_schema(spec: TableSpec) -> dg.TableSchema:
    """The columns of a Delta table as its declaration (assets/storage/schemas.py) gives them."""
    return column_schema((c.name, str(c.type), c.description) for c in spec.columns)


def delta_definition_metadata(spec: TableSpec) -> dict[str, object]:
    """The metadata of a Delta table's asset definition: its columns and its table's name (the location,
    under LAKEHOUSE_ROOT, is in each materialization's metadata)."""
    return {COLUMN_SCHEMA: spec_column_schema(spec), TABLE_NAME: spec.name}


def materialized_table(location: str, rows: int | None = None) -> dict[str, object]:
    """The metadata of one materialization: where the table is, and the rows the build wrote."""
    metadata: dict[str, object] = {TABLE_NAME: location}
    if rows is not None:
        metadata[ROW_COUNT] = int(rows)
    return metadata
