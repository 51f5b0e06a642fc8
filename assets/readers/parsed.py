"""What every reader yields: points ready for bronze, and rows that cannot be landed, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from .csv_stream import InvalidRow

POINT_COLUMNS = pa.schema(
    [
        pa.field("tag", pa.string()),
        pa.field("ts", pa.timestamp("us", tz="UTC")),
        pa.field("value", pa.float64()),
        pa.field("value_text", pa.string()),
        pa.field("quality", pa.string()),
        pa.field("source_line", pa.int64()),
    ]
)
REJECT_COLUMNS = pa.schema(
    [
        pa.field("line", pa.int64()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
    ]
)


@dataclass
class ParsedBatch:
    """Points typed and in UTC (`POINT_COLUMNS`), rejected rows (`REJECT_COLUMNS`), the engineering
    units of tags, where the export states them (for the tag catalog), and the input lines read.

    Every point and every rejected row is one value in. `lines` is the number of input lines (records)
    the batch read: a wide reader sets it (a line holds a value per channel, or none); None means one
    line per value, as in a long export.
    """

    points: pa.Table
    rejects: pa.Table
    units: dict[str, str] = field(default_factory=dict)
    lines: int | None = None

    def __post_init__(self) -> None:
        self.points = self.points.select(POINT_COLUMNS.names).cast(POINT_COLUMNS)
        self.rejects = self.rejects.select(REJECT_COLUMNS.names).cast(REJECT_COLUMNS)


def invalid_rows_table(rows: list[InvalidRow]) -> pa.Table:
    return pa.table(
        {
            "line": pa.array([r.line for r in rows], pa.int64()),
            "reason": pa.array([r.reason for r in rows], pa.string()),
            "raw": pa.array([r.raw[:10_000] for r in rows], pa.string()),
        }
    )
