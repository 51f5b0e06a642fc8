"""Errors say what happened; exit codes tell the truth (issue 14, section 8).

The real `iiot-lakehouse run` in a subprocess, on a plant written here: a rejected file fails the run
and is named on the last line; a second run with nothing new says so without starting a Dagster run;
a missing LANDING_ROOT or source folder is an error naming the folders; a full disk, a read-only file
system (a real tmpfs, where mounting is permitted) and a corrupt Delta log are named as the root cause
and not retried.
"""

from __future__ import annotations

import errno
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from assets.storage.errors import unretryable_cause
from tests.helpers.cli import CliPlant as Plant
from tests.helpers.cli import last_line
from tests.helpers.exports import aveva_row as r
from tests.helpers.exports import write_aveva
from tests.helpers.figures import report
from tests.helpers.plant import one_machine_config

# Monday 2026-03-02 (Europe/Berlin): the machine runs from 07:00 and counts 10 units by 08:00. Two
# data lines, one production day; the day is long over, so `run` builds it.
ROWS = [r("2026-03-02 07:00:00", "L1.FILLER.State", 1), r("2026-03-02 08:00:00", "L1.FILLER.Total", 10)]


def test_a_rejected_file_fails_the_run_and_a_second_run_with_nothing_new_starts_no_dagster_run(tmp_path):
    plant = Plant(tmp_path)
    write_aveva(plant.landing / "historian" / "a.csv", ROWS)
    # named as a zip archive, but it is text: the reader refuses the file as a whole
    (plant.landing / "historian" / "bad.zip").write_text("not a zip\n", encoding="utf-8")
    (plant.landing / "stray.csv").write_text("x\n", encoding="utf-8")

    first = plant.run()
    assert first.returncode == 1, first.stderr[-3000:]
    # a.csv landed, bad.zip rejected, nothing seen before
    assert "  files landed: 1, rejected: 1, already landed: 0\n" in first.stdout
    assert "  lines in: 2, values in: 2, values new: 2, values duplicate: 0, values quarantined: 0\n" in first.stdout
    assert (
        "  note: stray.csv: in no source's folder; not read; it could go in: historian/ (aveva_historian_csv)\n"
        in first.stdout
    )
    # the good file's day is built and published all the same
    assert "  production day 2026-03-02: ok\n" in first.stdout
    assert f"marts published in {plant.lake / 'marts.duckdb'}" in first.stdout
    assert last_line(first).startswith("iiot-lakehouse: error: 1 file(s) rejected: historian/bad.zip: ")
    assert "not a readable zip archive" in last_line(first)
    assert len(plant.runs()) == 2  # the landing run and the day's run

    (plant.landing / "historian" / "bad.zip").unlink()
    began = time.perf_counter()
    second = plant.run()
    seconds = time.perf_counter() - began
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.splitlines() == [
        f"landing new files from {plant.landing}",
        "  files landed: 0, rejected: 0, already landed: 1",
        "  note: stray.csv: in no source's folder; not read; it could go in: historian/ (aveva_historian_csv)",
        "nothing new to land; no production day gained new data or is stale; nothing to rebuild",
    ]
    assert len(plant.runs()) == 2  # no Dagster run was started
    report("nothing new", {"second_run_s": round(seconds, 1)})

    # a file that changed since it was landed is new again: a.csv with its count rewritten (same size)
    write_aveva(plant.landing / "historian" / "a.csv", [ROWS[0], ROWS[1].replace(",10,10,", ",11,11,")])
    third = plant.run()
    assert third.returncode == 0, third.stderr[-3000:]
    assert "  files landed: 1, rejected: 0, already landed: 0\n" in third.stdout
    assert len(plant.runs()) == 4


def test_a_corrupt_delta_log_is_named_and_not_retried(tmp_path):
    plant = Plant(tmp_path)
    write_aveva(plant.landing / "historian" / "a.csv", ROWS)
    assert plant.run().returncode == 0
    log = plant.lake / "bronze__file_ledger" / "_delta_log"
    newest = max(int(p.stem) for p in log.glob("*.json"))
    entry = log / f"{newest:020d}.json"
    entry.write_bytes(entry.read_bytes()[:40])  # a log entry cut short, as a power loss leaves it
    write_aveva(plant.landing / "historian" / "b.csv", [r("2026-03-02 09:00:00", "L1.FILLER.Total", 20)])

    broken = plant.run()
    assert broken.returncode == 1
    assert re.fullmatch(
        rf"iiot-lakehouse: error: landing failed \(run [0-9a-f-]+\): "
        rf"corrupt Delta log of bronze__file_ledger \(version {newest} is not valid JSON\)",
        last_line(broken),
    ), last_line(broken)
    assert plant.retries() == 0


