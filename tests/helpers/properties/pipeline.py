"""Running the real pipeline on a generated plant: write the exports, land them, build the days."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from deltalake import DeltaTable

from tests.helpers.exports import HEADER
from tests.helpers.lakehouse import Plant

from .plants import Arrival, Export, PlantCase


def write_export(plant: Plant, export: Export) -> None:
    path = plant.landing / "historian" / export.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(export.lines), encoding="utf-8")


def build_days(plant: Plant, days: list[dt.date]) -> None:
    """Silver for every day, and the marts with the last: its mart run publishes the day before too
    (two days at most here), as the morning run does."""
    silver = [a for a in plant.day_assets if not any(k.to_user_string().startswith("mart__") for k in a.keys)]
    for day in days[:-1]:
        result = dg.materialize(silver, partition_key=day.isoformat(), resources={"lakehouse": plant.resource})
        assert result.success
    plant.build_day(days[-1].isoformat())


@contextmanager
def built_plant(case: PlantCase, arrival: Arrival, build_between: bool = False) -> Iterator[Plant]:
    """A fresh lakehouse (one per example) with the arrival's files landed, in its order, and the
    case's days built; with `build_between`, the days are built after every landing run too."""
    with tempfile.TemporaryDirectory(prefix="iiot-property-") as tmp:
        plant = Plant(Path(tmp), case.config())
        for i, export in enumerate(arrival.exports):
            write_export(plant, export)
            if i in arrival.land_after:
                plant.land()
                if build_between and i != len(arrival.exports) - 1:
                    build_days(plant, case.days)
        build_days(plant, case.days)
        yield plant


def one_file(case: PlantCase) -> Arrival:
    """Every point once, in time order, in a single file landed once: the reference arrival."""
    return Arrival([Export("History_all.csv", case.rows(), 0, "History_all.csv")], [0])


def marts_snapshot(plant: Plant) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every published mart table, whole, in a stable order."""
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' order by all"
            ).fetchall()
        ]
        out = {}
        for name in names:
            cur = con.execute(f'select * from "{name}" order by all')
            out[name] = ([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        con.close()


def rows_as_dicts(plant: Plant, sql: str) -> list[dict]:
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def delta_rows(plant: Plant, table: str, sql: str) -> list[tuple] | None:
    """Rows of a query on one of the plant's Delta tables, registered as `t`; None if the table was
    never written (the quarantine of a landing without a bad row)."""
    if not (plant.root / table / "_delta_log").exists():
        return None
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("t", DeltaTable(str(plant.root / table)).to_pyarrow_dataset())
        return con.execute(sql).fetchall()
    finally:
        con.close()
