"""Shared fixtures of the reliability suite: cheap child processes, the demo plant's exports, table reads."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.demo.generator import write_demo_exports
from assets.plant.config import DEFAULT_PLANT_CONFIG, load_plant_config
from assets.storage import delta

DEMO_START = dt.date(2026, 3, 2)
PLANT_CONFIG = str(DEFAULT_PLANT_CONFIG)
DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
TESTS_DIR = Path(__file__).resolve().parents[1]


class Children:
    """Starts the entry points of `workers` in child processes forked from a server that imported them once."""

    def __init__(self):
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(["reliability.workers"])
        self.started: list[multiprocessing.Process] = []
        # The server imports the preload from its own sys.path (Python 3.11 does not pass ours on): give it
        # the tests folder through PYTHONPATH while it starts, and only then.
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), before]))
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            if before is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = before

    def start(self, target, *args) -> multiprocessing.Process:
        process = self.ctx.Process(target=target, args=args, daemon=True)
        process.start()
        self.started.append(process)
        return process

    def run(self, target, *args, timeout: float = 300) -> int:
        process = self.start(target, *args)
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise AssertionError(f"{target.__name__} did not finish within {timeout} s")
        return process.exitcode

    def barrier(self, parties: int):
        return self.ctx.Barrier(parties)

    def stop_all(self) -> None:
        for process in self.started:
            if process.is_alive():
                process.kill()
                process.join()


@pytest.fixture(scope="session")
def children():
    pool = Children()
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory) -> Path:
    """Four production days of the demo plant and the overlapping re-export: five files, ~33,000 rows each."""
    landing = tmp_path_factory.mktemp("demo_exports")
    write_demo_exports(landing, load_plant_config(PLANT_CONFIG), start=DEMO_START, days=4)
    return landing


@pytest.fixture(scope="session")
def landed_demo(tmp_path_factory, demo_exports, children) -> tuple[Path, Path]:
    """A lakehouse with the demo exports landed (copy it before writing): (lakehouse root, landing root)."""
    from . import workers

    lake = tmp_path_factory.mktemp("landed_demo") / "lakehouse"
    assert children.run(workers.land, str(lake), str(demo_exports), PLANT_CONFIG) == 0
    return lake, demo_exports


@pytest.fixture(scope="session")
def silver_demo(tmp_path_factory, landed_demo, children) -> tuple[Path, Path]:
    """The landed demo with the silver tables of three production days built one after the other."""
    from . import workers

    lake, landing = landed_demo
    serial = copy_lakehouse(lake, tmp_path_factory.mktemp("silver_demo") / "lakehouse")
    assert children.run(workers.materialize_days, str(serial), str(landing), PLANT_CONFIG, DAYS) == 0
    return serial, landing


def copy_lakehouse(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def query(lake: Path | str, table: str, sql: str = "select * from t", params=None) -> list[tuple]:
    """Rows of a Delta table through DuckDB over its pyarrow dataset (never materialised in Python)."""
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    if table_obj is None:
        return []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        con.register("t", table_obj.to_pyarrow_dataset())
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def columns(lake: Path | str, table: str) -> list[str]:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return [] if table_obj is None else list(table_obj.schema().to_arrow().names)


def sorted_rows(lake: Path | str, table: str, exclude: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of a table without the excluded columns, in a stable order, for comparing whole tables."""
    names = [c for c in columns(lake, table) if c not in exclude]
    if not names:
        return []
    select = ", ".join(f'"{c}"' for c in names)
    return query(lake, table, f"select {select} from t order by all")


def version(lake: Path | str, table: str) -> int | None:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return None if table_obj is None else table_obj.version()


def history(lake: Path | str, table: str) -> list[dict]:
    table_obj = delta.open_table(delta.table_uri(str(lake), table))
    return [] if table_obj is None else sorted(table_obj.history(), key=lambda h: h["version"])


def marts_rows(marts_file: Path) -> dict[str, list[tuple]]:
    """Every mart table's rows, sorted, from a published marts file (read-only)."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' order by 1"
            ).fetchall()
        ]
        return {name: con.execute(f'select * from "{name}" order by all').fetchall() for name in names}
    finally:
        con.close()


def report(title: str, figures: dict) -> None:
    """Print a test's figures (shown with -s, and in the captured output of a failure)."""
    print(f"\n[{title}] " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
