"""Two processes appending to one Delta table in the bucket at the same time: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from assets.storage import delta
from assets.storage.schemas import QUARANTINE

pytestmark = pytest.mark.s3

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("append_worker.py")
COMMITS, ROWS = 15, 40


def test_two_writers_appending_concurrently_keep_every_row_exactly_once(s3_server, tmp_path):
    uri = f"{s3_server.prefix()}/{QUARANTINE.name}"
    options = s3_server.options()
    delta.ensure_table(uri, QUARANTINE, options)
    env = {**os.environ, **s3_server.env(), "PYTHONPATH": str(REPO)}
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), uri, str(w), str(COMMITS), str(ROWS), str(go)],
            env=env,
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    deadline = time.monotonic() + 120
    while not all(go.with_name(f"go.ready-{w}").exists() for w in (1, 2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors

    table = DeltaTable(uri, storage_options=options)
    # one version for the table's creation, then one commit per append of each writer
    assert table.version() == 2 * COMMITS
    con = duckdb.connect()
    try:
        con.register("rows", table.to_pyarrow_dataset())
        per_writer = con.execute(
            "select source_file, count(*), count(distinct line), min(line), max(line) from rows group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
    # 15 commits x 40 rows per writer, lines 0..599 each, every one exactly once
    assert per_writer == [("writer-1", 600, 600, 0, 599), ("writer-2", 600, 600, 0, 599)]
