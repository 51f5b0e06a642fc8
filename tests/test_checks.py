"""The checks catch what they are for: schema violations and states that do not tile the day."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from assets.core.schemas import SILVER_MACHINE_STATES, UTC_TS
from assets.core.validation import validate
from assets.silver import tiling_problems

UTC = dt.UTC
DAY = (dt.datetime(2026, 3, 2, 5, tzinfo=UTC), dt.datetime(2026, 3, 3, 5, tzinfo=UTC))


def states(rows: list[tuple]) -> pa.Table:
    start = [r[0] for r in rows]
    end = [r[1] for r in rows]
    return SILVER_MACHINE_STATES.conform(
        pa.table(
            {
                "day": [dt.date(2026, 3, 2)] * len(rows),
                "line": ["L1"] * len(rows),
                "machine": ["FILLER"] * len(rows),
                "start": pa.array(start, UTC_TS),
                "end": pa.array(end, UTC_TS),
                "duration_s": [(e - s).total_seconds() for s, e in zip(start, end, strict=True)],
                "category": [r[2] for r in rows],
                "reason": [None] * len(rows),
                "state_code": ["1"] * len(rows),
                "event_start": pa.array(start, UTC_TS),
                "event_end": pa.array(end, UTC_TS),
                "is_minor_stop": [False] * len(rows),
            }
        )
    )


def at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 3, 2, 5, tzinfo=UTC) + dt.timedelta(hours=hour)


def test_states_that_tile_the_day_pass():
    table = states([(at(0), at(10), "running"), (at(10), at(24), "planned_stop")])
    assert tiling_problems(table, DAY, [("L1", "FILLER")]) == []
    assert validate(SILVER_MACHINE_STATES, table).passed


def test_a_gap_a_short_day_and_a_missing_machine_are_found():
    table = states([(at(0), at(10), "running"), (at(11), at(23), "running")])
    problems = tiling_problems(table, DAY, [("L1", "FILLER"), ("L2", "PACKER")])
    assert problems == [
        "L1/FILLER: intervals span 2026-03-02 05:00:00+00:00..2026-03-03 04:00:00+00:00, not the day",
        "L1/FILLER: gap or overlap at 2026-03-02 15:00:00+00:00",
        "L2/PACKER: no intervals",
    ]


def test_an_unknown_category_and_a_duplicate_start_fail_the_schema():
    table = states([(at(0), at(10), "running"), (at(0), at(24), "coffee")])
    result = validate(SILVER_MACHINE_STATES, table)
    assert not result.passed
    checks = set(result.failure_cases()["check"].to_list())
    assert any(c.startswith("isin") for c in checks)
    assert "multiple_fields_uniqueness" in checks
