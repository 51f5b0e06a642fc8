"""`iiot-lakehouse doctor` finds a damaged lakehouse's problems, names them, and `--repair` brings back
the tables of a clean run.

A plant of three one-day exports is run once by the real CLI; each case copies the lakehouse, damages
it the way a crash, a full disk or a careless hand does (a log entry deleted, a data file deleted, the
newest log entry cut short), and runs the real `doctor` and `doctor --repair` in a subprocess. The
expected tables are the clean run's own, read back before any damage.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from deltalake import DeltaTable

from assets.storage.schemas import DAY_BUILDS
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import marts_rows

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
# when a row was written, not what it says: a repair writes it again later
RUN_TIMES = {"landed_at", "quarantined_at", "updated_at", "published_at", "built_at", "file_version"}


def _env(root: Path) -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))
    } | {
        "PYTHONPATH": str(REPO),
        "PLANT_CONFIG": str(root.parent / "plant.yaml"),
        "LANDING_ROOT": str(root.parent / "landing"),
        "LAKEHOUSE_ROOT": str(root),
        "DAGSTER_HOME": str(root.parent / f"home_{root.name}"),
        "LANDING_SETTLE_SECONDS": "0",
    }


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], cwd=root.parent, env=_env(root), capture_output=True, text=True, timeout=600, check=False
    )


def _tables(root: Path) -> dict[str, list[tuple]]:
    """Every Delta table's rows (without the times they were written) and every mart's rows."""
    found = {}
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    try:
        for log in sorted([*root.glob("*/_delta_log"), *root.glob("gold/*/_delta_log")]):
            name = log.parent.relative_to(root).as_posix()
            dataset = DeltaTable(str(log.parent)).to_pyarrow_dataset()
            columns = ", ".join(f'"{c}"' for c in dataset.schema.names if c not in RUN_TIMES)
            if name == DAY_BUILDS.name:
                # a log of builds: a repair adds its own; what matters is which days and tables are built
                columns = "distinct day, layer, table_name"
            con.register("t", dataset)
            found[name] = con.execute(f"select {columns} from t order by all").fetchall()
            con.unregister("t")
    finally:
        con.close()
    for mart, rows in marts_rows(root / "marts.duckdb").items():
        found[f"marts.{mart}"] = rows
    return found


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict[str, list[tuple]]]:
    """A lakehouse after one clean run of three days' exports, and its tables."""
    base = tmp_path_factory.mktemp("doctor")
    (base / "plant.yaml").write_text(yaml.safe_dump(one_machine_config()), encoding="utf-8")
    for i, day in enumerate(DAYS):
        rows = [
            r(f"{day} 07:00:00", "L1.FILLER.State", 1),
            r(f"{day} 08:00:00", "L1.FILLER.Total", 10 * (i + 1)),
            r(f"{day} 09:00:00", "L1.FILLER.State", 3),
            r(f"{day} 09:10:00", "L1.FILLER.State", 1),
            r(f"{day} 12:00:00", "L1.FILLER.Total", 10 * (i + 1) + 500),
        ]
        write_aveva(base / "landing" / "historian" / f"day{i}.csv", rows)
    root = base / "clean"
    first = _cli(root, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    tables = _tables(root)
    # 3 files of 5 points each landed, every day built and published
    assert len(tables["bronze_historian__points"]) == 15
    assert len(tables["marts.oee_daily"]) == 3
    return root, tables


def _copy(clean_root: Path, name: str) -> Path:
    target = clean_root.parent / name
    shutil.copytree(clean_root, target, symlinks=True)
    return target


def _log(root: Path, table: str, version: int) -> Path:
    return root / table / "_delta_log" / f"{version:020d}.json"


def _doctor_then_repair(root: Path, expected_lines: list[str]) -> None:
    found = _cli(root, "doctor")
    assert found.returncode == 1, found.stdout + found.stderr
    assert found.stdout.splitlines() == expected_lines
    assert found.stderr.strip().splitlines()[-1] == (
        f"iiot-lakehouse: error: {len(expected_lines)} problem(s) found; repair with: iiot-lakehouse doctor --repair"
    )
    repaired = _cli(root, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert repaired.stdout.splitlines()[-2:] == ["checking again", "no problems found"]
    again = _cli(root, "doctor")
    assert again.returncode == 0 and again.stdout.splitlines() == ["no problems found"], again.stdout + again.stderr


def _assert_same_tables(root: Path, expected: dict[str, list[tuple]]) -> None:
    got = _tables(root)
    assert sorted(got) == sorted(expected)
    for name, rows in expected.items():
        assert got[name] == rows, name


def test_a_deleted_log_entry_of_bronze_is_found_and_its_files_land_again(clean):
    clean_root, expected = clean
    root = _copy(clean_root, "log_deleted")
    # bronze's log: 0 creates the table, 1..3 append one file each; without 1, no reader gets past 0
    bronze = "bronze_historian__points"
    assert sorted(p.name for p in (root / bronze / "_delta_log").glob("*.json"))[-1] == _log(root, bronze, 3).name
    _log(root, bronze, 1).unlink()
    _doctor_then_repair(
        root,
        [f"{bronze}: _delta_log/{1:020d}.json: log entry missing: the table cannot be read past version 0"],
    )
    _assert_same_tables(root, expected)


def test_a_deleted_data_file_of_bronze_is_found_and_its_file_lands_again(clean):
    clean_root, expected = clean
    root = _copy(clean_root, "parquet_deleted")
    bronze = "bronze_historian__points"
    # 2026-03-03 07:00 Berlin is 06:00 UTC: day1.csv's five points are the only ones of that date
    (data,) = (root / bronze / "ts_date=2026-03-03").glob("*.parquet")
    data.unlink()
    name = data.relative_to(root / bronze).as_posix()
    _doctor_then_repair(root, [f"{bronze}: {name}: data file listed in the log is missing"])
    _assert_same_tables(root, expected)


def test_a_truncated_newest_log_entry_and_a_leftover_marts_copy_are_found_and_repaired(clean):
    clean_root, expected = clean
    root = _copy(clean_root, "log_truncated")
    states = "silver__machine_states"
    newest = max(int(p.stem) for p in (root / states / "_delta_log").glob("*.json"))
    entry = _log(root, states, newest)
    entry.write_bytes(entry.read_bytes()[:40])  # cut short, as a power loss leaves it
    # a publish whose process died: no process has this id (above the kernel's pid_max of 2^22)
    leftover = root / ".marts.duckdb.building-9999999"
    shutil.copyfile(root / "marts.duckdb", leftover)
    _doctor_then_repair(
        root,
        [
            f"{states}: _delta_log/{newest:020d}.json: log entry is not valid JSON: the table cannot be read "
            f"past version {newest - 1}",
            f"marts: {leftover.name}: copy left by a marts publish that did not finish",
        ],
    )
    assert not leftover.exists()
    # the cut entry is kept for a look, outside the table
    assert [p.name for p in (root / ".doctor").glob(f"*/{states}/*.json")] == [entry.name]
    _assert_same_tables(root, expected)


def test_a_truncated_log_of_a_gold_table_is_named_by_the_error_and_by_doctor(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    from assets.bronze.landing import Lakehouse
    from assets.storage.errors import unretryable_cause
    from orchestration.doctor import check

    table = tmp_path / "lake" / "gold" / "oee_daily"
    for _ in range(2):
        write_deltalake(str(table), pa.table({"x": [1, 2]}), mode="append")
    entry = table / "_delta_log" / f"{1:020d}.json"
    entry.write_bytes(entry.read_bytes()[:25])
    with pytest.raises(Exception) as truncated:
        DeltaTable(str(table))
    assert unretryable_cause(truncated.value, lakehouse_root=str(tmp_path / "lake")) == (
        "corrupt Delta log of gold/oee_daily (version 1 is not valid JSON)"
    )
    assert [str(p) for p in check(Lakehouse(str(tmp_path / "lake")))] == [
        f"gold/oee_daily: _delta_log/{1:020d}.json: log entry is not valid JSON: the table cannot be read past "
        "version 0"
    ]
