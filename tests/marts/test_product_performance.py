"""Performance at each product's own ideal rate: oee_daily, the line roll-up, oee_weekly, oee_product_daily
and the unknown-product flag, over hand-made silver (calendar, states, counts, production runs) registered
in a real DuckDB and run through the real staging views and mart SQL. Every expected number is derived by
hand in the comments beside it."""

from __future__ import annotations

import datetime as dt

import pytest

from assets.marts.audit import audit_marts
from assets.plant.config import parse_plant_config
from tests.helpers.exports import aveva_row
from tests.helpers.plant import one_machine_config
from tests.helpers.product_silver import SilverDay, build_marts, rows, utc

MON = dt.date(2026, 3, 2)
# Europe/Berlin is UTC+1 in early March: the production day 06:00-06:00 local is 05:00-05:00 UTC and the
# shift 06:00-14:00 local (8 h, no breaks) is 05:00-13:00 UTC: 28,800 s of planned production time.
DAY_START, SHIFT_END = utc(MON, 5), utc(MON, 13)
CATALOG = [
    {"id": "A", "name": "Product A", "ideal_cycle_time_s": 1.0},
    {"id": "B", "name": "Product B", "ideal_cycle_time_s": 0.5},
    {"id": "C", "name": "Product C", "ideal_cycle_time_s": 2.0},
]
MARTS = ["oee_daily", "oee_line_daily", "oee_site_daily", "oee_weekly", "oee_product_daily", "data_quality_daily"]


def config(products=CATALOG, packer=False):
    spec = one_machine_config()
    if products:
        spec["products"] = products
    if packer:
        filler = spec["lines"][0]["machines"][0]
        spec["lines"][0]["machines"].append(
            {**filler, "name": "PACKER", "state_tag": "L1.PACKER.State", "total_count_tag": "L1.PACKER.Total",
             "reject_count_tag": "L1.PACKER.Reject", "energy_kwh_tag": "L1.PACKER.kWh"}
        )  # fmt: skip
    return parse_plant_config(spec)


def silver_day() -> SilverDay:
    return SilverDay(MON, DAY_START, utc(MON, 29), DAY_START, SHIFT_END)


def three_products(silver: SilverDay) -> None:
    """2 h of A (7,000 pieces, 100 rejected), 3 h of B (20,000), 3 h of C (5,000, 250 rejected); C stays on
    the machine to the day's end. Each run's pieces are read at its end: a reading belongs to the run it
    closes, (start, end]."""
    s = silver
    s.running("L1", "FILLER")
    s.run("L1", "FILLER", "A", DAY_START, utc(MON, 7))
    s.run("L1", "FILLER", "B", utc(MON, 7), utc(MON, 10))
    s.run("L1", "FILLER", "C", utc(MON, 10), s.end)
    s.count("L1", "FILLER", "total", utc(MON, 7), 7000)
    s.count("L1", "FILLER", "reject", utc(MON, 7), 100)
    s.count("L1", "FILLER", "total", utc(MON, 10), 20000)
    s.count("L1", "FILLER", "total", SHIFT_END, 5000)
    s.count("L1", "FILLER", "reject", SHIFT_END, 250)


def test_performance_uses_the_ideal_cycle_of_the_product_running():
    silver = silver_day()
    three_products(silver)
    con = build_marts(silver, config(), MARTS)
    (row,) = rows(con, "select * from oee_daily")
    # ideal time = 7,000 x 1.0 + 20,000 x 0.5 + 5,000 x 2.0 = 7,000 + 10,000 + 10,000 = 27,000 s
    # (the machine's own 1.0 s for all 32,000 pieces would give 32,000 / 28,800 = 1.11)
    assert row["total_count"] == 32000 and row["reject_count"] == 350 and row["good_count"] == 31650
    assert row["ideal_time_s"] == pytest.approx(27000)
    assert row["run_time_s"] == pytest.approx(28800)
    assert row["performance"] == pytest.approx(27000 / 28800)  # 0.9375
    # rejects at their product's cycle: 100 x 1.0 + 250 x 2.0 = 600 s; fully productive 27,000 - 600 = 26,400 s
    assert row["quality_loss_s"] == pytest.approx(600)
    assert row["fully_productive_time_s"] == pytest.approx(26400)
    assert row["quality"] == pytest.approx(26400 / 27000)  # not 31,650 / 32,000
    assert row["oee"] == pytest.approx(26400 / 28800)
    assert row["availability"] * row["performance"] * row["quality"] == pytest.approx(row["oee"], rel=1e-12)
    # the cycle it ran at on average: 27,000 s / 32,000 pieces
    assert row["ideal_cycle_time_s"] == pytest.approx(27000 / 32000)
    # (the hand-made counters are read once a run, so the day is flagged for its silent counter, never for products)
    assert "product unknown" not in (row["data_quality_reason"] or "")

    # the week of that one day: the same sums, quality from ideal seconds on the machine's row too
    (week,) = rows(con, "select * from oee_weekly")
    assert week["quality"] == pytest.approx(26400 / 27000)
    assert week["performance"] == pytest.approx(27000 / 28800)


