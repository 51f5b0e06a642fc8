"""The demo's partitions begin at the demo's own first day: `iiot-lakehouse demo`, without PLANT_CONFIG, writes
the embedded demo plant into the lakehouse root with calendar.first_day set to the first day it generated,
and every command (and the Dagster definitions) reads that file while PLANT_CONFIG is unset."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import yaml

from assets.plant.config import DEFAULT_PLANT_CONFIG
from orchestration.definitions import build_definitions
from orchestration.resources import resource_from_env
from tests.helpers.cli import REPO


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    return env | {
        "PYTHONPATH": str(REPO),
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "LANDING_ROOT": str(tmp_path / "landing"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LANDING_SETTLE_SECONDS": "0",
        **extra,
    }


def _demo(tmp_path, env, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "demo", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _partition_keys(env) -> list[str]:
    defs = build_definitions(resource_from_env(env))
    return defs.resolve_job_def("daily_oee_job").partitions_def.get_partition_keys()


def _running_day() -> dt.date:
    # The demo plant's production day starts at 06:00 Europe/Berlin; the day running now is the local date
    # of (now - 6 h).
    return (dt.datetime.now(ZoneInfo("Europe/Berlin")) - dt.timedelta(hours=6)).date()


def test_the_demos_partitions_are_the_days_it_generated(tmp_path):
    env = _env(tmp_path)
    # Before the demo: the embedded plant's first_day 2025-01-01, one partition per ended day since then
    # (hundreds, almost all never built).
    before = _partition_keys(env)
    assert before[0] == "2025-01-01"
    assert len(before) == (_running_day() - dt.date(2025, 1, 1)).days

    done = _demo(tmp_path, env, "--days", "3")
    # The three days before the running one: the demo's first day is the first partition, and there are
    # exactly those three (the running day is no partition until it ends).
    start = _running_day() - dt.timedelta(days=3)
    written = tmp_path / "lakehouse" / "demo_plant.yaml"
    assert f"calendar.first_day {start}: {written}" in done.stdout
    assert _partition_keys(env) == [(start + dt.timedelta(days=k)).isoformat() for k in range(3)]
    # The copy is the embedded file but for the first_day line: comments and all.
    embedded = DEFAULT_PLANT_CONFIG.read_text(encoding="utf-8").splitlines()
    copy = written.read_text(encoding="utf-8").splitlines()
    assert [a for a, b in zip(embedded, copy, strict=True) if a != b] == [
        line for line in embedded if line.strip().startswith("first_day:")
    ]
    assert str(yaml.safe_load(written.read_text(encoding="utf-8"))["calendar"]["first_day"]) == start.isoformat()
    # `check-config` (any command) reads the written plant while PLANT_CONFIG is unset.
    checked = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "check-config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert f"plant config {written}: valid" in checked.stdout


def test_a_later_demo_keeps_the_earlier_first_day_and_an_earlier_one_moves_it(tmp_path):
    env = _env(tmp_path)
    written = tmp_path / "lakehouse" / "demo_plant.yaml"

    def first_day() -> str:
        return str(yaml.safe_load(written.read_text(encoding="utf-8"))["calendar"]["first_day"])

    _demo(tmp_path, env, "--days", "1", "--start", "2026-03-03")
    assert first_day() == "2026-03-03"
    # a later demo: the days built before stay partitions
    _demo(tmp_path, env, "--days", "1", "--start", "2026-03-05")
    assert first_day() == "2026-03-03"
    # an earlier one: its days become partitions
    _demo(tmp_path, env, "--days", "1", "--start", "2026-03-02")
    assert first_day() == "2026-03-02"
    assert _partition_keys(env)[:2] == ["2026-03-02", "2026-03-03"]


def test_a_demo_for_a_plant_config_of_ones_own_writes_no_plant(tmp_path):
    env = _env(tmp_path, PLANT_CONFIG=str(DEFAULT_PLANT_CONFIG))
    done = _demo(tmp_path, env, "--days", "1", "--start", "2026-03-02")
    assert "demo plant with calendar.first_day" not in done.stdout
    assert not (tmp_path / "lakehouse" / "demo_plant.yaml").exists()
    assert _partition_keys(env)[0] == "2025-01-01"
