"""The same production day, its product told once by a product tag and once by an orders export, gives the
same marts: performance at each product's rate, the changeover, the products per hour and per day."""

from __future__ import annotations

import datetime as dt

import pytest

from assets.demo.formats import write_orders_csv
from tests.helpers.exports import aveva_row, aveva_text_row
from tests.helpers.lakehouse import Plant
from tests.helpers.plant import one_machine_config

BERLIN = dt.timezone(dt.timedelta(hours=1))  # Europe/Berlin on 2026-03-02: UTC+1
PRODUCTS = [
    {"id": "A", "name": "product A", "ideal_cycle_time_s": 1.0},
    {"id": "B", "name": "product B", "ideal_cycle_time_s": 0.5},
]
DAY = "2026-03-02"
# Monday, shift 06:00-14:00 with no break. Running 06:00-10:00, a planned stop 10:00-10:20, running
# 10:20-14:00, not scheduled from 14:00. The total counter reads every two hours; 100 rejects at 14:00.
MACHINE_DAY = [
    aveva_row(f"{DAY} 06:00:00", "L1.FILLER.State", 1),
    aveva_row(f"{DAY} 10:00:00", "L1.FILLER.State", 2),
    aveva_row(f"{DAY} 10:20:00", "L1.FILLER.State", 1),
    aveva_row(f"{DAY} 14:00:00", "L1.FILLER.State", 4),
    *(
        aveva_row(f"{DAY} {hour:02d}:00:00", "L1.FILLER.Total", total)
        for hour, total in ((6, 0), (8, 6000), (10, 12000), (12, 24000), (14, 36000))
    ),
    aveva_row(f"{DAY} 06:00:00", "L1.FILLER.Reject", 0),
    aveva_row(f"{DAY} 14:00:00", "L1.FILLER.Reject", 100),
]
MARTS = (
    "oee_daily",
    "oee_shift",
    "oee_product_daily",
    "changeovers",
    "production_hourly",
    "downtime_events",
    "reliability_daily",
)


def _plant(tmp_path, by_tag: bool) -> Plant:
    config = one_machine_config()
    config["products"] = PRODUCTS
    if by_tag:
        config["lines"][0]["machines"][0]["product_tag"] = "L1.FILLER.Product"
    else:
        config["sources"].append({"name": "orders", "format": "orders_csv", "folder": "orders"})
    folder = tmp_path / ("tag" if by_tag else "orders")
    folder.mkdir()
    plant = Plant(folder, config)
    if by_tag:
        products = [
            aveva_text_row(f"{DAY} 06:00:00", "L1.FILLER.Product", "A"),
            aveva_text_row(f"{DAY} 10:10:00", "L1.FILLER.Product", "B"),
        ]
    else:
        at = lambda hour, minute=0: dt.datetime(2026, 3, 2, hour, minute, tzinfo=BERLIN)  # noqa: E731
        order = {"line": "L1", "machine": "FILLER", "planned_qty": 20000}
        write_orders_csv(
            plant.landing / "orders" / "orders.csv",
            [
                order
                | {"order_id": "1", "product": "A", "planned_start": at(6), "planned_end": at(10)}
                | {"actual_start": at(6), "actual_end": at(10, 10)},
                # running: its window stays open, as the product tag's last value holds
                order
                | {"order_id": "2", "product": "B", "planned_start": at(10, 10), "planned_end": at(14)}
                | {"actual_start": at(10, 10)},
            ],
            timezone="Europe/Berlin",
        )
        products = []
    plant.export("day.csv", [*MACHINE_DAY, *products])
    plant.land()
    plant.build_day(DAY)
    return plant


@pytest.fixture(scope="module")
def plants(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("product_sources")
    return _plant(tmp_path, by_tag=True), _plant(tmp_path, by_tag=False)


def test_product_tag_and_orders_give_the_same_marts(plants):
    by_tag, by_orders = plants
    for mart in MARTS:
        rows = f"select * from {mart} order by all"
        assert by_tag.query(rows) == by_orders.query(rows), mart
    # the data quality of every tag but the product tag, which only one of them has (no order is a tag)
    quality = "select * from data_quality_daily where tag <> 'L1.FILLER.Product' order by all"
    assert by_tag.query(quality) == by_orders.query(quality)
    assert len(by_tag.query(quality)) == 4  # the state, total, reject and energy tags of FILLER


def test_performance_counts_each_product_at_its_own_rate(plants):
    for plant in plants:
        oee = plant.oee(DAY)
        # A ran until 10:10: the readings at 08:00 and 10:00 count 6,000 + 6,000 at 1.0 s; B's at 12:00 and
        # 14:00 count 12,000 + 12,000 at 0.5 s: ideal time 12,000 + 12,000 = 24,000 s. Run time 06:00-10:00
        # and 10:20-14:00 = 14,400 + 13,200 = 27,600 s of the 28,800 s planned.
        assert oee["run_time_s"] == 27_600
        assert oee["performance"] == pytest.approx(24_000 / 27_600)
        # the 100 rejects are B's (0.5 s each): fully productive 12,000 + 23,900 * 0.5 = 23,950 s
        assert oee["quality"] == pytest.approx(23_950 / 24_000)
        assert oee["oee"] == pytest.approx(23_950 / 28_800)
        assert oee["availability"] * oee["performance"] * oee["quality"] == pytest.approx(oee["oee"])
        # the change from A to B: A's last count at 10:00 to B's first at 12:00, against the 1,800 s default
        assert plant.query("select from_product, to_product, duration_s, target_s, over_target_s from changeovers") == [
            ("A", "B", 7200.0, 1800.0, 5400.0)
        ]
        assert plant.query(
            "select product, total_count, good_count from oee_product_daily where day = ? order by product",
            [dt.date(2026, 3, 2)],
        ) == [("A", 12_000, 12_000), ("B", 24_000, 23_900)]


def test_orders_of_two_exports_that_overlap_on_a_machine_flag_its_day(tmp_path):
    config = one_machine_config()
    config["products"] = PRODUCTS
    config["sources"].append({"name": "orders", "format": "orders_csv", "folder": "orders"})
    plant = Plant(tmp_path, config)
    at = lambda hour, minute=0: dt.datetime(2026, 3, 2, hour, minute, tzinfo=BERLIN)  # noqa: E731
    order = {"line": "L1", "machine": "FILLER", "planned_qty": 20000}
    # each export is consistent in itself, so both land; together they claim 09:00-10:10 twice
    write_orders_csv(
        plant.landing / "orders" / "mes_a.csv",
        [order | {"order_id": "1", "product": "A", "planned_start": at(6), "planned_end": at(10, 10)}
         | {"actual_start": at(6), "actual_end": at(10, 10)}],
        timezone="Europe/Berlin",
    )  # fmt: skip
    write_orders_csv(
        plant.landing / "orders" / "mes_b.csv",
        [order | {"order_id": "2", "product": "B", "planned_start": at(9), "planned_end": at(14)}
         | {"actual_start": at(9), "actual_end": at(14)}],
        timezone="Europe/Berlin",
    )  # fmt: skip
    plant.export("day.csv", MACHINE_DAY)
    plant.land()
    plant.build_day(DAY)
    oee = plant.oee(DAY)
    # 09:00-10:10 is 70 min; order 2 started later, so it gives the product from 09:00
    assert oee["data_quality_ok"] is False
    assert "orders 1 and 2 overlap for 70.0 min: the later-started order is taken" in oee["data_quality_reason"]