def test_a_missing_landing_root_or_source_folder_is_an_error_naming_the_folders(tmp_path):
    config = one_machine_config()
    config["sources"].append({"name": "sensors", "format": "sensor_csv", "folder": "sensors"})
    plant = Plant(tmp_path, config)

    nowhere = plant.run()
    assert nowhere.returncode == 1
    assert last_line(nowhere) == (
        f"iiot-lakehouse: error: LANDING_ROOT {plant.landing} does not exist (set LANDING_ROOT, or create it); "
        f"expected the sources' folders: {plant.landing / 'historian'} (source historian, aveva_historian_csv), "
        f"{plant.landing / 'sensors'} (source sensors, sensor_csv)"
    )
    assert not plant.lake.exists()  # nothing was written

    write_aveva(plant.landing / "historian" / "a.csv", ROWS)
    partly = plant.run()
    assert partly.returncode == 1
    # the historian's file lands and its day is built; the run still fails, naming the missing folder
    assert "  files landed: 1, rejected: 0, already landed: 0\n" in partly.stdout
    assert "  production day 2026-03-02: ok\n" in partly.stdout
    assert last_line(partly) == (
        f"iiot-lakehouse: error: source folder(s) missing: {plant.landing / 'sensors'} (source sensors, sensor_csv); "
        "create them, or correct `folder:` in the plant config"
    )


def test_storage_faults_are_told_from_real_errors(tmp_path):
    # /dev/full: a real device whose every write fails with ENOSPC
    with pytest.raises(OSError) as full:
        with open("/dev/full", "wb") as device:
            device.write(b"x" * 10)
    assert full.value.errno == errno.ENOSPC
    assert unretryable_cause(full.value, writing="/lake/silver__machine_states") == (
        "no space left on device while writing /lake/silver__machine_states"
    )
    # wrapped, as an asset's caller sees it: the cause is found down the chain
    try:
        try:
            raise full.value
        except OSError as inner:
            raise RuntimeError("writing the day failed") from inner
    except RuntimeError as outer:
        assert unretryable_cause(outer, writing="/lake/x") == "no space left on device while writing /lake/x"
    # an error a retry may fix is left to the retry policy
    assert unretryable_cause(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")) is None

    # a Delta table of three versions, its newest log entry cut short, then one missing
    table = tmp_path / "lake" / "silver__tag_quality"
    for _ in range(3):
        write_deltalake(str(table), pa.table({"x": [1, 2]}), mode="append")
    entry = table / "_delta_log" / f"{2:020d}.json"
    entry.write_bytes(entry.read_bytes()[:25])
    with pytest.raises(Exception) as truncated:
        DeltaTable(str(table))
    assert unretryable_cause(truncated.value, lakehouse_root=str(tmp_path / "lake")) == (
        "corrupt Delta log of silver__tag_quality (version 2 is not valid JSON)"
    )
    (table / "_delta_log" / f"{1:020d}.json").unlink()
    with pytest.raises(Exception) as gap:
        DeltaTable(str(table))
    assert unretryable_cause(gap.value, lakehouse_root=str(tmp_path / "lake")) == (
        "corrupt Delta log of silver__tag_quality (version 1 is missing)"
    )


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", f"iiot-test-{uuid.uuid4().hex[:8]}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0 or shutil.which("umount") is None:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'no umount'}")


@pytest.mark.slow
def test_a_full_disk_and_a_read_only_file_system_are_named_and_not_retried(tmp_path):
    lake = tmp_path / "lakehouse"
    # 1 MiB holds the two lines' bronze and silver tables (about 120 KiB), not a marts file (over 1 MiB)
    _mount_tmpfs(lake, "1m")
    try:
        plant = Plant(tmp_path, lake=lake)
        write_aveva(plant.landing / "historian" / "a.csv", ROWS)
        full = plant.run()
        assert full.returncode == 1
        assert "  files landed: 1, rejected: 0, already landed: 0\n" in full.stdout
        day = re.search(r"  production day 2026-03-02: FAILED: (.*)\n", full.stdout)
        assert day is not None, full.stdout
        assert re.fullmatch(rf"no space left on device while writing {lake}/\.marts\.duckdb\.building-\d+", day[1])
        assert "marts published" not in full.stdout
        assert "marts not published\n" in full.stdout
        assert last_line(full) == f"iiot-lakehouse: error: 1 production day(s) failed: 2026-03-02: {day[1]}"
        assert plant.retries() == 0

        subprocess.run(["mount", "-o", "remount,ro", str(lake)], check=True)
        rebuild = plant.run("--start", "2026-03-02", "--end", "2026-03-02")
        assert rebuild.returncode == 1
        assert re.fullmatch(
            rf"iiot-lakehouse: error: 1 production day\(s\) failed: 2026-03-02: "
            rf"read-only file system: cannot write {lake}/silver__\w+",
            last_line(rebuild),
        ), last_line(rebuild)

        write_aveva(plant.landing / "historian" / "b.csv", [r("2026-03-02 09:00:00", "L1.FILLER.Total", 20)])
        landing = plant.run()
        assert landing.returncode == 1
        assert re.fullmatch(
            r"iiot-lakehouse: error: landing failed \(run [0-9a-f-]+\): "
            rf"read-only file system: cannot write {lake}/\.landing\.lock",
            last_line(landing),
        ), last_line(landing)
        assert plant.retries() == 0
    finally:
        subprocess.run(["umount", "-l", str(lake)], check=False)
