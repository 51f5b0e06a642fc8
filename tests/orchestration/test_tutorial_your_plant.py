"""docs/tutorial-your-plant.md works as written: its plant YAML loads with the plant loader, and its
example export lands and builds with the real `iiot-lakehouse run` to the numbers the tutorial derives."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.plant.config import load_plant_config

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "docs" / "tutorial-your-plant.md"


def _block(marker: str) -> tuple[str, str]:
    """The fenced block between `<!-- tutorial:<marker>[ arg] -->` and `<!-- /tutorial:<marker> -->`: (arg, text)."""
    text = TUTORIAL.read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- tutorial:{re.escape(marker)}( [^ ]+)? -->\n```\w+\n(.*?)```\n<!-- /tutorial:{re.escape(marker)} -->",
        text,
        re.S,
    )
    assert found, f"{TUTORIAL.name} has no {marker} block between its markers"
    return (found.group(1) or "").strip(), found.group(2)


def test_the_tutorials_plant_yaml_loads(tmp_path):
    _, yaml_text = _block("plant.yaml")
    (tmp_path / "plant.yaml").write_text(yaml_text, encoding="utf-8")
    config = load_plant_config(tmp_path / "plant.yaml")
    (sealer,) = config.machines
    assert (config.site, config.timezone, sealer.line, sealer.name) == ("Porto", "Europe/Lisbon", "PACK1", "SEALER")
    assert sealer.has_oee and sealer.sensor_tags == ("Pack1/Sealer/JawTemp",)


@pytest.mark.slow
def test_the_tutorials_export_lands_and_builds_its_first_trusted_oee(tmp_path):
    _, yaml_text = _block("plant.yaml")
    export_path, export_text = _block("export")
    (tmp_path / "plant.yaml").write_text(yaml_text, encoding="utf-8")
    export = tmp_path / "landing" / export_path
    export.parent.mkdir(parents=True)
    export.write_text(export_text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "PLANT_CONFIG": str(tmp_path / "plant.yaml"),
        "LANDING_ROOT": str(tmp_path / "landing"),
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LANDING_SETTLE_SECONDS": "0",
    }
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # 20 data lines; values are non-empty cells: 17 full rows x 6 tags + the 09:20 row's 2 (state, power)
    # + the two night rows' 3 each (power, jaw temperature, humidity) = 102 + 2 + 6 = 110
    assert "lines in: 20, values in: 110, values new: 110, values duplicate: 0, values quarantined: 0" in run.stdout
    assert "production day 2026-03-02: ok" in run.stdout
    assert (tmp_path / "lakehouse" / "reports" / "daily_report_2026-03-02.html").is_file()

    con = duckdb.connect(str(tmp_path / "lakehouse" / "marts.duckdb"), read_only=True)
    try:
        oee = con.execute(
            "select day::varchar, planned_production_time_s, run_time_s, total_count, good_count, oee, "
            "data_quality_ok from oee_daily"
        ).fetchall()
        sensors = con.execute("select distinct tag, line, machine from sensor_hourly order by tag").fetchall()
        (kwh,) = con.execute("select kwh_total from energy_daily where level = 'machine'").fetchone()
    finally:
        con.close()
    # the tutorial's derivation: planned 8 h - 30 min lunch = 27,000 s; run = 27,000 - the 20 min jam;
    # total 15,740 - 10,000, good 14,668 - 9,000; OEE = good x 4 s / planned
    assert oee == [("2026-03-02", 27_000.0, 25_800.0, 5_740, 5_668, 5_668 * 4 / 27_000, True)]
    # 12 kW 06:00-09:00 and 09:20-14:00 (7 h 40 min), 4 kW for 20 min, 2 kW 14:00-06:00 (16 h; the last
    # reading at 05:30 stands for its typical interval, 30 min, to the day's end)
    assert kwh == pytest.approx(12 * (7 + 40 / 60) + 4 * 20 / 60 + 2 * 16, abs=1e-9)
    assert sensors == [("Hall/Humidity", None, None), ("Pack1/Sealer/JawTemp", "PACK1", "SEALER")]
