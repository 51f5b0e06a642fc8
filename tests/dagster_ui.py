"""The Dagster web server started as a plant serves it (`dagster-webserver -w workspace.yaml` on 127.0.0.1),
for the tests that talk to it over GraphQL or drive it in a browser."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
