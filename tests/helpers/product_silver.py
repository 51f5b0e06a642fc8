"""Hand-made silver for the product-aware marts: one production day of calendar, machine states, counter
increments and production runs as Arrow tables, registered in a real DuckDB with the plant's dimensions and
the real staging views, and the real mart SQL run over them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from assets.marts.inputs import SILVER_INPUTS, checked_name, register_dimensions, register_staging
from assets.plant.config import PlantConfig
from assets.storage.schemas import (
    SILVER_COUNT_INCREMENTS,
    SILVER_MACHINE_STATES,
    SILVER_PLANT_CALENDAR,
    SILVER_PRODUCTION_RUNS,
    SILVER_TAG_QUALITY,
)
from assets.storage.sql_files import SQL_DIR

UTC = dt.UTC


def utc(day: dt.date, hour: float) -> dt.datetime:
    """`hour` hours after midnight UTC of `day` (past 24 runs into the next days)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(hours=hour)


@dataclass
class SilverDay:
    """One production day [start, end) with one shift [shift_start, shift_end) and no breaks."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    shift_start: dt.datetime
    shift_end: dt.datetime
    states: list[dict] = field(default_factory=list)
    counts: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def running(self, line: str, machine: str) -> None:
        """The machine runs through the whole day."""
        self.states.append(
            {
                "day": self.day, "line": line, "machine": machine, "start": self.start, "end": self.end,
                "duration_s": (self.end - self.start).total_seconds(), "category": "running", "reason": None,
                "state_code": "1", "event_start": self.start, "event_end": self.end, "is_minor_stop": False,
            }
        )  # fmt: skip
        self.tags.append(f"{line}.{machine}.State")

    def count(self, line: str, machine: str, kind: str, ts: dt.datetime, increment: float) -> None:
        self.counts.append(
            {
                "day": self.day, "line": line, "machine": machine, "kind": kind,
                "tag": f"{line}.{machine}.{kind}", "ts": ts, "increment": increment, "event": "count",
            }
        )  # fmt: skip

    def run(self, line: str, machine: str, product: str, start: dt.datetime, end: dt.datetime, value=None) -> None:
        self.runs.append(
            {
                "day": self.day, "line": line, "machine": machine, "start": start, "end": end,
                "duration_s": (end - start).total_seconds(), "product": product, "product_value": value,
                "order_id": None, "source": "tag", "run_start": start, "run_end": end,
            }
        )  # fmt: skip

    def calendar(self) -> list[dict]:
        common = {"day": self.day, "shift_name": None, "name": None, "shift_start": None, "shift_end": None}
        shift = {"shift_name": "early", "shift_start": self.shift_start, "shift_end": self.shift_end}
        length = (self.shift_end - self.shift_start).total_seconds()
        return [
            {**common, "kind": "day", "start": self.start, "end": self.end,
             "duration_s": (self.end - self.start).total_seconds()},
            {**common, **shift, "kind": "shift", "name": "early", "start": self.shift_start, "end": self.shift_end,
             "duration_s": length},
            {**common, **shift, "kind": "planned", "start": self.shift_start, "end": self.shift_end,
             "duration_s": length},
        ]  # fmt: skip

    def tag_quality(self) -> list[dict]:
        length = (self.end - self.start).total_seconds()
        return [
            {"day": self.day, "tag": tag, "source": "historian", "points": 1, "bad_points": 0,
             "uncertain_points": 0, "longest_gap_s": 0.0, "covered_s": length, "day_s": length}
            for tag in self.tags
        ]  # fmt: skip


def build_marts(silver: SilverDay, config: PlantConfig, marts: list[str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the given marts (in the order given), built by their real SQL."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    tables = {
        SILVER_PLANT_CALENDAR.name: (SILVER_PLANT_CALENDAR, silver.calendar()),
        SILVER_MACHINE_STATES.name: (SILVER_MACHINE_STATES, silver.states),
        SILVER_COUNT_INCREMENTS.name: (SILVER_COUNT_INCREMENTS, silver.counts),
        SILVER_PRODUCTION_RUNS.name: (SILVER_PRODUCTION_RUNS, silver.runs),
        SILVER_TAG_QUALITY.name: (SILVER_TAG_QUALITY, silver.tag_quality()),
    }
    for spec in SILVER_INPUTS:
        spec_rows = tables.get(spec.name)
        table = pa.Table.from_pylist(spec_rows[1], schema=spec.arrow_schema) if spec_rows else spec.empty()
        con.register(f"{spec.name}_rows", table)
        con.execute(f"create table {spec.name} as select * from {spec.name}_rows")
    con.register(
        "silver__plant_calendar_every_day", pa.Table.from_pylist(silver.calendar(), SILVER_PLANT_CALENDAR.arrow_schema)
    )
    register_dimensions(con, config)
    register_staging(con, SQL_DIR)
    for name in marts:
        query = (SQL_DIR / "marts" / f"{checked_name(name)}.sql").read_text(encoding="utf-8")
        con.execute(f"create table {name} as select * from ({query})", {"days": [silver.day]})
    return con


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    relation = con.sql(query)
    return [dict(zip(relation.columns, r, strict=True)) for r in relation.fetchall()]
