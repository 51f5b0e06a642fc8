"""The mart registry is read when the marts are first built or documented, not when the code is imported:
loading the Dagster definitions (every worker process, the UI, the sensors) binds no mart SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import orchestration.definitions
from assets.marts import registry

print(registry.all_marts.cache_info().misses)  # 0: nothing read the registry while importing
first = registry.all_marts()
print(registry.all_marts() is first, registry.all_marts.cache_info().misses)  # read once, then kept
print(len(first) == len(list((registry.SQL_DIR / "marts").glob("*.yml"))))
"""


def test_importing_the_definitions_reads_no_mart_and_the_registry_is_read_once():
    env = os.environ | {"DAGSTER_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # misses after import: 0; after two calls: one miss (the first call), and the second call is the same tuple;
    # every YAML in sql/marts/ is a mart
    assert done.stdout.split() == ["0", "True", "1", "True"]
