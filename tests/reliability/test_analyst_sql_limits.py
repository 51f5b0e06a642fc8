"""Analyst SQL has limits (issue 14, section 9): a statement timeout, a streamed result that the memory limit
bounds, and a spill folder that SIGTERM removes as SIGINT does.

Each test runs the real `iiot-lakehouse sql` (or its module) on a marts file published by the real pipeline
in tmp_path. The long statements count hashes over a range of 10^12 rows: minutes of work on any machine, so
a test that is not interrupted does not pass by finishing early, it gets a count instead of the error.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from orchestration.analyst_sql import AnalystSqlError, main, run_query
from tests.helpers.exports import aveva_row as r
from tests.helpers.figures import report
from tests.helpers.lakehouse import Plant
from tests.helpers.plant import one_machine_config

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli", "sql"]
LONG_STATEMENT = "select count(*) from range(1_000_000_000_000) where hash(range) = 7"
# A grouping with one group per row cannot stay within 64MB: DuckDB spills it to the temporary folder
SPILLING_STATEMENT = "select count(*) from (select hash(range) as h from range(1_000_000_000_000) group by h)"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A lakehouse root whose marts file the real assets published: FILLER on Monday 2026-03-02."""
    plant = Plant(tmp_path_factory.mktemp("analyst_sql"), one_machine_config())
    plant.export(
        "History_20260302.csv",
        [
            r("2026-03-02 06:00:00", "L1.FILLER.State", 1),
            r("2026-03-02 06:00:00", "L1.FILLER.Total", 0),
            r("2026-03-02 13:00:00", "L1.FILLER.Total", 25_000),
            r("2026-03-02 14:00:00", "L1.FILLER.State", 4),
        ],
    )
    plant.land()
    plant.build_day("2026-03-02")
    # one machine, one built production day: one row, which the cross joins below multiply
    assert plant.query("select machine, day::varchar from oee_daily") == [("FILLER", "2026-03-02")]
    return plant.root


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A temporary folder of this test alone, where the spill folders of in-process queries go."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _env(published: Path, tmp: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "LAKEHOUSE_ROOT": str(published), "PYTHONPATH": str(REPO)}
    env.pop("DAGSTER_HOME", None)
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return env


class _Lines(io.TextIOBase):
    """An output that keeps only the number of lines written and the last one."""

    def __init__(self):
        self.count = 0
        self.last = ""

    def write(self, text: str) -> int:
        lines = text.splitlines()
        self.count += len(lines)
        self.last = lines[-1] if lines else self.last
        return len(text)


# --- the statement timeout ---------------------------------------------------------------------------------


def test_a_statement_past_its_timeout_is_interrupted_and_its_spill_folder_removed(published, private_tmp):
    started = time.monotonic()
    with pytest.raises(AnalystSqlError) as stopped:
        run_query(published / "marts.duckdb", LONG_STATEMENT, timeout=1)
    report("timeout in-process", {"seconds": round(time.monotonic() - started, 2)})
    assert str(stopped.value) == "the statement exceeded 1 s (--timeout) and was interrupted"
    assert list(private_tmp.iterdir()) == []


def test_the_timeout_bounds_the_reading_of_the_rows_too(published, private_tmp):
    # 10^12 rows are produced at once, streamed and written for a second, then the statement is stopped
    out = _Lines()
    with pytest.raises(AnalystSqlError, match=r"^the statement exceeded 1 s \(--timeout\) and was interrupted$"):
        main(
            published / "marts.duckdb",
            "select range as n from range(1_000_000_000_000)",
            fmt="csv",
            max_rows=10**13,
            timeout=1,
            out=out,
        )
    report("timeout while streaming", {"lines written": out.count})
    assert out.count > 1  # the header and rows were written before the timeout: the result was streamed
    assert out.last == str(out.count - 2)  # rows 0, 1, ... in order after the header, none skipped
    assert list(private_tmp.iterdir()) == []


def test_a_statement_within_its_timeout_gives_its_result(published, private_tmp):
    # 1 + 2 + ... + 1,000,000 = 1,000,000 * 1,000,001 / 2
    assert run_query(published / "marts.duckdb", "select sum(range) from range(1, 1_000_001)", timeout=60)[1] == [
        (500_000_500_000,)
    ]
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("timeout", [-1.0, float("nan")])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(published, timeout):
    with pytest.raises(AnalystSqlError, match=r"^--timeout must be a number of seconds, 0 for none"):
        run_query(published / "marts.duckdb", "select 1", timeout=timeout)


def test_a_timeout_of_zero_is_no_timeout(published, private_tmp):
    assert run_query(published / "marts.duckdb", "select 42", timeout=0)[1] == [(42,)]


