"""Shared fixtures of the reliability suite: cheap child processes, the demo plant's exports and lakehouses."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from pathlib import Path

import pytest

from assets.demo.generator import write_demo_exports
from assets.plant.config import load_plant_config
from tests.helpers import workers
from tests.helpers.demo import DAYS, DEMO_START, PLANT_CONFIG
from tests.helpers.lakehouse import copy_lakehouse

REPO = Path(__file__).resolve().parents[2]


class Children:
    """Starts the entry points of `workers` in child processes forked from a server that imported them once."""

    def __init__(self):
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload(["tests.helpers.workers"])
        self.started: list[multiprocessing.Process] = []
        # The server imports the preload from its own sys.path (Python 3.11 does not pass ours on): give it
        # the repository (the `tests` package) through PYTHONPATH while it starts, and only then.
        before = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), before]))
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
    """Four production days of the demo plant and the overlapping re-export: five historian files, ~33,000
    rows each, and L2's four daily orders exports."""
    landing = tmp_path_factory.mktemp("demo_exports")
    write_demo_exports(landing, load_plant_config(PLANT_CONFIG), start=DEMO_START, days=4)
    return landing


@pytest.fixture(scope="session")
def landed_demo(tmp_path_factory, demo_exports, children) -> tuple[Path, Path]:
    """A lakehouse with the demo exports landed (copy it before writing): (lakehouse root, landing root)."""
    lake = tmp_path_factory.mktemp("landed_demo") / "lakehouse"
    assert children.run(workers.land, str(lake), str(demo_exports), PLANT_CONFIG) == 0
    return lake, demo_exports


@pytest.fixture(scope="session")
def silver_demo(tmp_path_factory, landed_demo, children) -> tuple[Path, Path]:
    """The landed demo with the silver tables of three production days built one after the other."""
    lake, landing = landed_demo
    serial = copy_lakehouse(lake, tmp_path_factory.mktemp("silver_demo") / "lakehouse")
    assert children.run(workers.materialize_days, str(serial), str(landing), PLANT_CONFIG, DAYS) == 0
    return serial, landing
