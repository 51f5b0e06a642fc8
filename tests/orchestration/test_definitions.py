"""The Dagster definitions load, with every layer, the schedule, the sensors and the checks."""

from __future__ import annotations

import hashlib
import os

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.resources import LakehouseResource
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.plant import one_machine_config
from tests.helpers.ui import REPO

# the marts as sql/marts/ declares them, one YAML each
MART_YAMLS = sorted((REPO / "sql" / "marts").glob("*.yml"))


def test_definitions_load_with_schedule_sensors_jobs_and_checks(plant_factory):
    plant = plant_factory(one_machine_config())
    defs = build_definitions(plant.resource)
    dg.Definitions.validate_loadable(defs)

    assert defs.resolve_job_def("land_exports_job") is not None
    daily = defs.resolve_job_def("daily_oee_job")
    assert daily.partitions_def.timezone == "Europe/Berlin"
    schedule = defs.resolve_schedule_def("daily_oee_schedule")
    assert schedule.cron_schedule == "0 7 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert {s.name for s in defs.sensors} == {"landing_folder_sensor", "landed_days_sensor", "alert_sensor"}

    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {
        "bronze_historian__points": "bronze",
        "bronze__quarantine": "bronze",
        "bronze__file_ledger": "bronze",
        "bronze__tag_catalog": "bronze",
        "silver__plant_calendar": "silver",
        "silver__machine_states": "silver",
        "silver__count_increments": "silver",
        "silver__energy_increments": "silver",
        "silver__sensor_intervals": "silver",
        "silver__tag_quality": "silver",
        "silver__production_runs": "silver",
        "silver__orders": "silver",
        "mart__daily_report": "marts",
        "maintenance__delta_tables": "maintenance",
    } | {f"mart__{yml.stem}": "marts" for yml in MART_YAMLS}
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key
    checks = {key.name: graph.get_check_spec(key).blocking for key in graph.asset_check_keys}
    assert checks["silver__machine_states_schema"] is True
    assert checks["states_tile_the_day"] is True
    assert checks["rows_in_equal_landed_plus_quarantined"] is True
    assert checks["ratios_and_times_in_bounds"] is True
    # every mart carries its own blocking check of the audit: the OEE marts the audit reads the bounds
    # check, the others a check that they were published with them
    # (mart__oee_daily also carries the freshness check of the day's publication)
    mart_checks: dict[str, set[str]] = {}
    for k in graph.asset_check_keys:
        if k.asset_key.path[0].startswith("mart__"):
            mart_checks.setdefault(k.asset_key.to_user_string(), set()).add(k.name)
    assert mart_checks["mart__oee_daily"] == {"ratios_and_times_in_bounds", "last_day_published_on_time"}
    assert mart_checks["mart__oee_line_shift"] == {"ratios_and_times_in_bounds"}
    assert mart_checks["mart__energy_daily"] == {"published_after_audit"}
    assert set(mart_checks) == {f"mart__{yml.stem}" for yml in MART_YAMLS}
    assert all(graph.get_check_spec(k).blocking for k in graph.asset_check_keys if k.name == "published_after_audit")


def test_each_mart_depends_on_the_tables_its_sql_reads(plant_factory):
    graph = build_definitions(plant_factory(one_machine_config()).resource).resolve_asset_graph()

    def deps(key: str) -> set[str]:
        return {k.to_user_string() for k in graph.get(dg.AssetKey(key)).parent_keys}

    # sql/marts/energy_daily.sql reads silver__energy_increments, silver__plant_calendar, oee_daily (its
    # OEE row per machine) and stg_energy_by_state, which reads stg_machine_states beside those two: the
    # states with the stops inside changeovers, found from the production runs and the counts (a
    # changeover ends at the new product's first count)
    assert deps("mart__energy_daily") == {
        "silver__energy_increments",
        "silver__plant_calendar",
        "silver__machine_states",
        "silver__production_runs",
        "silver__count_increments",
        "mart__oee_daily",
    }
    # the marts the report reads (grep assets/report for the tables it queries)
    assert deps("mart__daily_report") == {
        f"mart__{name}"
        for name in (
            "oee_daily", "oee_shift", "oee_line_daily", "oee_line_shift", "downtime_events", "downtime_pareto",
            "energy_daily", "dim_machine", "dim_shift", "production_hourly", "oee_order", "changeovers",
        )
    }  # fmt: skip
    # the dimensions are the plant YAML's: no table upstream
    assert deps("mart__dim_machine") == set()


