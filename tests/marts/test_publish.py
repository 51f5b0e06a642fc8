"""Publishing the marts: atomic, without blocking an analyst who holds the file open."""

from __future__ import annotations

import duckdb

from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config


def test_an_open_reader_keeps_a_complete_version_while_the_marts_are_republished(plant_factory):
    plant = plant_factory(one_machine_config())
    plant.export(
        "h.csv",
        [r("2026-03-02 05:00:00", "L1.FILLER.State", 1), r("2026-03-03 10:00:00", "L1.FILLER.State", 3)],
    )
    plant.land()
    plant.build_day("2026-03-02")
    marts = plant.root / "marts.duckdb"

    analyst = duckdb.connect(str(marts), read_only=True)
    try:
        assert analyst.execute("select count(*) from oee_daily").fetchall() == [(1,)]
        plant.build_day("2026-03-03")  # publishes while the analyst holds the old file open
        assert analyst.execute("select count(*), min(day) from oee_daily").fetchall()[0][0] == 1
    finally:
        analyst.close()

    fresh = duckdb.connect(str(marts), read_only=True)
    try:
        rows = fresh.execute("select cast(day as varchar), run_time_s from oee_daily order by day").fetchall()
        comment = fresh.execute(
            "select comment from duckdb_columns() where table_name = 'oee_daily' and column_name = 'oee'"
        ).fetchall()
    finally:
        fresh.close()
    # 03-02: running all shift (8 h); 03-03: running 06:00-10:00 then a jam: 4 h.
    assert rows == [("2026-03-02", 28_800.0), ("2026-03-03", 14_400.0)]
    # OEE is no longer defined as the product A x P x Q, which is NULL for a machine stopped all shift (issue #13)
    assert comment == [
        (
            "fully_productive_time_s / planned_production_time_s, NULL only where planned production time is 0 "
            "(a machine stopped through planned time: 0); = availability x performance x quality where all three "
            "are defined.",
        )
    ]
    assert not list(plant.root.glob(".marts.duckdb.building-*"))


def test_the_marts_open_read_only_in_the_duckdb_command_line_client(plant_factory):
    """The analyst's client: DuckDB's command-line client of the previous minor release (1.5, from the
    duckdb-cli package) opens the published file read-only and runs the README's query; the file
    carries the storage version the README names."""
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from assets.marts.published import storage_version

    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "the duckdb command-line client (duckdb-cli) is part of the dev dependencies"
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5."), version  # the library writing the file is DuckDB 2.0

    plant = plant_factory(one_machine_config())  # one shift 06:00-14:00, no breaks
    # Running from before the shift until a jam at 10:00 that lasts the rest of it: 4 h of 8 planned.
    plant.export(
        "h.csv", [r("2026-03-02 05:00:00", "L1.FILLER.State", 1), r("2026-03-02 10:00:00", "L1.FILLER.State", 3)]
    )
    plant.land()
    plant.build_day("2026-03-02")
    marts = plant.root / "marts.duckdb"
    before = marts.read_bytes()

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    command = re.search(r'duckdb -readonly data/lakehouse/marts\.duckdb \\\n\s+"([^"]+)"', readme)
    assert command, "the README shows how to open the marts in the duckdb client"
    out = subprocess.run(
        [cli, "-readonly", "-csv", str(marts), command.group(1)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.splitlines() == ["line,availability", "L1,0.5"]
    times = "select machine, run_time_s, planned_production_time_s from oee_daily"
    out = subprocess.run(
        [cli, "-readonly", "-csv", str(marts), "-c", times],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.splitlines() == ["machine,run_time_s,planned_production_time_s", "FILLER,14400.0,28800.0"]

    # Read-only: the client cannot change the published file.
    refused = subprocess.run(
        [cli, "-readonly", str(marts), "-c", "create table scratch(a int)"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert "read-only mode" in refused.stdout + refused.stderr
    assert marts.read_bytes() == before

    # Written in DuckDB 1.4's storage format, as the README says; DuckDB 1.4 and newer read it.
    assert storage_version(marts) == "v1.4.0"
    assert "is written in the storage format of DuckDB 1.4 (storage version `v1.4.0`)" in " ".join(readme.split())


def test_every_mart_is_also_a_delta_table_under_gold_with_the_same_rows(plant_factory):
    from deltalake import DeltaTable

    from assets.marts.registry import all_marts

    plant = plant_factory(one_machine_config())
    plant.export(
        "h.csv",
        [r("2026-03-02 05:00:00", "L1.FILLER.State", 1), r("2026-03-03 10:00:00", "L1.FILLER.State", 3)],
    )
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    plant.build_day("2026-03-03")  # a rebuild replaces its days, never adds them again
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        for mart in all_marts():
            gold = DeltaTable(str(plant.root / "gold" / mart.name))
            # The plain protocol every Delta reader (Spark, Trino, Power BI) supports: no table features.
            protocol = gold.protocol()
            assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2), mart.name
            con.register("gold", gold.to_pyarrow_dataset())
            (differences,) = con.execute(
                f"select count(*) from ((select * from {mart.name} except all select * from gold) "
                f"union all (select * from gold except all select * from {mart.name}))"
            ).fetchall()[0]
            assert differences == 0, mart.name
            con.unregister("gold")
        assert con.execute("select count(*) from oee_daily").fetchall() == [(2,)]
    finally:
        con.close()
