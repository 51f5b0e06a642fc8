"""A store that cannot make concurrent commits safe is refused before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assets.storage import object_store
from tests.helpers.network import free_port

pytestmark = pytest.mark.s3


def test_a_store_with_conditional_writes_is_accepted(s3_server):
    root = s3_server.prefix()
    object_store.require_safe_commits(root, s3_server.options())
    # the probe object is deleted afterwards
    assert object_store.list_landing(f"{root}/{object_store.PROBE_FOLDER}", s3_server.options()) == []


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("ignored", "accepted a second conditional write of the same object"),
        ("unsupported", "was answered 501 (NotImplemented)"),
    ],
)
def test_a_store_without_working_conditional_writes_is_refused_with_the_reason(s3_server, unsafe_store, mode, says):
    endpoint = unsafe_store(mode)
    root = s3_server.prefix()
    with pytest.raises(object_store.UnsafeStoreError) as refused:
        object_store.require_safe_commits(root, s3_server.options(endpoint))
    message = str(refused.value)
    assert message.startswith("refusing to start")
    assert says in message
    assert "If-None-Match" in message
    assert root in message
    assert s3_server.secret_key not in message and s3_server.access_key not in message


def test_the_cli_refuses_to_run_on_such_a_store(s3_server, unsafe_store, monkeypatch, tmp_path, capsys):
    from orchestration.cli import run

    endpoint = unsafe_store("ignored")
    for name, value in s3_server.env(endpoint).items():
        monkeypatch.setenv(name, value)
    root = s3_server.prefix()
    monkeypatch.setenv("LAKEHOUSE_ROOT", f"{root}/lakehouse")
    monkeypatch.setenv("LANDING_ROOT", f"{root}/landing")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))

    assert run(["run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("iiot-lakehouse: error: refusing to start: the store at")
    assert "ignores If-None-Match" in err
    assert s3_server.secret_key not in err
    # nothing was landed: no table exists under the lakehouse root
    assert object_store.list_landing(f"{root}/lakehouse", s3_server.options()) == []


def test_a_remote_lakehouse_without_credentials_is_refused_with_what_to_set(s3_server):
    options = {k: v for k, v in s3_server.options().items() if k != "aws_secret_access_key"}
    with pytest.raises(object_store.UnsafeStoreError, match="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        object_store.require_safe_commits(s3_server.prefix(), options)


def _without_keys(s3_server, monkeypatch) -> dict[str, str]:
    """The server's options with neither key nor secret, and no key in the environment either."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    return {k: v for k, v in s3_server.options().items() if k not in ("aws_access_key_id", "aws_secret_access_key")}


class _InstanceMetadata(BaseHTTPRequestHandler):
    """The EC2 instance metadata service (IMDSv2) of a machine whose instance profile holds the test keys."""

    protocol_version = "HTTP/1.1"
    access_key: str
    secret_key: str
    asked: list[str]

    def log_message(self, *args) -> None:
        pass

    def _reply(self, body: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_PUT(self) -> None:  # the session token
        self.asked.append(self.path)
        self._reply("imds-session-token")

    def do_GET(self) -> None:
        self.asked.append(self.path)
        if self.path.rstrip("/") == "/latest/meta-data/iam/security-credentials":
            return self._reply("lakehouse-role")
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._reply(
            json.dumps(
                {"AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key, "Expiration": expires, "Token": ""}
            )
        )


def test_instance_profile_credentials_are_picked_up_without_keys(s3_server, monkeypatch):
    handler = type(
        "Handler",
        (_InstanceMetadata,),
        {"access_key": s3_server.access_key, "secret_key": s3_server.secret_key, "asked": []},
    )
    metadata = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_METADATA_ENDPOINT", f"http://127.0.0.1:{metadata.server_address[1]}")
        object_store.require_safe_commits(s3_server.prefix(), _without_keys(s3_server, monkeypatch))
    finally:
        metadata.shutdown()
        metadata.server_close()
    # the keys came from the role's credentials, which SeaweedFS checked
    assert "/latest/meta-data/iam/security-credentials/lakehouse-role" in handler.asked


def test_a_remote_lakehouse_with_no_credentials_anywhere_is_refused_with_what_to_set(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # no instance profile here
    root = s3_server.prefix()
    with pytest.raises(object_store.UnsafeStoreError) as refused:
        object_store.require_safe_commits(root, _without_keys(s3_server, monkeypatch))
    message = str(refused.value)
    assert message.startswith(f"refusing to start: no credentials for {root}: set AWS_ACCESS_KEY_ID and")
    assert "instance profile" in message


def test_a_wrong_secret_is_refused_with_the_stores_answer(s3_server):
    options = {**s3_server.options(), "aws_secret_access_key": "not-the-secret"}
    root = s3_server.prefix()
    with pytest.raises(object_store.UnsafeStoreError) as refused:
        object_store.require_safe_commits(root, options)
    message = str(refused.value)
    # SeaweedFS answers a request signed with another secret 403 SignatureDoesNotMatch
    assert message.startswith(f"refusing to start: a conditional write to {root} was answered 403 ("), message
    assert "not-the-secret" not in message and s3_server.access_key not in message
