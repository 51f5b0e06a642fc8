"""silver__production_runs and silver__orders through the real landing and day build: the product from the
product tag (held until the next point, bad or unknown values 'unknown' and kept), else from the order that
covers the time, else 'unknown'; the runs tile the day."""

from __future__ import annotations

import datetime as dt

from assets.demo.formats import write_orders_csv
from tests.helpers.exports import aveva_row, aveva_text_row
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import silver

BERLIN = dt.timezone(dt.timedelta(hours=1))  # Europe/Berlin on 2026-03-02: UTC+1
UTC = dt.UTC
PRODUCTS = [
    {"id": "A", "name": "product A", "ideal_cycle_time_s": 1.0},
    {"id": "B", "name": "product B", "ideal_cycle_time_s": 0.5},
]


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Berlin wall-clock time of March 2026 in UTC."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


RUNS = (
    'select start, "end", product, product_value, order_id, source, run_start, run_end '
    "from t where day = date '2026-03-02' order by start"
)


def test_the_product_tag_holds_until_its_next_point_and_bad_or_unknown_values_are_unknown(plant_factory):
    config = one_machine_config()
    config["products"] = PRODUCTS
    config["lines"][0]["machines"][0]["product_tag"] = "L1.FILLER.Product"
    plant = plant_factory(config)
    plant.export(
        "products.csv",
        [
            aveva_text_row("2026-03-02 05:00:00", "L1.FILLER.Product", "A"),  # before the 06:00 day start: held in
            aveva_text_row("2026-03-02 08:00:00", "L1.FILLER.Product", "B"),
            aveva_text_row("2026-03-02 10:00:00", "L1.FILLER.Product", "Z"),  # no catalog id
            aveva_text_row("2026-03-02 11:00:00", "L1.FILLER.Product", "B", quality=1),  # bad
            aveva_text_row("2026-03-02 12:00:00", "L1.FILLER.Product", "A"),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # the day is 06:00 to 06:00 Berlin; A's run began at the 05:00 point and nothing ends the last run
    assert silver(plant, "silver__production_runs", RUNS) == [
        (utc(2, 6), utc(2, 8), "A", None, None, "tag", utc(2, 5), utc(2, 8)),
        (utc(2, 8), utc(2, 10), "B", None, None, "tag", utc(2, 8), utc(2, 10)),
        (utc(2, 10), utc(2, 11), "unknown", "Z", None, "tag", utc(2, 10), utc(2, 11)),
        (utc(2, 11), utc(2, 12), "unknown", None, None, "tag", utc(2, 11), utc(2, 12)),
        (utc(2, 12), utc(3, 6), "A", None, None, "tag", utc(2, 12), None),
    ]
    # the runs tile the day: 24 h
    assert silver(plant, "silver__production_runs", "select sum(duration_s) from t") == [(86_400.0,)]


def test_without_a_product_tag_the_order_covering_the_time_gives_the_product(plant_factory):
    config = one_machine_config()
    config["products"] = PRODUCTS
    config["sources"].append({"name": "orders", "format": "orders_csv", "folder": "orders"})
    plant = plant_factory(config)
    at = lambda hour, minute=0: dt.datetime(2026, 3, 2, hour, minute, tzinfo=BERLIN)  # noqa: E731
    order = {"line": "L1", "machine": None, "planned_qty": 1000}
    write_orders_csv(
        plant.landing / "orders" / "orders.csv",
        [
            # started and finished: its actual window counts, not the planned one
            order
            | {"order_id": "4711", "product": "A", "planned_start": at(7), "planned_end": at(10)}
            | {"actual_start": at(6), "actual_end": at(9)},
            # not started: its planned window
            order | {"order_id": "4712", "product": "B", "planned_start": at(9, 30), "planned_end": at(14)},
        ],
        timezone="Europe/Berlin",
    )
    plant.export("state.csv", [aveva_row("2026-03-02 06:00:00", "L1.FILLER.State", 1)])
    plant.land()
    plant.build_day("2026-03-02")
    assert silver(plant, "silver__production_runs", RUNS) == [
        (utc(2, 6), utc(2, 9), "A", None, "4711", "order", utc(2, 6), utc(2, 9)),
        (utc(2, 9), utc(2, 9, 30), "unknown", None, None, "unknown", utc(2, 9), utc(2, 9, 30)),
        (utc(2, 9, 30), utc(2, 14), "B", None, "4712", "order", utc(2, 9, 30), utc(2, 14)),
        # the look-ahead ends a day after the day: the run lasts as far as is known
        (utc(2, 14), utc(3, 6), "unknown", None, None, "unknown", utc(2, 14), None),
    ]
    # both orders touch the day, each on the line's one machine, in their exported version
    assert silver(
        plant,
        "silver__orders",
        "select order_id, product, machine, planned_qty, planned_start, actual_start, actual_end from t order by 1",
    ) == [
        ("4711", "A", "FILLER", 1000.0, utc(2, 7), utc(2, 6), utc(2, 9)),
        ("4712", "B", "FILLER", 1000.0, utc(2, 9, 30), None, None),
    ]
