"""The real `iiot-lakehouse` command in a subprocess, on a plant YAML, landing folder, lakehouse and Dagster home
in a test's tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


class CliPlant:
    def __init__(self, tmp_path: Path, config: dict):
        self.tmp = tmp_path
        self.landing = tmp_path / "landing"
        self.lake = tmp_path / "lakehouse"
        self.config = tmp_path / "plant.yaml"
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))
        } | {
            "PYTHONPATH": str(REPO),
            "PLANT_CONFIG": str(self.config),
            "LANDING_ROOT": str(self.landing),
            "LAKEHOUSE_ROOT": str(self.lake),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            # the tests write their exports just before each run: nothing is left for the settle time
            "LANDING_SETTLE_SECONDS": "0",
        }

    def cli(self, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *python, "-m", "orchestration.cli", *args],
            cwd=self.tmp,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def last_line(result: subprocess.CompletedProcess) -> str:
    return (result.stderr or result.stdout).strip().splitlines()[-1]
