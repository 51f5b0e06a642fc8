"""oee_order over hand-written silver in real DuckDB: an order across midnight built day by day (each day's
parts in oee_order_daily, the order whole), a running order's estimated end, and an order not started.

Plant: Europe/Berlin (CET, UTC+1, in March 2026), production day from 00:00, shifts early 06-14, late
14-22, night 22-06, every day, no breaks; FILLER's own ideal cycle 1.0 s; product 033 at 0.5 s, 100 at 2.0 s.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.mart_sql import MartSQL, utc
from tests.helpers.plant import EVERY_DAY, THREE_SHIFTS, one_machine_config

MON, TUE = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def config() -> dict:
    plant = one_machine_config(shifts=THREE_SHIFTS, day_start="00:00", working_days=EVERY_DAY)
    plant["products"] = [
        {"id": "033", "name": "0.33 l bottle", "ideal_cycle_time_s": 0.5},
        {"id": "100", "name": "1.0 l bottle", "ideal_cycle_time_s": 2.0},
    ]
    return plant


def state(day: dt.date, start: str, end: str, category="running", reason=None) -> dict:
    s, e = utc(start), utc(end)
    return {
        "day": day, "line": "L1", "machine": "FILLER", "start": s, "end": e, "duration_s": (e - s).total_seconds(),
        "category": category, "reason": reason, "state_code": "1", "event_start": s, "event_end": e,
        "is_minor_stop": False,
    }  # fmt: skip


def run(day: dt.date, start: str, end: str, product: str, order_id: str | None, run_end: str | None) -> dict:
    s, e = utc(start), utc(end)
    return {
        "day": day, "line": "L1", "machine": "FILLER", "start": s, "end": e, "duration_s": (e - s).total_seconds(),
        "product": product, "product_value": None, "order_id": order_id,
        "source": "order" if order_id else "unknown", "run_start": s, "run_end": run_end and utc(run_end),
    }  # fmt: skip


def counts(day: dt.date, ts: str, total: float, reject: float = 0) -> list[dict]:
    base = {"day": day, "line": "L1", "machine": "FILLER", "ts": utc(ts), "event": "count"}
    return [
        {**base, "kind": "total", "tag": "L1.FILLER.Total", "increment": total},
        {**base, "kind": "reject", "tag": "L1.FILLER.Reject", "increment": reject},
    ]


def order(day, order_id, product, qty, planned_start, planned_end, actual_start=None, actual_end=None) -> dict:
    return {
        "day": day, "order_id": order_id, "product": product, "line": "L1", "machine": "FILLER", "planned_qty": qty,
        "whole_line": False,
        "planned_start": utc(planned_start), "planned_end": utc(planned_end),
        "actual_start": actual_start and utc(actual_start), "actual_end": actual_end and utc(actual_end),
        "source_file": "orders.csv", "exported_at": utc("2026-03-01 12:00"),
    }  # fmt: skip


ORDER_4711 = ("4711", "033", 50_000, "2026-03-02 19:00", "2026-03-03 03:00", "2026-03-02 19:00", "2026-03-03 01:00")

# Monday's production day is 1 Mar 23:00Z .. 2 Mar 23:00Z, Tuesday's 2 Mar 23:00Z .. 3 Mar 23:00Z.
# Order 4711 (033, 50,000 planned) ran 19:00Z Monday .. 01:00Z Tuesday (20:00-02:00 CET), across midnight;
# order 4712 (100, 10,000 planned) started 02:00Z Tuesday and runs; 4713 is planned for Tuesday evening, not started.
SILVER = {
    "silver__machine_states": [
        state(MON, "2026-03-01 23:00", "2026-03-02 21:00"),
        state(MON, "2026-03-02 21:00", "2026-03-02 21:30", "unplanned_stop", "Jam"),
        state(MON, "2026-03-02 21:30", "2026-03-02 23:00"),
        state(TUE, "2026-03-02 23:00", "2026-03-03 23:00"),
    ],
    "silver__production_runs": [
        run(MON, "2026-03-01 23:00", "2026-03-02 19:00", "unknown", None, "2026-03-02 19:00"),
        run(MON, "2026-03-02 19:00", "2026-03-02 23:00", "033", "4711", "2026-03-03 01:00"),
        run(TUE, "2026-03-02 23:00", "2026-03-03 01:00", "033", "4711", "2026-03-03 01:00"),
        run(TUE, "2026-03-03 01:00", "2026-03-03 02:00", "unknown", None, "2026-03-03 02:00"),
        run(TUE, "2026-03-03 02:00", "2026-03-03 23:00", "100", "4712", None),
    ],
    "silver__count_increments": [
        # before the order (unknown product): not the order's
        *counts(MON, "2026-03-02 19:00", 3000),
        # 4711 on Monday: 7000 + 7000 + 3000 (the jam's hour) + 7200 = 24,200 total, 200 rejects
        *counts(MON, "2026-03-02 20:00", 7000, 100),
        *counts(MON, "2026-03-02 21:00", 7000),
        *counts(MON, "2026-03-02 22:00", 3000),
        *counts(MON, "2026-03-02 23:00", 7200, 100),
        # 4711 on Tuesday: 7200 + 7200 = 14,400 total, 200 rejects
        *counts(TUE, "2026-03-03 00:00", 7200),
        *counts(TUE, "2026-03-03 01:00", 7200, 200),
        # between the orders (unknown product): the reading at 02:00Z closes 01:00-02:00Z, not 4712's
        *counts(TUE, "2026-03-03 02:00", 3000),
        # 4712: 1500 + 1500 = 3000 good, the last at 04:00Z
        *counts(TUE, "2026-03-03 03:00", 1500),
        *counts(TUE, "2026-03-03 04:00", 1500),
    ],
    # silver keeps, per day, the orders whose window touches it: 4711 both days
    "silver__orders": [
        order(MON, *ORDER_4711),
        order(TUE, *ORDER_4711),
        order(TUE, "4712", "100", 10_000, "2026-03-03 02:00", "2026-03-03 10:00", "2026-03-03 02:00"),
        order(TUE, "4713", "033", 20_000, "2026-03-03 20:00", "2026-03-03 23:00"),
    ],
}


@pytest.fixture
def marts(tmp_path) -> MartSQL:
    # the marts build: Monday published, then Tuesday (Monday its neighbour), oee_order after each
    marts = MartSQL(tmp_path, config(), [MON, TUE], SILVER)
    for day in (MON, TUE):
        marts.build("oee_order_daily", [day])
        marts.build("oee_order", [day])
    return marts


def test_monday_rebuilt_alone_keeps_every_order_whole(marts):
    # a rebuild of Monday reads Monday's silver (and its neighbours'); Tuesday's orders and its part of 4711 stay
    marts.build("oee_order_daily", [MON])
    marts.build("oee_order", [MON])
    rows = marts.rows("select order_id, total_count from oee_order order by order_id")
    assert [tuple(r.values()) for r in rows] == [("4711", 38_600), ("4712", 3000), ("4713", 0)]


def test_an_order_across_midnight_is_whole_with_both_days_counts(marts):
    daily = marts.rows(
        "select day, total_count, reject_count, run_time_s, planned_production_time_s from oee_order_daily "
        "where order_id = '4711' order by day"
    )
    # Monday 19:00-23:00Z: 4 h = 14,400 s planned, less the 30 min jam = 12,600 s run
    # Tuesday 23:00-01:00Z: 2 h = 7,200 s planned and run
    assert [tuple(r.values()) for r in daily] == [(MON, 24_200, 200, 12_600, 14_400), (TUE, 14_400, 200, 7_200, 7_200)]

    [row] = marts.rows("select * from oee_order where order_id = '4711'")
    assert (row["status"], row["product"], row["product_name"], row["is_output_machine"]) == (
        "done",
        "033",
        "0.33 l bottle",
        True,
    )
    # both days: total 38,600, rejects 400, good 38,200; planned 21,600 s, run 19,800 s
    assert (row["total_count"], row["good_count"], row["reject_count"]) == (38_600, 38_200, 400)
    assert (row["planned_production_time_s"], row["run_time_s"]) == (21_600, 19_800)
    # ideal time 38,600 x 0.5 = 19,300 s; fully productive 38,200 x 0.5 = 19,100 s
    assert row["availability"] == pytest.approx(19_800 / 21_600)
    assert row["performance"] == pytest.approx(19_300 / 19_800)
    assert row["quality"] == pytest.approx(19_100 / 19_300)
    assert row["oee"] == pytest.approx(19_100 / 21_600)
    # ideal duration 50,000 x 0.5 = 25,000 s; actual 19:00Z .. 01:00Z = 21,600 s; completion 38,200 / 50,000
    assert (row["ideal_duration_s"], row["actual_duration_s"]) == (25_000, 21_600)
    assert row["completion"] == pytest.approx(0.764)
    assert row["estimated_end"] is None


def test_a_running_order_is_estimated_to_end_at_its_rate_so_far(marts):
    [row] = marts.rows("select * from oee_order where order_id = '4712'")
    assert row["status"] == "running"
    # 3000 good from 02:00Z to the last count at 04:00Z (7,200 s): 7,000 still to make at 3000 / 7,200 s a
    # unit takes 7,000 x 7,200 / 3,000 = 16,800 s = 4 h 40 min after 04:00Z: 08:40Z
    assert (row["good_count"], row["actual_duration_s"]) == (3000, 7_200)
    assert row["completion"] == pytest.approx(0.3)
    assert row["estimated_end"] == utc("2026-03-03 08:40")
    # ideal duration 10,000 x 2.0 (100's cycle) = 20,000 s; performance 3000 x 2.0 / 21 h of running
    assert row["ideal_duration_s"] == 20_000
    assert row["performance"] == pytest.approx(6_000 / 75_600)


def test_an_order_not_started_has_its_plan_and_nothing_made(marts):
    [row] = marts.rows("select * from oee_order where order_id = '4713'")
    assert (row["status"], row["total_count"], row["completion"]) == ("planned", 0, 0)
    assert (row["actual_duration_s"], row["estimated_end"], row["oee"]) == (None, None, None)
    assert row["ideal_duration_s"] == 10_000
