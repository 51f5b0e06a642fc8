"""Changeovers: a product change measured from the last count of the old product to the first count (or the
first minute at rate) of the new one, its stops planned stops of reason 'changeover' (never a failure).

States, counts and the calendar come from an AVEVA CSV written here, landed and modelled by the real silver
assets; the product runs are given as silver__production_runs rows; the staging views and mart SQL run in
real DuckDB over them. All times are Europe/Berlin, CET (UTC+1) in March 2026; 2 March is a Monday.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from assets.marts.inputs import register_dimensions, register_silver, register_staging, with_neighbours
from assets.silver.assets import build_silver_assets
from assets.storage import delta, delta_read
from assets.storage.schemas import SILVER_PLANT_CALENDAR, SILVER_PRODUCTION_RUNS
from assets.storage.sql_files import SQL_DIR
from orchestration.partitions import production_day_partitions
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import aveva_text_row
from tests.helpers.plant import EVERY_DAY, one_machine_config

STATE, TOTAL, RUN, JAM = "L1.FILLER.State", "L1.FILLER.Total", 1, 3
CET = dt.timezone(dt.timedelta(hours=1))
PRODUCTS = [{"id": "A", "ideal_cycle_time_s": 0.5}, {"id": "B", "ideal_cycle_time_s": 1.0}]
CHANGEOVERS = {"default_target_s": 1800, "targets": [{"from": "A", "to": "B", "target_s": 2400}]}
CHANGEOVER_ROWS = (
    "select from_product, to_product, strftime(start at time zone 'Europe/Berlin', '%d %H:%M:%S'), "
    "strftime(\"end\" at time zone 'Europe/Berlin', '%d %H:%M:%S'), duration_s, target_s, over_target_s, "
    "in_planned_time_s, in_breaks_s, outside_shifts_s, cast(day as varchar), shift_name from changeovers order by start"
)
STOPS = (
    "select strftime(start at time zone 'Europe/Berlin', '%d %H:%M'), duration_s, in_planned_time_s, in_breaks_s, "
    "category, reason, cast(day as varchar) from downtime_events order by start"
)


def product_row(local_time: str, product: str) -> str:
    """An AVEVA row of the text product tag."""
    return aveva_text_row(local_time, "L1.FILLER.Product", product)


def local(text: str) -> dt.datetime:
    """'YYYY-MM-DD HH:MM' plant-local (CET) as an aware datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CET).astimezone(dt.UTC)


def runs_table(runs: list[tuple[str, str, str | None]], days: list[str], day_start: str) -> pa.Table:
    """silver__production_runs for (product, local start, local end or None) runs that tile the days: each run
    clipped to each production day it overlaps, keeping its whole extent in run_start/run_end."""
    rows = []
    for day in days:
        d0 = local(f"{day} {day_start}")
        d1 = d0 + dt.timedelta(days=1)
        for product, start, end in runs:
            s, e = local(start), local(end) if end else None
            piece_start, piece_end = max(s, d0), min(e or d1, d1)
            if piece_start < piece_end:
                rows.append(
                    {
                        "day": dt.date.fromisoformat(day),
                        "line": "L1",
                        "machine": "FILLER",
                        "start": piece_start,
                        "end": piece_end,
                        "duration_s": (piece_end - piece_start).total_seconds(),
                        "product": product,
                        "product_value": None,
                        "order_id": None,
                        "source": "tag",
                        "run_start": s,
                        "run_end": e,
                    }
                )
    return pa.Table.from_pylist(rows, schema=SILVER_PRODUCTION_RUNS.empty().schema)


