"""The Dagster web server started as a plant serves it (`dagster-webserver -w workspace.yaml` on 127.0.0.1),
for the tests that talk to it over GraphQL or drive it in a browser."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.network import free_port

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
DEMO_DAY = "2026-03-02"  # a Monday, 24 h in Europe/Berlin
# Folders the UI tests wrote screenshots into; the test run's summary names them.
ARTIFACTS_WRITTEN: set[Path] = set()


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class DagsterWebserver:
    """`dagster-webserver` on a free port of 127.0.0.1 with the given environment (LAKEHOUSE_ROOT,
    DAGSTER_HOME, ...), its output in log_path. Starting returns at once, so the caller can do other
    work while the code location loads; `wait_until_up` then waits for it to answer."""

    def __init__(self, env: dict[str, str], log_path: Path, *, read_only: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        webserver = Path(sys.executable).with_name("dagster-webserver")
        args = [str(webserver), "-h", "127.0.0.1", "-p", str(self.port), "-w", str(REPO / "workspace.yaml")]
        if read_only:
            args.insert(1, "--read-only")
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_up(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2):
                    return
            except OSError:
                assert self.process.poll() is None, self.log_path.read_text(errors="replace")
                assert time.monotonic() < deadline, f"the web server did not answer within {timeout_s:.0f} s"
                time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def __enter__(self) -> DagsterWebserver:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


FRESHNESS_TICK = """
import dagster as dg
from orchestration.definitions import build_definitions
from orchestration.freshness import FRESHNESS_JOB
with dg.DagsterInstance.get() as instance:
    build_definitions().resolve_job_def(FRESHNESS_JOB).execute_in_process(instance=instance)
"""


@dataclass(frozen=True)
class DemoUi:
    url: str
    port: int
    lakehouse: Path


@contextlib.contextmanager
def demo_lakehouse_ui(tmp: Path) -> Iterator[DemoUi]:
    """A one-day demo lakehouse built by `iiot-lakehouse demo` + `run` in tmp, and the read-only UI on
    its DAGSTER_HOME, as a plant serves it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "LANDING_", "PLANT_", "DAGSTER_"))}
    env |= {
        "LAKEHOUSE_ROOT": str(tmp / "lakehouse"),
        "LANDING_ROOT": str(tmp / "landing"),
        "PLANT_CONFIG": str(REPO / "assets" / "demo" / "plant.yaml"),
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "PYTHONPATH": str(REPO),
    }
    # The instance config (telemetry off) must be there before the web server reads it, as `make ui` does.
    subprocess.run(
        [sys.executable, "-c", "from orchestration.cli import ensure_dagster_home; ensure_dagster_home()"],
        cwd=tmp,
        env=env,
        check=True,
    )
    # Dagster's own record that its welcome dialog was dismissed: on 127.0.0.1 it would cover the page.
    nux = tmp / "dagster_home" / ".nux"
    nux.mkdir()
    (nux / "nux.yaml").write_text("seen: 1\n", encoding="utf-8")

    # The code location loads while the lakehouse is built; runs show in the UI as they are recorded.
    with DagsterWebserver(env, tmp / "webserver.log", read_only=True) as server:
        for args in (["demo", "--days", "1", "--start", DEMO_DAY], ["run"]):
            done = subprocess.run([*CLI, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
        assert f"production day {DEMO_DAY}: ok" in done.stdout
        # The freshness checks run on their own schedule, not in `run`: one tick of their job, recorded in
        # the same DAGSTER_HOME, so their results show in the UI.
        subprocess.run([sys.executable, "-c", FRESHNESS_TICK], cwd=tmp, env=env, check=True, timeout=300)
        server.wait_until_up()
        yield DemoUi(server.url, server.port, tmp / "lakehouse")
