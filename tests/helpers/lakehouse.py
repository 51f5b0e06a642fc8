"""A lakehouse and landing folder in tmp_path with the real assets run against them, and copies of one."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from assets.bronze.assets import land_exports
from assets.marts.assets import build_mart_assets
from assets.plant.config import load_plant_config
from assets.silver.assets import build_silver_assets
from orchestration.partitions import production_day_partitions
from orchestration.resources import LakehouseResource
from tests.helpers.exports import write_aveva


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


def copy_lakehouse(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target
