"""A writer process for the concurrency test: appends its own rows to one Delta table in many commits.

Usage: append_worker.py URI WRITER COMMITS ROWS GO_FILE (storage settings from the AWS_* variables).
The writer reports ready by creating GO_FILE.ready-WRITER and starts when GO_FILE exists.
"""

import datetime as dt
import os
import sys
import time

import pyarrow as pa

from assets.storage import delta, object_store
from assets.storage.schemas import QUARANTINE


def main(uri: str, writer: int, commits: int, rows: int, go: str) -> None:
    options = object_store.storage_options_from_env()
    open(f"{go}.ready-{writer}", "w").close()
    while not os.path.exists(go):  # both writers begin together, so their commits race
        time.sleep(0.005)
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    for commit in range(commits):
        lines = [commit * rows + i for i in range(rows)]
        table = pa.table(
            {
                "source": ["race"] * rows,
                "source_file": [f"writer-{writer}"] * rows,
                "file_key": [f"{writer}"] * rows,
                "line": pa.array(lines, pa.int64()),
                "reason": ["concurrent append"] * rows,
                "raw": [None] * rows,
                "quarantined_at": pa.array([now] * rows, QUARANTINE.arrow_schema.field("quarantined_at").type),
            }
        )
        delta.append(uri, QUARANTINE, QUARANTINE.conform(table), options)


if __name__ == "__main__":
    try:
        main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        code = 0
    except Exception as exc:  # noqa: BLE001 - reported to the test through the exit code and stderr
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.stderr.flush()
    os._exit(code)  # delta-rs #2184: no interpreter teardown
