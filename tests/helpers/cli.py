"""The CLI as a subprocess over a plant of its own in tmp_path: the command, and the last line it printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from tests.helpers.plant import one_machine_config

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]


class CliPlant:
    """A plant YAML, a landing folder, a lakehouse and a Dagster home in tmp_path; `run` is the CLI."""

    def __init__(self, tmp_path: Path, config: dict | None = None, lake: Path | None = None):
        self.tmp = tmp_path
        self.landing = tmp_path / "landing"
        self.lake = lake or tmp_path / "lakehouse"
        self.home = tmp_path / "dagster_home"
        self.config = tmp_path / "plant.yaml"
        self.config.write_text(yaml.safe_dump(config or one_machine_config()), encoding="utf-8")
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))
        } | {
            "PYTHONPATH": str(REPO),
            "PLANT_CONFIG": str(self.config),
            "LANDING_ROOT": str(self.landing),
            "LAKEHOUSE_ROOT": str(self.lake),
            "DAGSTER_HOME": str(self.home),
            # the tests write their exports just before each run: nothing is left for the settle time
            "LANDING_SETTLE_SECONDS": "0",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*CLI, "run", *args], cwd=self.tmp, env=self.env, capture_output=True, text=True, timeout=600, check=False
        )

    def cli(self, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """Any command, e.g. `cli("tags", "--unmapped")`; `python` adds interpreter options (-X importtime)."""
        return subprocess.run(
            [sys.executable, *python, "-m", "orchestration.cli", *args],
            cwd=self.tmp,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def runs(self) -> list:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return instance.get_runs()

    def retries(self) -> int:
        """Steps put up for a retry, over every run of the instance."""
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return sum(
                1
                for run in instance.get_runs()
                for entry in instance.all_logs(run.run_id)
                if entry.dagster_event is not None
                and entry.dagster_event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
            )


def last_line(result: subprocess.CompletedProcess) -> str:
    return (result.stderr or result.stdout).strip().splitlines()[-1]
