"""`iiot-lakehouse run` killed with SIGKILL during landing, silver or the marts publish: the next plain
`run` finishes within a bound and leaves the tables of a run that was never killed.

Real CLI processes (executor in_process, so the steps run in the CLI's own process and the kill cuts
them) against a real DAGSTER_HOME and lakehouse in tmp_path, on two production days of the demo plant.
Where the kill lands is chosen, not timed:

- landing: the landing's own kill point (IIOT_LANDING_KILL_AT, assets/bronze/landing_commit.py) SIGKILLs the
  CLI after the first file's points are committed and before its ledger row is written;
- silver: the test watches the run's event log; at the first silver table written for the first day it
  freezes the CLI (SIGSTOP), checks that the marts step has not started, and kills it;
- publish: the test watches the lakehouse folder; while the second day's marts are being built aside
  (`.marts.duckdb.building-<pid>`, the published file holding the first day) it freezes the CLI, checks
  that the copy is still unpublished, and kills it.

The reference is one uninterrupted `run` on the same exports. Tables are compared whole, in a fixed
order, without the columns that record when a row was written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.bronze.landing import KILL_AT_ENV
from assets.demo.generator import write_demo_exports
from assets.storage.schemas import BRONZE_POINTS, DAY_BUILDS, FILE_LEDGER, PLANT_CONFIG_HISTORY, QUARANTINE, TAG_CATALOG
from orchestration.cli.instance import INSTANCE_YAML
from orchestration.jobs import DAILY_JOB
from tests.helpers.demo import DEMO_START, PLANT_CONFIG
from tests.helpers.figures import report
from tests.helpers.tables import marts_rows, query, sorted_rows

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
# Seconds the whole `run` after a kill may take (landing two days and building both) on a loaded 2-core
# CI machine: about 20 s alone. A run that waits for a slot the killed run holds exceeds it.
BOUND = 240
DAYS = ["2026-03-02", "2026-03-03"]
MARTS = "marts.duckdb"

# Columns that say when this run wrote a row, not what the row holds.
WRITTEN_AT = {
    BRONZE_POINTS.name: ("landed_at",),
    QUARANTINE.name: ("quarantined_at",),
    TAG_CATALOG.name: ("updated_at",),
    # The ledger row of a file landed again after a kill counts its points as already there (duplicate,
    # not new): rows_new/rows_changed/rows_duplicate say what that pass found, the rest what the file is.
    FILE_LEDGER.name: ("landed_at", "file_version", "message", "rows_new", "rows_changed", "rows_duplicate"),
    PLANT_CONFIG_HISTORY.name: ("first_used_at", "last_used_at", "run_id"),
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """Two production days of the demo plant: two AVEVA files of ~33,000 rows, written ten minutes ago."""
    from assets.plant.config import load_plant_config

    landing = tmp_path_factory.mktemp("phase_exports") / "landing"
    paths = write_demo_exports(landing, load_plant_config(PLANT_CONFIG), start=DEMO_START, days=len(DAYS))
    for path in paths:
        os.utime(path, (time.time() - 600, time.time() - 600))
    return landing


def environment(root: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env.pop(KILL_AT_ENV, None)
    env.update(
        PYTHONPATH=str(REPO),
        DAGSTER_HOME=str(root / "dagster_home"),
        LAKEHOUSE_ROOT=str(root / "lakehouse"),
        LANDING_ROOT=str(landing),
        LANDING_SETTLE_SECONDS="0",
        IIOT_EXECUTOR="in_process",
    )
    return env


def run_cli(root: Path, env: dict[str, str], timeout: float = BOUND) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(CLI + ["run"], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


def tables(lake: Path) -> dict[str, list[tuple]]:
    """Every Delta table of the lakehouse (bronze, silver, gold) and every mart, rows sorted."""
    out = {}
    for folder in sorted([*lake.iterdir(), *lake.glob("gold/*")]):
        if (folder / "_delta_log").is_dir():
            key = folder.relative_to(lake).as_posix()
            if folder.name == DAY_BUILDS.name:
                # a log with one row per build: a killed build adds its own rows; what must match is that
                # every silver table and the marts of every day have a finished build
                out[key] = query(lake, folder.name, "select distinct day, layer, table_name from t order by all")
            else:
                out[key] = sorted_rows(folder.parent, folder.name, WRITTEN_AT.get(folder.name, ()))
    if (lake / MARTS).is_file():
        out.update({f"marts/{name}": rows for name, rows in marts_rows(lake / MARTS).items()})
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, exports) -> dict[str, list[tuple]]:
    root = tmp_path_factory.mktemp("uninterrupted")
    done, seconds = run_cli(root, environment(root, exports))
    assert done.returncode == 0, done.stderr[-3000:]
    got = tables(root / "lakehouse")
    # both days built and published: bronze holds both files' points, every silver table and mart has rows
    assert {str(r[4]) for r in got["marts/oee_daily"]} == set(DAYS)  # column 4: day
    # (the demo plant has no analogue sensors: silver__sensor_intervals and the sensor marts stay empty)
    assert [name for name in got if name.startswith(("silver__", "marts/oee")) and not got[name]] == [
        "silver__sensor_intervals"
    ]
    report("uninterrupted run", {"seconds": round(seconds, 1), "tables": len(got)})
    return got


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


def wait_for(process: subprocess.Popen, reached, what: str, poll: float = 0.02) -> None:
    deadline = time.monotonic() + BOUND
    while not reached():
        assert process.poll() is None, f"the run ended (exit {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {BOUND} s"
        time.sleep(poll)


def freeze_when(process: subprocess.Popen, reached, what: str) -> None:
    """Wait until `reached()`, then stop the CLI where it is (SIGSTOP) and wait until it is stopped."""
    wait_for(process, reached, what)
    os.kill(process.pid, signal.SIGSTOP)
    while _state(process.pid) != "T":
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def daily_run_events(instance: dg.DagsterInstance, day: str, event_type: dg.DagsterEventType) -> list[str]:
    """Step keys of the events of one type in the day's daily run, as the instance has them now."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=DAILY_JOB, tags={"dagster/partition": day}))
    return [e.step_key for r in runs for e in instance.all_logs(r.run_id, of_type=event_type)]


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def _instance_created(home: Path) -> dg.DagsterInstance:
    """The CLI's instance config written into `home` (as the CLI writes it), and its storage created."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    return _instance(home)


def kill_during_landing(root: Path, env: dict[str, str]) -> str:
    # the landing SIGKILLs its own process (the CLI) between the first file's points and its ledger row
    done, _ = run_cli(root, {**env, KILL_AT_ENV: "points_committed"})
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    lake = root / "lakehouse"
    # what the kill left: points of one file committed, no ledger row for it, nothing modelled
    assert sorted_rows(lake, BRONZE_POINTS.name) and not sorted_rows(lake, FILE_LEDGER.name)
    assert not (lake / MARTS).exists() and not (lake / "silver__machine_states").exists()
    return "landing: first file's points committed, its ledger row not written"


def kill_during_silver(root: Path, env: dict[str, str]) -> str:
    home = root / "dagster_home"
    # the instance's storage is created before the CLI starts: two processes creating it at once would
    # stamp its schema twice (the CLI orders its own first opens with a lock file; the test does not take it)
    with _instance_created(home):
        pass
    process = subprocess.Popen(CLI + ["run"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    materialized = dg.DagsterEventType.ASSET_MATERIALIZATION
    with _instance(home) as instance:

        def first_silver_table_written() -> bool:
            return any(k.startswith("silver__") for k in daily_run_events(instance, DAYS[0], materialized))

        freeze_when(process, first_silver_table_written, f"a silver table of {DAYS[0]}")
        started = daily_run_events(instance, DAYS[0], dg.DagsterEventType.STEP_START)
        kill(process)
        written = sorted(set(daily_run_events(instance, DAYS[0], materialized)))
    assert "publish_marts" not in started, f"killed too late: the publish had started ({started})"
    assert not (root / "lakehouse" / MARTS).exists()
    return f"silver of {DAYS[0]}: {len(written)} of 6 silver tables written ({', '.join(written)})"


def kill_during_publish(root: Path, env: dict[str, str]) -> str:
    lake = root / "lakehouse"
    process = subprocess.Popen(CLI + ["run"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    building = lake / f".{MARTS}.building-{process.pid}"

    def second_day_being_published() -> bool:
        # the first day published, the copy aside being built for the second
        return (lake / MARTS).exists() and building.exists()

    freeze_when(process, second_day_being_published, f"the publish of {DAYS[1]}")
    assert building.exists(), "killed too late: the copy aside was already published"
    kill(process)
    published = {str(r[4]) for r in marts_rows(lake / MARTS)["oee_daily"]}
    assert published == {DAYS[0]}, published
    return f"publish of {DAYS[1]}: copy aside {building.stat().st_size} bytes, {DAYS[0]} published"


@pytest.mark.slow
@pytest.mark.parametrize(
    "kill_in",
    [
        pytest.param(kill_during_landing, id="landing"),
        pytest.param(kill_during_silver, id="silver"),
        pytest.param(kill_during_publish, id="publish"),
    ],
)
def test_the_next_run_after_a_kill_finishes_and_gives_the_tables_of_an_uninterrupted_run(
    tmp_path, exports, uninterrupted, kill_in
):
    env = environment(tmp_path, exports)
    where = kill_in(tmp_path, env)

    done, seconds = run_cli(tmp_path, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert seconds < BOUND
    got = tables(tmp_path / "lakehouse")
    report("killed run", {"where": where, "next_run_seconds": round(seconds, 1)})
    said = f"the next run said:\n{done.stdout[-1500:]}"
    missing = sorted(set(uninterrupted) - set(got))
    assert not missing and set(got) == set(uninterrupted), f"tables missing: {missing}; {said}"
    differ = [name for name in uninterrupted if got[name] != uninterrupted[name]]
    assert not differ, f"tables that differ from the uninterrupted run's: {differ}; {said}"
    with _instance(tmp_path / "dagster_home") as instance:
        # the killed run is recorded as failed, not left running; no pool slot is held any more
        unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert not unfinished, [r.run_id for r in unfinished]
        storage = instance.event_log_storage
        infos = storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values()
        assert not [s for info in infos for s in info.claimed_slots]
