"""A store that cannot make concurrent commits safe is refused before anything is written."""

from __future__ import annotations

import pytest

from assets.core import object_store

pytestmark = pytest.mark.s3


def test_a_store_with_conditional_writes_is_accepted(s3_server):
    object_store.require_safe_commits(s3_server.prefix(), s3_server.options())


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
