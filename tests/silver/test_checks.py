"""The checks catch what they are for: schema violations and states that do not tile the day."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from assets.silver.assets import tiling_problems
from assets.storage.schemas import SILVER_MACHINE_STATES, UTC_TS
from assets.storage.validation import validate

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


def test_a_key_repeated_or_out_of_order_in_an_ordered_stream_fails_the_check_across_groups():
    from assets.storage.schemas import SILVER_SENSOR_INTERVALS
    from assets.storage.validation import KEY_ORDERED, ValidationResult, validated_stream

    def batch(starts: list[int]) -> pa.RecordBatch:
        t0 = dt.datetime(2026, 3, 2, 5, tzinfo=UTC)
        table = pa.table(
            {
                "day": [dt.date(2026, 3, 2)] * len(starts),
                "tag": ["L1.TempC"] * len(starts),
                "source": ["historian"] * len(starts),
                "start": pa.array([t0 + dt.timedelta(seconds=s) for s in starts], UTC_TS),
                "end": pa.array([t0 + dt.timedelta(seconds=s + 1) for s in starts], UTC_TS),
                "value": [20.0] * len(starts),
                "quality": ["good"] * len(starts),
            }
        )
        return SILVER_SENSOR_INTERVALS.conform(table).to_batches()[0]

    def check(*batches: pa.RecordBatch) -> ValidationResult:
        validation = ValidationResult()
        reader = pa.RecordBatchReader.from_batches(SILVER_SENSOR_INTERVALS.arrow_schema, iter(batches))
        # groups of at least 3 rows: each batch below is validated as a group of its own
        passed = validated_stream(reader, SILVER_SENSOR_INTERVALS, validation, 3, key=KEY_ORDERED)
        assert sum(b.num_rows for b in passed) == sum(b.num_rows for b in batches)  # every row passes on
        return validation

    # (tag, start) at 0, 1, 2 then 3, 4: each group alone is fine, and so is the whole
    clean = check(batch([0, 1, 2]), batch([3, 4]))
    assert (clean.rows_checked, clean.failures) == (5, 0)
    # 2 ends the first group and starts the second: unique within each, not across them
    repeated = check(batch([0, 1, 2]), batch([2, 3]))
    assert (repeated.rows_checked, repeated.failures) == (5, 1)
    assert repeated.failure_cases()["check"].to_list() == ["unique and ordered: tag, start"]
    # a repeat inside a group, and a row out of order (4 after 5): each is one failure, named by its key
    inside = check(batch([0, 1, 1, 5, 4]))
    assert (inside.rows_checked, inside.failures) == (5, 2)
    assert inside.failure_cases()["failure_case"].to_list() == [
        "L1.TempC, 2026-03-02 05:00:01+00:00",
        "L1.TempC, 2026-03-02 05:00:04+00:00",
    ]