def test_oee_product_daily_splits_the_day_by_product():
    silver = silver_day()
    three_products(silver)
    con = build_marts(silver, config(), MARTS)
    got = {r["product"]: r for r in rows(con, "select * from oee_product_daily")}
    assert set(got) == {"A", "B", "C"}
    a, b, c = got["A"], got["B"], got["C"]
    assert (a["product_name"], b["product_name"], c["product_name"]) == ("Product A", "Product B", "Product C")
    # A: 05:00-07:00 = 7,200 s on the machine, all in the shift and running; 7,000 pieces at 1.0 s
    assert a["calendar_time_s"] == pytest.approx(7200) and a["planned_production_time_s"] == pytest.approx(7200)
    assert a["run_time_s"] == pytest.approx(7200) and a["total_count"] == 7000 and a["reject_count"] == 100
    assert a["ideal_cycle_time_s"] == 1.0
    assert a["performance"] == pytest.approx(7000 / 7200)
    assert a["quality"] == pytest.approx(6900 / 7000)
    # B: 3 h, 20,000 at 0.5 s = 10,000 s ideal
    assert b["run_time_s"] == pytest.approx(10800) and b["performance"] == pytest.approx(10000 / 10800)
    # C: 10:00 to the day's end at 05:00 = 19 h = 68,400 s on the machine, of which the shift's last 3 h
    assert c["calendar_time_s"] == pytest.approx(68400) and c["scheduled_time_s"] == pytest.approx(10800)
    assert c["planned_production_time_s"] == pytest.approx(10800)
    assert c["ideal_time_s"] == pytest.approx(10000) and c["performance"] == pytest.approx(10000 / 10800)
    assert c["oee"] == pytest.approx((5000 - 250) * 2.0 / 10800)
    for r in got.values():
        assert r["availability"] * r["performance"] * r["quality"] == pytest.approx(r["oee"], rel=1e-12)
    # the products' rows add up to the machine's day
    (day,) = rows(con, "select * from oee_daily")
    for column in ("calendar_time_s", "planned_production_time_s", "run_time_s", "ideal_time_s",
                   "fully_productive_time_s", "total_count", "reject_count"):  # fmt: skip
        assert sum(r[column] for r in got.values()) == pytest.approx(day[column]), column


def test_an_unknown_product_counts_at_the_machines_own_cycle_and_is_flagged():
    silver = silver_day()
    silver.running("L1", "FILLER")
    # A for 2 h, then the tag says 'X9', no catalog id: product 'unknown' for the rest of the day
    silver.run("L1", "FILLER", "A", DAY_START, utc(MON, 7))
    silver.run("L1", "FILLER", "unknown", utc(MON, 7), silver.end, value="X9")
    silver.count("L1", "FILLER", "total", utc(MON, 7), 7000)
    silver.count("L1", "FILLER", "total", SHIFT_END, 15000)
    catalog = [{"id": "A", "name": "Product A", "ideal_cycle_time_s": 0.5}]
    con = build_marts(silver, config(catalog), MARTS)
    (row,) = rows(con, "select * from oee_daily")
    # never dropped: 7,000 + 15,000 pieces; ideal 7,000 x 0.5 (A) + 15,000 x 1.0 (the machine's own) = 18,500 s
    assert row["total_count"] == 22000
    assert row["ideal_time_s"] == pytest.approx(18500)
    assert row["performance"] == pytest.approx(18500 / 28800)
    # 07:00-13:00 = 21,600 s of the 28,800 s run on an unknown product: 75 % > 1 %
    assert row["data_quality_ok"] is False
    assert "product unknown for 21600.0 s of run time (75.0 %)" in row["data_quality_reason"]
    products = {r["product"]: r for r in rows(con, "select * from oee_product_daily")}
    assert products["unknown"]["run_time_s"] == pytest.approx(21600)
    assert products["unknown"]["total_count"] == 15000 and products["unknown"]["ideal_cycle_time_s"] == 1.0
    assert products["unknown"]["data_quality_ok"] is False
    (state_tag,) = rows(con, "select * from data_quality_daily where role = 'state'")
    assert state_tag["unknown_product_run_s"] == pytest.approx(21600)


