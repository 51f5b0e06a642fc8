"""The marts registry: each mart is sql/marts/<mart>.sql with sql/marts/<mart>.yml beside it, and the YAML
is the only place that declares it (description, grain, scope, build order, column docs, audit checks)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from assets.marts.audit import audit_checks
from assets.marts.inputs import SQL_DIR
from assets.marts.publish import publish_marts
from assets.marts.registry import MartDefinitionError, load_marts
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config


@pytest.fixture
def sql_dir(tmp_path) -> Path:
    """A copy of the product's sql/ folder to add to or break."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    return copy


def edit_yaml(path: Path, change) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def test_a_column_the_yaml_does_not_document_fails_at_load_naming_the_mart_and_the_column(sql_dir):
    edit_yaml(sql_dir / "marts" / "reliability_monthly.yml", lambda spec: spec["columns"].pop("mttr_s"))
    with pytest.raises(MartDefinitionError, match=r"mart reliability_monthly: column mttr_s .* not documented"):
        load_marts(sql_dir)


def test_a_documented_column_the_sql_no_longer_produces_fails_at_load(sql_dir):
    def add(spec):
        spec["columns"]["mtbf_h"] = "Mean time between failures, hours."

    edit_yaml(sql_dir / "marts" / "reliability_monthly.yml", add)
    with pytest.raises(MartDefinitionError, match=r"reliability_monthly: column mtbf_h documented .* not produced"):
        load_marts(sql_dir)


def test_a_mart_sql_without_its_yaml_fails_at_load(sql_dir):
    (sql_dir / "marts" / "sensor_hourly.yml").unlink()
    with pytest.raises(MartDefinitionError, match="mart sensor_hourly: sensor_hourly.yml is missing"):
        load_marts(sql_dir)


def test_a_mart_built_before_the_mart_it_reads_fails_at_load(sql_dir):
    # reliability_monthly sums reliability_daily: built first, there is no reliability_daily to read yet
    edit_yaml(sql_dir / "marts" / "reliability_monthly.yml", lambda spec: spec.update(order=0))
    bind = "mart reliability_monthly: sql/marts/reliability_monthly.sql does not bind"
    with pytest.raises(MartDefinitionError, match=bind):
        load_marts(sql_dir)


def test_a_check_the_audit_does_not_report_fails_at_load(sql_dir):
    edit_yaml(sql_dir / "marts" / "oee_daily.yml", lambda spec: spec["checks"].append("oee_below_one"))
    with pytest.raises(MartDefinitionError, match="mart oee_daily: check 'oee_below_one'"):
        load_marts(sql_dir)


def test_every_audit_check_is_declared_by_the_marts_it_guards():
    marts = {m.name: m for m in load_marts()}
    declared = {check for m in marts.values() for check in m.checks}
    # the checks sql/audit/marts_audit.sql reports, listed in its header
    assert (
        declared
        == set(audit_checks())
        == {
            "times_nest",
            "ratio_in_range",
            "time_not_negative",
            "count_not_negative",
            "seconds_add_up",
            "states_tile_day",
            "rollup_equals_sum",
            "output_is_output_machines",
        }
    )
    # the header: machine-days carry every check but the roll-up sums, line and site days the roll-up sums
    assert not {"rollup_equals_sum", "output_is_output_machines"} & set(marts["oee_daily"].checks)
    assert {"rollup_equals_sum", "output_is_output_machines", "times_nest"} <= set(marts["oee_line_daily"].checks)
    assert marts["energy_daily"].checks == ()


def test_adding_a_mart_is_one_sql_file_and_its_yaml(plant_factory, sql_dir):
    (sql_dir / "marts" / "machine_days.sql").write_text(
        "select day, count(*)::bigint as machines from oee_daily "
        "where day in (select unnest($days::date[])) group by day",
        encoding="utf-8",
    )
    (sql_dir / "marts" / "machine_days.yml").write_text(
        "name: machine_days\n"
        "order: 100\n"
        "description: Machines with OEE per production day.\n"
        "grain: One row per production day.\n"
        "scope: day\n"
        "columns:\n"
        "  day: The production day.\n"
        "  machines: 'Machines with an oee_daily row that day.'\n",
        encoding="utf-8",
    )
    marts = load_marts(sql_dir)
    assert marts[-1].name == "machine_days"  # order 100: built after every mart it may read

    plant = plant_factory(one_machine_config())
    plant.export("h.csv", [r("2026-03-02 05:00:00", "L1.FILLER.State", 1)])
    plant.land()
    plant.build_day("2026-03-02")
    written = publish_marts(str(plant.root), plant.config, [dt.date(2026, 3, 2)], marts=marts, sql_dir=sql_dir)

    # one machine (FILLER) in the config, one production day rebuilt: one row, one machine
    assert written["machine_days"] == 1
    con = duckdb.connect(str(plant.root / "marts.duckdb"), read_only=True)
    try:
        assert con.execute("select day, machines from machine_days").fetchall() == [(dt.date(2026, 3, 2), 1)]
        assert con.execute("select comment from duckdb_tables() where table_name = 'machine_days'").fetchall() == [
            ("Machines with OEE per production day.",)
        ]
        assert con.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'machine_days' order by column_index"
        ).fetchall() == [("day", "The production day."), ("machines", "Machines with an oee_daily row that day.")]
    finally:
        con.close()
    assert (plant.root / "gold" / "machine_days").is_dir()