def test_partitions_follow_the_production_day(plant_factory):
    plant = plant_factory(one_machine_config())
    partitions = build_definitions(plant.resource).resolve_job_def("daily_oee_job").partitions_def
    window = partitions.time_window_for_partition_key("2026-03-28")
    # day_start 06:00 Europe/Berlin; the clocks go forward on the 29th: a 23 h day.
    assert window.start.isoformat() == "2026-03-28T06:00:00+01:00"
    assert window.end.isoformat() == "2026-03-29T06:00:00+02:00"


def test_the_landing_sensor_starts_one_run_per_settled_file_keyed_by_its_content(plant_factory, monkeypatch):
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "0")
    plant = plant_factory(one_machine_config())
    defs = build_definitions(plant.resource)
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    resources = {"lakehouse": plant.resource}

    def tick(cursor=None):
        with dg.build_sensor_context(resources=resources, cursor=cursor) as context:
            return sensor(context), context.cursor

    result, cursor = tick()
    assert isinstance(result, dg.SkipReason)
    path = write_aveva(plant.landing / "historian" / "a.csv", [r("2026-03-02 06:00:00", "L1.FILLER.State", 1)])
    result, cursor = tick(cursor)  # first seen: its size must hold for one more tick
    assert isinstance(result, dg.SkipReason) and "settling" in result.skip_message
    result, cursor = tick(cursor)
    (request,) = result
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert request.run_key == digest
    assert request.run_config == {"ops": {"land_exports": {"config": {"files": ["historian/a.csv"]}}}}
    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason)

    # the run lands it; a copy under another name starts no second run
    job = defs.resolve_job_def("land_exports_job")
    assert job.execute_in_process(run_config=request.run_config, resources=None).success
    (plant.landing / "historian" / "copy.csv").write_bytes(path.read_bytes())
    result, cursor = tick(cursor)
    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason)

    # a.csv rewritten in place with other values, same size, its modification time put back (`touch -r`)
    stamp = path.stat().st_mtime_ns
    rewritten = path.read_bytes().replace(b",1,1,", b",2,2,")
    assert len(rewritten) == path.stat().st_size and rewritten != path.read_bytes()
    with open(path, "r+b") as handle:
        handle.write(rewritten)
    os.utime(path, ns=(stamp, stamp))
    result, cursor = tick(cursor)
    (request,) = result
    assert request.run_key == hashlib.sha256(rewritten).hexdigest()


def test_resource_defaults_follow_the_environment_contract(monkeypatch, tmp_path):
    from orchestration.resources import resource_from_env

    monkeypatch.chdir(tmp_path)
    for name in ("LAKEHOUSE_ROOT", "LANDING_ROOT", "PLANT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    resource = resource_from_env()
    assert isinstance(resource, LakehouseResource)
    assert resource.lakehouse_root == str(tmp_path / "data" / "lakehouse")
    assert resource.landing_root == str(tmp_path / "data" / "landing")
    assert resource.plant_config.endswith("assets/demo/plant.yaml")
    monkeypatch.setenv("LAKEHOUSE_ROOT", "s3://bucket/plant")
    assert resource_from_env().lakehouse_root == "s3://bucket/plant"


def test_a_production_day_still_running_is_left_to_the_morning_schedule(plant_factory):
    import datetime as dt

    from assets.bronze.assets import land_exports
    from assets.plant.calendar import production_day_of

    plant = plant_factory(one_machine_config(working_days=("mon", "tue", "wed", "thu", "fri", "sat", "sun")))
    config = plant.resource.plant()
    # A point on 2 Mar and one a minute ago, in the production day that is running now.
    now = dt.datetime.now(config.tz).replace(microsecond=0) - dt.timedelta(minutes=1)
    running = production_day_of(config, now)
    plant.export(
        "h.csv",
        [r("2026-03-02 12:00:00", "L1.FILLER.Total", 1), r(f"{now:%Y-%m-%d %H:%M:%S}", "L1.FILLER.Total", 2)],
    )
    defs = build_definitions(plant.resource)
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([land_exports], resources={"lakehouse": plant.resource}, instance=instance).success
        sensor = defs.get_sensor_def("landed_days_sensor")
        with dg.build_sensor_context(
            instance=instance, definitions=defs, resources={"lakehouse": plant.resource}
        ) as context:
            # evaluated as the daemon does (a direct call does not hand an asset sensor its resources)
            requested = sorted(request.partition_key for request in sensor.evaluate_tick(context).run_requests)
    # Landing touched 2 Mar and the day after it, the running day and the day before it. The running
    # day has no partition until it ends: the morning schedule builds it then.
    assert requested == sorted({"2026-03-02", "2026-03-03", (running - dt.timedelta(days=1)).isoformat()})