def test_a_minute_of_unknown_product_is_not_flagged():
    silver = silver_day()
    silver.running("L1", "FILLER")
    # 60 s of 28,800 s run time on no known product: 0.2 % <= 1 %
    silver.run("L1", "FILLER", "unknown", DAY_START, utc(MON, 5 + 1 / 60))
    silver.run("L1", "FILLER", "A", utc(MON, 5 + 1 / 60), silver.end)
    silver.count("L1", "FILLER", "total", SHIFT_END, 20000)
    con = build_marts(silver, config(), MARTS)
    (row,) = rows(con, "select data_quality_reason from oee_daily")
    # (flagged only for its silent counter, read once at the shift's end)
    assert "product unknown" not in row["data_quality_reason"]
    (state_tag,) = rows(con, "select unknown_product_run_s from data_quality_daily where role = 'state'")
    assert state_tag["unknown_product_run_s"] == pytest.approx(60)


def test_a_plant_without_products_keeps_the_machines_own_cycle_and_no_flag():
    silver = silver_day()
    silver.running("L1", "FILLER")
    # no catalog and no production runs: every piece at the machine's own 1.0 s
    silver.count("L1", "FILLER", "total", SHIFT_END, 25000)
    silver.count("L1", "FILLER", "reject", SHIFT_END, 500)
    con = build_marts(silver, config(products=None), MARTS)
    (row,) = rows(con, "select * from oee_daily")
    assert row["ideal_cycle_time_s"] == 1.0
    assert row["ideal_time_s"] == 25000.0 and row["fully_productive_time_s"] == 24500.0
    assert row["quality"] == 24500 / 25000  # from the counts, exactly
    assert row["performance"] == 25000 / 28800
    assert "product unknown" not in row["data_quality_reason"]
    (only,) = rows(con, "select * from oee_product_daily")
    # the whole day on product 'unknown' at the machine's cycle: the machine's own numbers
    assert only["product"] == "unknown" and only["calendar_time_s"] == pytest.approx(86400)
    assert only["oee"] == pytest.approx(row["oee"]) and only["total_count"] == 25000
    (state_tag,) = rows(con, "select unknown_product_run_s from data_quality_daily where role = 'state'")
    assert state_tag["unknown_product_run_s"] == pytest.approx(28800)


def test_line_and_site_rollups_of_machines_on_different_products():
    silver = silver_day()
    products = [
        {"id": "A", "name": "Product A", "ideal_cycle_time_s": 1.0},
        {"id": "C", "name": "Product C", "ideal_cycle_time_s": 2.0, "machines": {"PACKER": 4.0}},
    ]
    for machine, product in (("FILLER", "A"), ("PACKER", "C")):
        silver.running("L1", machine)
        silver.run("L1", machine, product, DAY_START, silver.end)
    # FILLER on A (1.0 s): 25,000 pieces, 500 rejected -> ideal 25,000 s, fully productive 24,500 s
    silver.count("L1", "FILLER", "total", SHIFT_END, 25000)
    silver.count("L1", "FILLER", "reject", SHIFT_END, 500)
    # PACKER on C at its override 4.0 s: 6,000 pieces, 60 rejected -> ideal 24,000 s, fully productive 23,760 s
    silver.count("L1", "PACKER", "total", SHIFT_END, 6000)
    silver.count("L1", "PACKER", "reject", SHIFT_END, 60)
    con = build_marts(silver, config(products, packer=True), MARTS)
    packer = rows(con, "select * from oee_daily where machine = 'PACKER'")[0]
    assert packer["ideal_cycle_time_s"] == 4.0 and packer["performance"] == pytest.approx(24000 / 28800)
    # line and site: planned = run = 2 x 28,800 = 57,600 machine-s; ideal 49,000 s; fully productive 48,260 s
    for mart in ("oee_line_daily", "oee_site_daily"):
        (r,) = rows(con, f"select * from {mart}")
        assert r["ideal_time_s"] == pytest.approx(49000), mart
        assert r["performance"] == pytest.approx(49000 / 57600), mart
        assert r["quality"] == pytest.approx(48260 / 49000), mart
        assert r["oee"] == pytest.approx(48260 / 57600), mart
        assert r["availability"] * r["performance"] * r["quality"] == pytest.approx(r["oee"], rel=1e-12), mart


def product_row(local: str, text: str) -> str:
    """An AVEVA History row of the text product tag: no Value, the product id in vValue."""
    return f"{local}.000,L1.FILLER.Product,,{text},0,192,192,Delta\n"


