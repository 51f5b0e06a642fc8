"""Every mart an asset of its own, materialized with its table and the rows of the production day; silver
likewise."""

from __future__ import annotations

from pathlib import Path

import duckdb
from deltalake import DeltaTable

from tests.helpers.plant import one_machine_config
from tests.helpers.worked_example import ROWS

REPO = Path(__file__).resolve().parents[2]
DAY = "2026-03-02"
MARTS = sorted(p.stem for p in (REPO / "sql" / "marts").glob("*.yml"))


def test_each_mart_is_materialized_with_its_table_and_the_rows_of_the_day(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export("History_20260302.csv", ROWS)
    plant.land()
    result = plant.build_day(DAY)
    metadata = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    assert {k for k in metadata if k.startswith("mart__")} == {f"mart__{m}" for m in MARTS}
    # one machine (FILLER on L1) and one production day; the day before has no silver, so only the day is
    # rebuilt: oee_daily and dim_machine have one row, the site one row
    oee = metadata["mart__oee_daily"]
    assert oee["dagster/table_name"] == "marts.duckdb:main.oee_daily"
    assert oee["dagster/row_count"] == oee["rows_rebuilt"] == 1
    assert oee["days_rebuilt"] == [DAY]
    assert metadata["mart__dim_machine"]["dagster/row_count"] == 1
    assert metadata["mart__oee_site_daily"]["dagster/row_count"] == 1

    # silver: the rows written for the day, as the Delta table holds them, and where it is
    states = metadata["silver__machine_states"]
    location = plant.root / "silver__machine_states"
    assert states["dagster/table_name"] == str(location)
    con = duckdb.connect()
    try:
        con.register("states", DeltaTable(str(location)).to_pyarrow_dataset())
        (rows,) = con.execute("select count(*) from states where day = ?", [DAY]).fetchall()[0]
    finally:
        con.close()
    assert states["dagster/row_count"] == rows > 0
