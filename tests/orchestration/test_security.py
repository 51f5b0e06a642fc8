"""No one let in: analyst SQL is read-only and sandboxed, the read-only UI refuses changes, hostile
tag and file names never reach SQL as text, and landing never leaves LANDING_ROOT."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from assets.bronze.landing import Lakehouse, discover_files, land_new_files
from assets.plant.config import PlantConfigError, parse_plant_config
from orchestration.analyst_sql import AnalystSqlError, format_csv, run_query
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]


@pytest.fixture
def marts(tmp_path) -> Path:
    """A published marts file with a small oee_daily."""
    path = tmp_path / "lakehouse" / "marts.duckdb"
    path.parent.mkdir(parents=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table oee_daily as select * from (values ('L1', 'FILLER', date '2026-03-02', 0.75::double), "
            "('L1', 'CAPPER', date '2026-03-02', 0.5::double)) as t(line, machine, day, oee)"
        ).fetchall()
    finally:
        con.close()
    return path


# --- analyst SQL -------------------------------------------------------------------------------------


def test_an_analyst_can_query_the_marts(marts):
    names, rows, more = run_query(marts, "select machine, oee from oee_daily order by oee desc")
    assert (names, rows, more) == (["machine", "oee"], [("FILLER", 0.75), ("CAPPER", 0.5)], False)
    assert format_csv(names, rows) == "machine,oee\nFILLER,0.75\nCAPPER,0.5"


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "select * from read_blob('/etc/passwd')",
        "select * from '/etc/passwd'",
        "select * from read_csv_auto('file:///etc/passwd')",
    ],
)
def test_an_analyst_query_cannot_read_files(marts, sql):
    with pytest.raises(AnalystSqlError) as refused:
        run_query(marts, sql)
    assert "root:" not in str(refused.value)
    assert re.search("Permission Error|disabled by configuration|does not exist", str(refused.value))


@pytest.mark.parametrize(
    "sql",
    [
        "copy (select * from oee_daily) to '{dir}/out.csv'",
        "copy oee_daily to '{dir}/out.parquet' (format parquet)",
        "export database '{dir}/export'",
        "attach '{dir}/other.duckdb' as other",
        "install httpfs",
        "load httpfs",
    ],
)
def test_an_analyst_query_cannot_write_files_or_attach_or_load(marts, tmp_path, sql):
    with pytest.raises(AnalystSqlError):
        run_query(marts, sql.replace("{dir}", str(tmp_path)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lakehouse"]


@pytest.mark.parametrize(
    "sql",
    [
        "set enable_external_access = true",
        "set memory_limit = '100GB'",
        "reset memory_limit",
        "pragma memory_limit = '100GB'",
        "set lock_configuration = false",
        "set temp_directory = '/tmp'",
    ],
)
def test_an_analyst_query_cannot_change_settings(marts, sql):
    with pytest.raises(AnalystSqlError, match="configuration has been locked"):
        run_query(marts, sql)


@pytest.mark.parametrize(
    "sql",
    [
        "insert into oee_daily values ('L9', 'X', date '2026-01-01', 1.0)",
        "drop table oee_daily",
        "create table t(a int)",
    ],
)
def test_an_analyst_query_cannot_change_the_marts(marts, sql):
    with pytest.raises(AnalystSqlError, match="read-only"):
        run_query(marts, sql)
    assert run_query(marts, "select count(*) from oee_daily")[1] == [(2,)]


def test_the_memory_limit_holds(marts):
    with pytest.raises(AnalystSqlError, match="(?i)out of memory|memory limit|temp"):
        run_query(
            marts,
            "select list(repeat('x', 1000)) from range(2000000)",
            memory_limit="64MB",
        )


def test_the_sql_command_reads_stdin_and_prints_a_table_or_csv(marts):
    env = {**os.environ, "LAKEHOUSE_ROOT": str(marts.parent), "PYTHONPATH": str(REPO)}
    table = subprocess.run(
        [*CLI, "sql"], input="select machine, oee from oee_daily order by 1", env=env, capture_output=True, text=True
    )
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == ["machine   oee", "-------  ----", "CAPPER    0.5", "FILLER   0.75"]
    as_csv = subprocess.run(
        [*CLI, "sql", "--format", "csv", "select count(*) as n from oee_daily"], env=env, capture_output=True, text=True
    )
    assert as_csv.stdout == "n\n2\n"
    refused = subprocess.run(
        [*CLI, "sql", "select * from read_text('/etc/passwd')"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1
    assert "root:" not in refused.stdout + refused.stderr
    assert "Permission Error" in refused.stderr


# --- hostile names never reach SQL as text ------------------------------------------------------------

HOSTILE_TAGS = [
    "x'; DROP TABLE bronze_historian__points;--",
    "L1'); delete from bronze__file_ledger; --",
    '"; drop table y; --',
    "../../etc/passwd",
]


def _csv_field(text: str) -> str:
    """A field as a CSV writer quotes it (the historian export quotes a tag with a quote or comma in it)."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in '",\n') else text