def test_the_sql_command_exits_non_zero_naming_the_timeout(published):
    result = subprocess.run(
        [*CLI, "--timeout", "2", LONG_STATEMENT], env=_env(published), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert (
        result.stderr.splitlines()[-1]
        == "iiot-lakehouse: error: the statement exceeded 2 s (--timeout) and was interrupted"
    )


# --- a streamed result ---------------------------------------------------------------------------------


def test_the_table_format_streams_with_widths_from_the_first_rows(published):
    # pad is range // 500 x's: rows 0-999 have at most 1, so the widths are set to 3 ("999", "pad");
    # rows from 1000 on have wider n and rows from 2000 on a wider pad: they are written whole, not cut.
    out = io.StringIO()
    sql = "select range as n, repeat('x', range // 500) as pad from range(2500) order by n"
    assert main(published / "marts.duckdb", sql, fmt="table", out=out) == 0
    expected = ["  n  pad", "---  ---"] + [
        f"{str(i).rjust(3)}  {('x' * (i // 500)).ljust(3)}".rstrip() for i in range(2500)
    ]
    assert out.getvalue().splitlines() == expected


def _high_water_mb(pid: int) -> float | None:
    """The kernel's peak resident memory of a live process (VmHWM), in MB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return None if kb is None else int(kb) / 1024


def _peak_rss_mb(args: list[str], env: dict[str, str], expected_lines=None) -> tuple[float, int]:
    """Peak resident memory in MB and the number of stdout lines of a run that must succeed.

    VmHWM is the process's own high-water mark, read every 20 ms while it runs, so a peak between two reads
    is still seen at the next one. (wait4's ru_maxrss would not do: it counts the forked copy of this
    pytest process before the exec.) With `expected_lines`, each line read is compared with the next
    expected one as it comes, so the test never holds the output either.
    """
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: list[float] = []

    def watch() -> None:
        while process.returncode is None and (mb := _high_water_mb(process.pid)) is not None:
            peaks.append(mb)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    lines = 0
    mismatch = None
    for line in process.stdout:
        if expected_lines is not None and mismatch is None:
            want = next(expected_lines, None)
            if line.rstrip("\n") != want:
                mismatch = (lines, line[:80], (want or "")[:80])
        lines += 1
    stderr = process.stderr.read()
    process.wait()
    watcher.join()
    assert process.returncode == 0, stderr
    assert mismatch is None, mismatch
    return max(peaks), lines


@pytest.mark.slow
def test_a_large_result_streams_within_the_memory_limit(published):
    """Before: 500,000 rows of 1,000 characters with --memory-limit 64MB reached 1.86 GB; the rows were held."""
    env = _env(published)
    # the interpreter, DuckDB, pyarrow and dagster imported, one row printed: what any `sql` run costs
    baseline_mb, _ = _peak_rss_mb([*CLI, "select 1"], env)
    rows = 300_000
    pad = "x" * 1_000
    # oee_daily has the one FILLER row, so the cross join gives exactly `rows` rows, numbered 0 .. rows - 1:
    # ~300 MB of CSV, which a process holding it would need more than 200 MB above the baseline for.
    # (the rows are numbered and ordered before the padding is made, so the sort itself stays small)
    sql = (
        "select machine, n, repeat('x', 1000) as pad"
        f" from (select o.machine, r.range as n from oee_daily o, range({rows}) r order by n)"
    )
    expected = iter(["machine,n,pad", *(f"FILLER,{i},{pad}" for i in range(rows))])
    peak_mb, lines = _peak_rss_mb(
        [*CLI, "--format", "csv", "--memory-limit", "64MB", "--max-rows", str(rows), sql], env, expected
    )
    report("sql memory", {"baseline MB": round(baseline_mb), "large result MB": round(peak_mb), "lines": lines})
    assert lines == rows + 1
    assert next(expected, None) is None
    assert peak_mb < baseline_mb + 200


# --- SIGTERM and SIGINT ------------------------------------------------------------------------------------


def _spill_files(tmp: Path) -> list[Path]:
    return [f for folder in tmp.glob("iiot-analyst-*") for f in folder.iterdir()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_query_and_removes_its_spill_folder(published, tmp_path, signum):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    process = subprocess.Popen(
        [*CLI, "--memory-limit", "64MB", "--timeout", "600", SPILLING_STATEMENT],
        env=_env(published, tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the query is running once DuckDB has spilled into the folder; the CLI's imports take a while first
        deadline = time.monotonic() + 300
        while not _spill_files(tmp):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the query never spilled"
            time.sleep(0.2)
        spilled = sorted(f.name for f in _spill_files(tmp))
        sent = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    report(f"sql {signal.Signals(signum).name}", {"spill files": len(spilled), "seconds to exit": round(took, 2)})
    # before: SIGTERM killed the process (exit -15) and left the folder with DuckDB's files in it
    assert list(tmp.iterdir()) == []  # the spill folder and DuckDB's files in it are gone
    assert process.returncode == 1, stderr
    assert stdout == ""
    name = signal.Signals(signum).name
    assert stderr.splitlines()[-1] == f"iiot-lakehouse: error: stopped by {name}; the query was interrupted"