def test_the_worked_example_end_to_end_from_a_product_tag(plant_factory):
    # The same shift as above through the real landing, day build and publish: the product tag says A at
    # 06:00, B at 08:00 and C at 11:00 (Berlin); the counters read at each change and at the shift's end.
    spec = one_machine_config()
    spec["products"] = CATALOG
    spec["lines"][0]["machines"][0]["product_tag"] = "L1.FILLER.Product"
    plant = plant_factory(spec)
    plant.export(
        "History_20260302.csv",
        [
            aveva_row("2026-03-02 06:00:00", "L1.FILLER.State", 1),
            product_row("2026-03-02 06:00:00", "A"),
            product_row("2026-03-02 08:00:00", "B"),
            product_row("2026-03-02 11:00:00", "C"),
            aveva_row("2026-03-02 06:00:00", "L1.FILLER.Total", 0),
            aveva_row("2026-03-02 06:00:00", "L1.FILLER.Reject", 0),
            aveva_row("2026-03-02 08:00:00", "L1.FILLER.Total", 7000),  # A: 7,000 pieces, 100 rejected
            aveva_row("2026-03-02 08:00:00", "L1.FILLER.Reject", 100),
            aveva_row("2026-03-02 11:00:00", "L1.FILLER.Total", 27000),  # B: 20,000 pieces
            aveva_row("2026-03-02 11:00:00", "L1.FILLER.Reject", 100),
            aveva_row("2026-03-02 14:00:00", "L1.FILLER.Total", 32000),  # C: 5,000 pieces, 250 rejected
            aveva_row("2026-03-02 14:00:00", "L1.FILLER.Reject", 350),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    row = plant.oee("2026-03-02")
    # ideal 7,000 x 1.0 + 20,000 x 0.5 + 5,000 x 2.0 = 27,000 s over 28,800 s run; fully productive
    # 27,000 - (100 x 1.0 + 250 x 2.0) = 26,400 s
    assert (row["total_count"], row["reject_count"]) == (32000, 350)
    assert row["performance"] == pytest.approx(0.9375)
    assert row["quality"] == pytest.approx(26400 / 27000)
    assert row["oee"] == pytest.approx(26400 / 28800)
    assert "product unknown" not in (row["data_quality_reason"] or "")
    by_product = plant.query(
        "select product, run_time_s, total_count, ideal_time_s from oee_product_daily order by product"
    )
    assert by_product == [
        ("A", pytest.approx(7200), 7000, pytest.approx(7000)),
        ("B", pytest.approx(10800), 20000, pytest.approx(10000)),
        ("C", pytest.approx(10800), 5000, pytest.approx(10000)),
    ]


def test_the_audit_checks_each_products_times_and_ratios():
    silver = silver_day()
    three_products(silver)
    con = build_marts(silver, config(), [*MARTS, "oee_shift", "oee_line_shift"])
    assert audit_marts(con, [MON]) == []
    # B ran 10,800 s of its 10,800 s planned; an hour more than planned cannot be
    con.execute("update oee_product_daily set run_time_s = run_time_s + 3600 where product = 'B'")
    (problem,) = audit_marts(con, [MON])
    assert (problem.check, problem.mart, problem.machine) == ("times_nest", "oee_product_daily", "FILLER")
    assert problem.detail == "product B: run_time_s 14400 > planned_production_time_s 10800"


def test_a_short_product_run_whose_counts_read_across_the_change_is_flagged_not_trusted():
    silver = silver_day()
    s = silver
    s.running("L1", "FILLER")
    # A ran 05:00-12:55 UTC, B only the last five minutes; the counter is read every half hour, so the 13:00
    # reading counts 1,500 pieces of which most were A's, all of them B's by the reading's time
    s.run("L1", "FILLER", "A", DAY_START, utc(MON, 12 + 55 / 60))
    s.run("L1", "FILLER", "B", utc(MON, 12 + 55 / 60), s.end)
    for half_hour in range(1, 17):  # 05:30 ... 13:00 UTC
        s.count("L1", "FILLER", "total", utc(MON, 5 + half_hour / 2), 1500)
    con = build_marts(silver, config(), MARTS)
    products = {r["product"]: r for r in rows(con, "select * from oee_product_daily")}
    # B: 1,500 x 0.5 s = 750 s of ideal time in 300 s of run time: performance 2.5, never trusted
    assert products["B"]["performance"] == pytest.approx(750 / 300)
    assert products["B"]["data_quality_ok"] is False
    assert "performance 2.5 > 1 on this product" in products["B"]["data_quality_reason"]
    # A: 15 readings x 1,500 at 1.0 s = 22,500 s in 28,500 s; the machine-day: 23,250 s in 28,800 s
    assert products["A"]["performance"] == pytest.approx(22500 / 28500)
    assert products["A"]["data_quality_ok"] is True, products["A"]["data_quality_reason"]
    (day,) = rows(con, "select performance, data_quality_ok from oee_daily")
    assert day["performance"] == pytest.approx(23250 / 28800) and day["data_quality_ok"] is True
