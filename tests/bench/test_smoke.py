"""The benchmark at its tiny scale: it runs to the end and prints its table with the ratios.

Timings are never asserted: CI machines are noisy, and the figures belong in bench/README.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_tiny_prints_its_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "tiny", "--work", str(tmp_path / "bench")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = proc.stdout
    header = next(line for line in out.splitlines() if line.startswith("measure"))
    for column in ("median s", "rows/s", "peak RSS MB", "x limit", "x peer", "target"):
        assert column in header
    for measure in (
        "1 limit",
        "2 ours: land fresh export",
        "2 ours: land overlapping re-export",
        "3 peer",
        "4 memory",
        "5 day end to end",
        "6 query",
    ):
        assert measure in out, measure
    assert "PASS" in out or "MISS" in out