class Built:
    """The staging views and marts of some production days, over real silver and the given product runs."""

    def __init__(self, plant, runs: pa.Table, days: list[str]):
        self.days = [dt.date.fromisoformat(d) for d in days]
        self.con = duckdb.connect()
        register_silver(self.con, str(plant.root), with_neighbours(self.days))
        delta_read.register_table(
            self.con,
            "silver__plant_calendar_every_day",
            delta.table_uri(str(plant.root), SILVER_PLANT_CALENDAR.name),
            SILVER_PLANT_CALENDAR,
        )
        self.con.register("silver__production_runs", runs)
        register_dimensions(self.con, plant.config)
        register_staging(self.con, SQL_DIR)
        for name in ("downtime_events", "changeovers", "downtime_pareto"):
            query = (SQL_DIR / "marts" / f"{name}.sql").read_text(encoding="utf-8")
            self.con.execute(f"create table {name} as {query}", {"days": self.days}).fetchall()

    def rows(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


@pytest.fixture
def modelled(plant_factory):
    """A plant whose AVEVA rows are landed and modelled into silver for the given days (no marts: the test
    builds them over its product runs)."""

    def make(config: dict, rows: list[str], days: list[str]):
        plant = plant_factory(config)
        plant.export("h.csv", rows)
        plant.land()
        silver = build_silver_assets(production_day_partitions(plant.config))
        for day in days:
            assert dg.materialize(silver, partition_key=day, resources={"lakehouse": plant.resource}).success
        return plant

    return make


def with_products(config: dict, **changeovers) -> dict:
    return {**config, "products": PRODUCTS, "changeovers": {**CHANGEOVERS, **changeovers}}


def test_a_product_change_inside_a_break_is_one_changeover_against_the_pair_target(modelled):
    # Shift 06:00-14:00 with a break 10:00-10:30. Product A runs until 10:10 (in the break), B until 12:10,
    # then A again. The machine counts every 10 minutes while it runs; it jams 10:00-10:40.
    config = with_products(one_machine_config(breaks=[{"name": "coffee", "start": "10:00", "end": "10:30"}]))
    rows = [
        r("2026-03-02 05:00:00", STATE, RUN),
        r("2026-03-02 10:00:00", STATE, JAM),
        r("2026-03-02 10:40:00", STATE, RUN),
        r("2026-03-02 05:00:00", TOTAL, 0),
        r("2026-03-02 09:50:00", TOTAL, 1000),
        r("2026-03-02 10:00:00", TOTAL, 1100),  # the last count of A
        r("2026-03-02 10:20:00", TOTAL, 1100),  # a reading, no count
        r("2026-03-02 10:45:00", TOTAL, 1150),  # the first count of B
        r("2026-03-02 12:00:00", TOTAL, 1900),  # the last count of B
        r("2026-03-02 12:20:00", TOTAL, 2000),  # the first count of A again
        r("2026-03-02 13:50:00", TOTAL, 3000),
    ]
    plant = modelled(config, rows, ["2026-03-02"])
    runs = runs_table(
        [
            ("A", "2026-03-02 05:00", "2026-03-02 10:10"),
            ("B", "2026-03-02 10:10", "2026-03-02 12:10"),
            ("A", "2026-03-02 12:10", None),
        ],
        ["2026-03-02"],
        "06:00",
    )
    built = Built(plant, runs, ["2026-03-02"])
    # A -> B: 10:00 (last count of A) to 10:45 (first count of B) = 2,700 s: 10:00-10:30 in the break
    # (1,800 s), 10:30-10:45 planned (900 s); the pair's target 2,400 s, so 300 s over.
    # B -> A: 12:00 to 12:20 = 1,200 s, all planned; no pair target: the default 1,800 s, 0 over.
    assert built.rows(CHANGEOVER_ROWS) == [
        ("A", "B", "02 10:00:00", "02 10:45:00", 2_700.0, 2_400.0, 300.0, 900.0, 1_800.0, 0.0, "2026-03-02", "early"),
        ("B", "A", "02 12:00:00", "02 12:20:00", 1_200.0, 1_800.0, 0.0, 1_200.0, 0.0, 0.0, "2026-03-02", "early"),
    ]
    # the jam 10:00-10:40 lies within the changeover: a planned stop of reason changeover, 2,400 s, of which
    # 1,800 s in the break and 600 s (10:30-10:40) in planned production time
    assert built.rows(STOPS) == [("02 10:00", 2_400.0, 600.0, 1_800.0, "planned_stop", "changeover", "2026-03-02")]
    # it keeps the code the state map names (3, Jam)
    assert built.rows("select distinct state_code from stg_machine_states where reason = 'changeover'") == [("3",)]
    # no failure: the Pareto holds the changeover (600 s in planned time) and no jam
    assert built.rows(
        "select reason, category, seconds, events from downtime_pareto where period = 'day' and machine = 'FILLER'"
    ) == [("changeover", "planned_stop", 600.0, 1)]
    # an availability loss of the day: planned stop 600 s, no unplanned stop; planned production time
    # 8 h - 30 min = 27,000 s, run 27,000 - 600 = 26,400 s
    assert built.rows(
        "select planned_production_time_s, run_time_s, planned_stop_time_s, unplanned_stop_time_s "
        "from stg_oee_windows where window_kind = 'day' and day = date '2026-03-02'"
    ) == [(27_000.0, 26_400.0, 600.0, 0.0)]


def test_a_changeover_across_midnight_is_one_row_its_stop_split_per_day(modelled):
    # Production days start at midnight; three shifts cover every hour. A runs until 23:50 on 2 March, B
    # after it; the machine jams 23:45-00:20. Last count of A at 23:40, first count of B at 00:30.
    config = with_products(
        one_machine_config(
            day_start="00:00",
            working_days=EVERY_DAY,
            shifts=[
                {"name": "early", "start": "06:00", "end": "14:00"},
                {"name": "late", "start": "14:00", "end": "22:00"},
                {"name": "night", "start": "22:00", "end": "06:00"},
            ],
        )
    )
    rows = [
        r("2026-03-02 00:00:00", STATE, RUN),
        r("2026-03-02 23:45:00", STATE, JAM),
        r("2026-03-03 00:20:00", STATE, RUN),
        r("2026-03-02 00:00:00", TOTAL, 0),
        r("2026-03-02 23:30:00", TOTAL, 500),
        r("2026-03-02 23:40:00", TOTAL, 600),
        r("2026-03-03 00:10:00", TOTAL, 600),
        r("2026-03-03 00:30:00", TOTAL, 650),
        r("2026-03-03 01:00:00", TOTAL, 2000),
    ]
    days = ["2026-03-02", "2026-03-03"]
    plant = modelled(config, rows, days)
    runs = runs_table([("A", "2026-03-02 00:00", "2026-03-02 23:50"), ("B", "2026-03-02 23:50", None)], days, "00:00")
    built = Built(plant, runs, days)
    # one changeover, 23:40 to 00:30 = 3,000 s, on the day and in the night shift it starts in, all planned
    assert built.rows(CHANGEOVER_ROWS) == [
        ("A", "B", "02 23:40:00", "03 00:30:00", 3_000.0, 2_400.0, 600.0, 3_000.0, 0.0, 0.0, "2026-03-02", "night"),
    ]
    # the jam is one changeover stop of 35 min = 2,100 s, on 2 March
    assert built.rows(STOPS) == [("02 23:45", 2_100.0, 2_100.0, 0.0, "planned_stop", "changeover", "2026-03-02")]
    # its seconds split per day as a stop's: 23:45-24:00 = 900 s on 2 March, 00:00-00:20 = 1,200 s on 3 March
    assert built.rows(
        "select cast(day as varchar), planned_stop_time_s, unplanned_stop_time_s from stg_oee_windows "
        "where window_kind = 'day' order by day"
    ) == [("2026-03-02", 900.0, 0.0), ("2026-03-03", 1_200.0, 0.0)]
    # rebuilt alone, 3 March holds no changeover (it started the day before)
    alone = Built(plant, runs, ["2026-03-03"])
    assert alone.rows("select count(*) from changeovers") == [(0,)]


def test_until_rate_ends_a_changeover_at_the_first_minute_at_the_rate_fraction(modelled):
    # B's ideal cycle is 1 s: at rate_fraction 0.8 a minute must count 0.8 x 60 / 1 = 48 units. A runs until
    # 10:00; the last count of A is at 09:59. B counts every 20 s from 10:05.
    rows = [
        r("2026-03-02 05:00:00", STATE, RUN),
        r("2026-03-02 05:00:00", TOTAL, 0),
        r("2026-03-02 09:59:00", TOTAL, 100),
        r("2026-03-02 10:05:00", TOTAL, 105),  # +5: the first count of B
        r("2026-03-02 10:05:20", TOTAL, 115),  # +10
        r("2026-03-02 10:05:40", TOTAL, 125),  # +10
        r("2026-03-02 10:06:00", TOTAL, 140),  # +15: (10:05:00, 10:06:00] counted 10 + 10 + 15 = 35
        r("2026-03-02 10:06:20", TOTAL, 160),  # +20: (10:05:20, 10:06:20] counted 10 + 15 + 20 = 45
        r("2026-03-02 10:06:40", TOTAL, 180),  # +20: (10:05:40, 10:06:40] counted 15 + 20 + 20 = 55 >= 48
        r("2026-03-02 10:07:00", TOTAL, 200),
    ]
    runs = runs_table(
        [("A", "2026-03-02 05:00", "2026-03-02 10:00"), ("B", "2026-03-02 10:00", None)], ["2026-03-02"], "06:00"
    )
    by_rate = Built(
        modelled(with_products(one_machine_config(), until="rate", rate_fraction=0.8), rows, ["2026-03-02"]),
        runs,
        ["2026-03-02"],
    )
    # 09:59:00 to 10:06:40 = 460 s
    assert by_rate.rows(CHANGEOVER_ROWS)[0][:5] == ("A", "B", "02 09:59:00", "02 10:06:40", 460.0)
    by_count = Built(modelled(with_products(one_machine_config()), rows, ["2026-03-02"]), runs, ["2026-03-02"])
    # until: count ends at the first count of B: 09:59:00 to 10:05:00 = 360 s
    assert by_count.rows(CHANGEOVER_ROWS)[0][:5] == ("A", "B", "02 09:59:00", "02 10:05:00", 360.0)


def test_end_to_end_a_product_tag_change_in_a_break_is_a_changeover_and_no_failure(plant_factory):
    # The first test's day, its products from a text product tag in the same export: A from 05:00, B from
    # 10:10 (in the break 10:00-10:30), A again from 12:10; landed, modelled and published by the real assets.
    config = with_products(one_machine_config(breaks=[{"name": "coffee", "start": "10:00", "end": "10:30"}]))
    config["lines"][0]["machines"][0]["product_tag"] = "L1.FILLER.Product"
    plant = plant_factory(config)
    plant.export(
        "h.csv",
        [
            r("2026-03-02 05:00:00", STATE, RUN),
            r("2026-03-02 10:00:00", STATE, JAM),
            r("2026-03-02 10:40:00", STATE, RUN),
            product_row("2026-03-02 05:00:00", "A"),
            product_row("2026-03-02 10:10:00", "B"),
            product_row("2026-03-02 12:10:00", "A"),
            r("2026-03-02 05:00:00", TOTAL, 0),
            r("2026-03-02 09:50:00", TOTAL, 1000),
            r("2026-03-02 10:00:00", TOTAL, 1100),
            r("2026-03-02 10:20:00", TOTAL, 1100),
            r("2026-03-02 10:45:00", TOTAL, 1150),
            r("2026-03-02 12:00:00", TOTAL, 1900),
            r("2026-03-02 12:20:00", TOTAL, 2000),
            r("2026-03-02 13:50:00", TOTAL, 3000),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # as derived in the first test: A -> B 10:00-10:45 (2,700 s, 900 s planned, 1,800 s in the break, pair
    # target 2,400 s), B -> A 12:00-12:20 (1,200 s, default target 1,800 s)
    assert plant.query(CHANGEOVER_ROWS) == [
        ("A", "B", "02 10:00:00", "02 10:45:00", 2_700.0, 2_400.0, 300.0, 900.0, 1_800.0, 0.0, "2026-03-02", "early"),
        ("B", "A", "02 12:00:00", "02 12:20:00", 1_200.0, 1_800.0, 0.0, 1_200.0, 0.0, 0.0, "2026-03-02", "early"),
    ]
    # the jam inside the changeover is no failure: run 27,000 - 600 = 26,400 s, 0 failures, MTBF/MTTR NULL
    assert plant.query(
        "select run_time_s, failures, failure_time_s, mtbf_s, mttr_s from reliability_daily where day = '2026-03-02'"
    ) == [(26_400.0, 0, 0.0, None, None)]
    assert plant.query(
        "select reason, category, seconds from downtime_pareto where period = 'day' and machine = 'FILLER'"
    ) == [("changeover", "planned_stop", 600.0)]
