"""Shared fixtures: a plant in tmp_path with the real assets run on it, the demo UI, and the run's exit.

The plain helpers (plant configs, exports, table reads, the UI server) are in tests/helpers/."""

from __future__ import annotations

import os

import pytest

from tests.helpers.lakehouse import Plant
from tests.helpers.plant import one_machine_config

# Tests land the files they have just written: no settle time, unless a test sets one (the default of
# 30 s is for a plant's exporters; tests/reliability/test_landing_changes.py tests it). Set before any
# child process or forkserver starts, so that they inherit it.
os.environ.setdefault("LANDING_SETTLE_SECONDS", "0")


@pytest.fixture
def plant_factory(tmp_path):
    def make(config: dict | None = None) -> Plant:
        return Plant(tmp_path, config or one_machine_config())

    return make


@pytest.fixture(scope="session")
def demo_ui(tmp_path_factory):
    """The one-day demo lakehouse and the read-only Dagster UI on its runs, shared by the UI tests."""
    from tests.helpers.ui import demo_lakehouse_ui

    with demo_lakehouse_ui(tmp_path_factory.mktemp("demo_ui")) as ui:
        yield ui


@pytest.fixture(autouse=True)
def _dagster_home(tmp_path, monkeypatch):
    # materialize() uses an ephemeral instance; keep any stray DAGSTER_HOME from leaking in.
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


_exit_status: list[int] = []


def pytest_terminal_summary(terminalreporter):
    from tests.helpers.ui import ARTIFACTS_WRITTEN

    for folder in sorted(ARTIFACTS_WRITTEN):
        terminalreporter.write_line(f"browser screenshots of the Dagster UI in {folder}")


def pytest_sessionfinish(session, exitstatus):
    _exit_status.append(int(exitstatus))


def pytest_unconfigure(config):
    # The Delta reader's native threads can abort the interpreter at exit (delta-rs #2184) after every
    # test has run and been reported; leave with pytest's own status instead.
    if _exit_status and os.environ.get("IIOT_TEST_HARD_EXIT", "1") == "1":
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