def test_hostile_file_and_tag_names_land_as_data_and_every_table_survives(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    write_aveva(landing / "historian" / "canary.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 1)])
    land_new_files(lakehouse, config, landing)
    rows = [r(f"2026-03-02 06:0{i}:00", _csv_field(tag), i) for i, tag in enumerate(HOSTILE_TAGS)]
    write_aveva(landing / "historian" / "x'; drop table y;--.csv", rows)
    write_aveva(landing / "historian" / "a\"b'c.csv", [r("2026-03-02 07:00:00", "O'Brien.Total", 5)])
    result = land_new_files(lakehouse, config, landing)
    assert sorted((f.source_file, f.status, f.rows_new) for f in result.files if f.status != "skipped") == [
        ("historian/a\"b'c.csv", "landed", 1),
        ("historian/x'; drop table y;--.csv", "landed", 4),
    ]
    con = duckdb.connect()
    try:
        for name in ("bronze_historian__points", "bronze__file_ledger", "bronze__tag_catalog"):
            con.register(name, DeltaTable(lakehouse.uri(name)).to_pyarrow_dataset())
        tags = con.execute("select tag from bronze_historian__points order by tag").fetchall()
        files = con.execute("select source_file from bronze__file_ledger order by 1").fetchall()
        catalog = con.execute("select count(*) from bronze__tag_catalog").fetchall()
    finally:
        con.close()
    assert sorted(t for (t,) in tags) == sorted([*HOSTILE_TAGS, "L1.FILLER.Total", "O'Brien.Total"])
    assert [f for (f,) in files] == sorted(
        ["historian/a\"b'c.csv", "historian/canary.csv", "historian/x'; drop table y;--.csv"]
    )
    assert catalog == [(6,)]


# --- landing stays inside LANDING_ROOT ----------------------------------------------------------------


@pytest.fixture
def links_out(tmp_path):
    """A landing folder whose links point outside it: a file, a folder inside a source, a source folder."""
    outside = tmp_path / "outside"
    secret = write_aveva(outside / "secret.csv", [r("2026-03-02 06:00:00", "SECRET.Tag", 42)])
    write_aveva(outside / "folder" / "inner.csv", [r("2026-03-02 06:00:00", "SECRET.Inner", 43)])
    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    (landing / "historian" / "link.csv").symlink_to(secret)
    (landing / "historian" / "linked_folder").symlink_to(outside / "folder", target_is_directory=True)
    (landing / "escape").symlink_to(outside, target_is_directory=True)
    raw = one_machine_config()
    raw["sources"].append({"name": "linked", "format": "aveva_historian_csv", "folder": "escape"})
    return parse_plant_config(raw), landing


def test_a_source_folder_with_dot_dot_is_refused_when_the_config_loads():
    raw = one_machine_config()
    raw["sources"][0]["folder"] = "historian/../../outside"
    with pytest.raises(PlantConfigError, match=r"sources\[historian\]\.folder: must be a relative folder inside"):
        parse_plant_config(raw)


def test_discovery_never_follows_a_link_out_of_landing_root(links_out):
    config, landing = links_out
    historian, linked = config.sources
    files, notes = discover_files(landing, historian)
    assert files == []
    assert notes == ["historian/link.csv: a link that leaves LANDING_ROOT; not read"]
    assert discover_files(landing, linked) == ([], ["escape: the folder leaves LANDING_ROOT; nothing read"])


def test_a_link_out_of_landing_root_is_reported_and_the_other_files_still_land(links_out, tmp_path):
    config, landing = links_out
    write_aveva(landing / "historian" / "good.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 1)])
    result = land_new_files(Lakehouse(str(tmp_path / "lake")), config, landing)
    assert [(f.source_file, f.rows_new) for f in result.files] == [("historian/good.csv", 1)]
    assert "historian/link.csv: a link that leaves LANDING_ROOT; not read" in result.notes
