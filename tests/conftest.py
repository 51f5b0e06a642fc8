"""Shared fixtures: a plant config, a lakehouse in tmp_path, and running the real assets on it."""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from deltalake import DeltaTable

from assets.bronze.assets import land_exports
from assets.marts.assets import build_mart_assets
from assets.plant.config import load_plant_config
from assets.silver.assets import build_silver_assets
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource

# Tests land the files they have just written: no settle time, unless a test sets one (the default of
# 30 s is for a plant's exporters; tests/reliability/test_landing_changes.py tests it). Set before any
# child process or forkserver starts, so that they inherit it.
os.environ.setdefault("LANDING_SETTLE_SECONDS", "0")

HEADER = "DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode\n"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
THREE_SHIFTS = [
    {"name": "early", "start": "06:00", "end": "14:00"},
    {"name": "late", "start": "14:00", "end": "22:00"},
    {"name": "night", "start": "22:00", "end": "06:00"},
]


def mart(plant, sql: str, params=None) -> list[tuple]:
    """Rows of a query on the plant's published marts file, read-only, timestamps in UTC."""
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def silver(plant, name: str, sql: str) -> list[tuple]:
    """Rows of a query on one of the plant's silver Delta tables, registered as `t`, in UTC."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", DeltaTable(str(plant.root / name)).to_pyarrow_dataset())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def free_port(paired_offset: int = 0) -> int:
    """A free port on 127.0.0.1; with paired_offset, port + offset is free too (SeaweedFS puts each
    server's gRPC port at +10000)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not paired_offset:
            return port
        if port + paired_offset > 65535:
            continue
        with socket.socket() as paired:
            try:
                paired.bind(("127.0.0.1", port + paired_offset))
            except OSError:
                continue
        return port


def aveva_row(local: str, tag: str, value, quality: int = 0) -> str:
    """One AVEVA History export row; local is 'YYYY-MM-DD HH:MM:SS'."""
    opc = {0: 192, 16: 64, 1: 0}[quality]
    text = "" if value is None else str(value)
    return f"{local}.000,{tag},{text},{text},{quality},{192 if quality == 0 else 0},{opc},Delta\n"


def write_aveva(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def one_machine_config(
    shifts=None,
    breaks=None,
    day_start="06:00",
    working_days=("mon", "tue", "wed", "thu", "fri"),
    rollover=None,
    timezone="Europe/Berlin",
) -> dict:
    """A plant with one line and one machine (FILLER), ideal cycle time 1.0 s."""
    machine = {
        "name": "FILLER",
        "ideal_cycle_time_s": 1.0,
        "state_tag": "L1.FILLER.State",
        "states": {
            1: "running",
            2: {"category": "planned_stop", "reason": "Changeover"},
            3: {"category": "unplanned_stop", "reason": "Jam"},
            4: {"category": "not_scheduled", "reason": "No orders"},
        },
        "total_count_tag": "L1.FILLER.Total",
        "reject_count_tag": "L1.FILLER.Reject",
        "energy_kwh_tag": "L1.FILLER.kWh",
    }
    if rollover:
        machine["counter_rollover"] = rollover
    return {
        "plant": {"site": "Hamburg", "timezone": timezone},
        "calendar": {
            "day_start": day_start,
            "working_days": list(working_days),
            "first_day": "2026-01-01",
            "shifts": shifts or [{"name": "early", "start": "06:00", "end": "14:00"}],
            "breaks": breaks or [],
        },
        "sources": [{"name": "historian", "format": "aveva_historian_csv", "folder": "historian"}],
        "lines": [{"name": "L1", "area": "Bottling", "machines": [machine]}],
    }


class Plant:
    """A lakehouse and landing folder in tmp_path, and the real assets run against them."""

    def __init__(self, tmp_path: Path, config: dict):
        self.tmp_path = tmp_path
        self.landing = tmp_path / "landing"
        self.root = tmp_path / "lakehouse"
        self.config_path = tmp_path / "plant.yaml"
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.landing.mkdir(parents=True, exist_ok=True)
        self.resource = LakehouseResource(
            lakehouse_root=str(self.root), landing_root=str(self.landing), plant_config=str(self.config_path)
        )
        self.config = load_plant_config(self.config_path)
        partitions = production_day_partitions(self.config)
        self.day_assets = [*build_silver_assets(partitions), *build_mart_assets(partitions)]

    def export(self, name: str, rows: list[str]) -> Path:
        return write_aveva(self.landing / "historian" / name, rows)

    def land(self) -> dg.ExecuteInProcessResult:
        result = dg.materialize([land_exports], resources={"lakehouse": self.resource})
        assert result.success
        return result

    def build_day(self, day: str) -> dg.ExecuteInProcessResult:
        result = dg.materialize(self.day_assets, partition_key=day, resources={"lakehouse": self.resource})
        assert result.success
        return result

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.root / "marts.duckdb"), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def oee(self, day: str, machine: str = "FILLER") -> dict:
        con = duckdb.connect(str(self.root / "marts.duckdb"), read_only=True)
        try:
            cur = con.execute(
                "select * from oee_daily where day = ? and machine = ?", [dt.date.fromisoformat(day), machine]
            )
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        finally:
            con.close()
        assert len(rows) == 1, rows
        return dict(zip(names, rows[0], strict=True))


@pytest.fixture
def plant_factory(tmp_path):
    def make(config: dict | None = None) -> Plant:
        return Plant(tmp_path, config or one_machine_config())

    return make


@pytest.fixture(scope="session")
def demo_ui(tmp_path_factory):
    """The one-day demo lakehouse and the read-only Dagster UI on its runs, shared by the UI tests."""
    from dagster_ui import demo_lakehouse_ui

    with demo_lakehouse_ui(tmp_path_factory.mktemp("demo_ui")) as ui:
        yield ui


@pytest.fixture(autouse=True)
def _dagster_home(tmp_path, monkeypatch):
    # materialize() uses an ephemeral instance; keep any stray DAGSTER_HOME from leaking in.
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


_exit_status: list[int] = []


def pytest_terminal_summary(terminalreporter):
    from dagster_ui import ARTIFACTS_WRITTEN

    for folder in sorted(ARTIFACTS_WRITTEN):
        terminalreporter.write_line(f"browser screenshots of the Dagster UI in {folder}")


def pytest_sessionfinish(session, exitstatus):
    _exit_status.append(int(exitstatus))


def pytest_unconfigure(config):
    # The Delta reader's native threads can abort the interpreter at exit (delta-rs #2184) after every
    # test has run and been reported; leave with pytest's own status instead.
    if _exit_status and os.environ.get("IIOT_TEST_HARD_EXIT", "1") == "1":
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
