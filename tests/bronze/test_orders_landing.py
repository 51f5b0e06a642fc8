"""Landing an orders export through the real landing asset: one bronze point per order, the rest quarantined,
and a later export of an order superseding the earlier one."""

from __future__ import annotations

import datetime as dt
import json
import os

import duckdb
from deltalake import DeltaTable

from assets.demo.formats import write_orders_csv
from tests.helpers.cli import CliPlant
from tests.helpers.plant import one_machine_config

UTC = dt.UTC
BERLIN = dt.timezone(dt.timedelta(hours=1))  # Europe/Berlin in March before 2026-03-29: UTC+1


def orders_config(options: dict | None = None) -> dict:
    """One machine (L1/FILLER), the catalog's product 033 and an orders source in Berlin."""
    config = one_machine_config()
    config["products"] = [{"id": "033", "name": "0.33 l bottle", "ideal_cycle_time_s": 0.5}]
    source = {"name": "orders", "format": "orders_csv", "folder": "orders", "timezone": "Europe/Berlin"}
    config["sources"].append({**source, **({"options": options} if options else {})})
    return config


def orders_plant(plant_factory, options: dict | None = None):
    return plant_factory(orders_config(options))


def rows(plant, name: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", DeltaTable(str(plant.root / name)).to_pyarrow_dataset())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def order(order_id: str, product: str = "033", machine: str = "FILLER", **times) -> dict:
    return {"order_id": order_id, "product": product, "line": "L1", "machine": machine, "planned_qty": 5000, **times}


def backdate(path, minutes: int) -> None:
    stamp = (dt.datetime.now(UTC) - dt.timedelta(minutes=minutes)).timestamp()
    os.utime(path, (stamp, stamp))


def test_orders_land_as_points_and_bad_orders_in_quarantine_rows_in_equal_landed_plus_quarantined(plant_factory):
    plant = orders_plant(plant_factory, {"timestamp_format": "%d.%m.%Y %H:%M"})
    at = lambda h: dt.datetime(2026, 3, 2, h, tzinfo=BERLIN)  # noqa: E731
    write_orders_csv(
        plant.landing / "orders" / "orders_0302.csv",
        [
            order("4711", planned_start=at(6), planned_end=at(14), actual_start=at(6)),
            order("4712", product="999", planned_start=at(14), planned_end=at(22)),
            order("4713", machine="CAPPER", planned_start=at(14), planned_end=at(22)),
            order("4714", machine=None, planned_start=at(13), planned_end=at(15)),
        ],
        "Europe/Berlin",
        {"timestamp_format": "%d.%m.%Y %H:%M"},
    )
    assert (plant.landing / "orders" / "orders_0302.csv").read_text().splitlines()[1] == (
        "4711,033,L1,FILLER,5000,02.03.2026 06:00,02.03.2026 14:00,02.03.2026 06:00,"
    )

    plant.land()

    points = rows(plant, "bronze_historian__points", "select tag, ts, value, value_text, quality, source_line from t")
    # 06:00 Berlin (UTC+1) = 05:00 UTC
    assert [p[:3] + p[4:] for p in points] == [
        ("order:4711", dt.datetime(2026, 3, 2, 5, tzinfo=UTC), 5000.0, "good", 2)
    ]
    assert json.loads(points[0][3]) == {
        "actual_end": None,
        "actual_start": "2026-03-02T05:00:00Z",
        "line": "L1",
        "machine": "FILLER",
        "order_id": "4711",
        "planned_end": "2026-03-02T13:00:00Z",
        "planned_qty": 5000,
        "planned_start": "2026-03-02T05:00:00Z",
        "product": "033",
    }
    assert rows(plant, "bronze__quarantine", "select line, reason from t order by line") == [
        (3, "product '999' is not in the products catalog"),
        (4, "machine 'CAPPER' is not a machine with OEE on line L1 (FILLER)"),
        # the whole line from 13:00 meets 4711 (06:00-14:00, not finished) on FILLER
        (5, "overlaps order 4711 on L1/FILLER"),
    ]
    assert rows(plant, "bronze__file_ledger", "select status, rows_landed, rows_quarantined from t") == [
        ("landed", 1, 3)  # 4 order lines in = 1 landed + 3 quarantined
    ]


def test_a_later_export_with_actual_end_supersedes_the_order_once(plant_factory):
    plant = orders_plant(plant_factory)
    at = lambda h, m=0: dt.datetime(2026, 3, 2, h, m, tzinfo=BERLIN)  # noqa: E731
    running = order("4711", planned_start=at(6), planned_end=at(14), actual_start=at(6, 5))
    first = write_orders_csv(plant.landing / "orders" / "orders_0800.csv", [running], "Europe/Berlin")
    backdate(first, 10)
    plant.land()

    done = {**running, "actual_end": at(13, 40)}
    write_orders_csv(plant.landing / "orders" / "orders_1400.csv", [done], "Europe/Berlin")
    plant.land()
    plant.land()  # nothing new: the same state

    points = rows(plant, "bronze_historian__points", "select tag, ts, value_text, source_file from t")
    assert [(tag, ts, source_file) for tag, ts, _, source_file in points] == [
        ("order:4711", dt.datetime(2026, 3, 2, 5, tzinfo=UTC), "orders/orders_1400.csv")
    ]
    # 13:40 Berlin = 12:40 UTC
    assert json.loads(points[0][2])["actual_end"] == "2026-03-02T12:40:00Z"
    assert json.loads(points[0][2])["actual_start"] == "2026-03-02T05:05:00Z"
    ledger = rows(plant, "bronze__file_ledger", "select source_file, rows_new, rows_changed from t order by 1")
    assert ledger == [("orders/orders_0800.csv", 1, 0), ("orders/orders_1400.csv", 0, 1)]


def test_order_tags_are_mapped_to_the_orders_not_reported_as_unmapped(plant_factory, tmp_path):
    config = orders_config()
    plant = plant_factory(config)
    start = dt.datetime(2026, 3, 2, 6, tzinfo=BERLIN)
    write_orders_csv(
        plant.landing / "orders" / "o.csv",
        [order("4711", planned_start=start, planned_end=start + dt.timedelta(hours=8))],
        "Europe/Berlin",
    )
    plant.land()

    assert rows(plant, "bronze__tag_catalog", "select tag, mapped, role from t") == [("order:4711", True, "order")]
    cli = CliPlant(tmp_path, config, lake=plant.root)
    check = cli.cli("check-config").stdout.splitlines()
    assert "seen tags that nothing maps: 0" in check
    tags = cli.cli("tags").stdout.splitlines()
    assert tags[-1] == "1 tag(s), 0 not mapped"
    assert [line.split()[0] for line in tags if line.startswith("order:")] == ["order:4711"]
    assert [line.split()[-1] for line in tags if line.startswith("order:")] == ["orders"]
