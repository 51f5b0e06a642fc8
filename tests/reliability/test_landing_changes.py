"""Exactly the bytes that were hashed are the bytes landed (issue #14, section 3).

A file that changes, grows, shrinks or vanishes between discovery and commit is never recorded: the
pass says so, and a later run lands the file whole, once. A file younger than the settle time is left
for later too.

The file is truncated at an OS call landing makes while it stages (the staging folder's mkdir): a real
truncation of the real file at a fixed point, where a racing writer would hit it only now and then.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from assets.bronze.landing import STAGING_PREFIX, Lakehouse, land_new_files
from assets.plant.config import parse_plant_config
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE
from tests.helpers.exports import HEADER
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config
from tests.helpers.tables import table_rows


@pytest.fixture
def env(tmp_path):
    config = parse_plant_config(one_machine_config())
    lakehouse = Lakehouse(str(tmp_path / "lake"))
    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    return config, lakehouse, landing


def _hours(first: int, count: int) -> bytes:
    # one point an hour of a counter whose value is 100 x the hour
    rows = [r(f"2026-03-02 {h:02d}:00:00", "L1.FILLER.Total", 100 * h) for h in range(first, first + count)]
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def truncate_while_staging(monkeypatch):
    """Cut a file to `keep` bytes when landing makes its staging folder, once (after it was found and
    opened, before it is staged)."""
    cuts: list[tuple[os.PathLike, int]] = []
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        result = real_mkdir(path, *args, **kwargs)
        if STAGING_PREFIX in os.fspath(path) and cuts:
            target, keep = cuts.pop()
            os.truncate(target, keep)
        return result

    monkeypatch.setattr(os, "mkdir", mkdir)
    return cuts


def _mid_line(content: bytes, lines: int) -> int:
    """An offset half-way through data line `lines + 1`: the exporter's truncation cuts a line in two."""
    ends = [i for i, b in enumerate(content) if b == ord("\n")]
    return ends[lines] + 20


def test_a_file_truncated_while_staged_is_not_recorded_and_lands_whole_once_restored(env, truncate_while_staging):
    config, lakehouse, landing = env
    path = landing / "historian" / "a.csv"
    path.write_bytes(_hours(6, 6))  # 06:00..11:00
    assert [(f.status, f.rows_new) for f in land_new_files(lakehouse, config, landing).files] == [("landed", 6)]

    # The exporter rewrites the file with twelve hours; landing is cut off after nine lines and a half.
    full = _hours(6, 12)  # 06:00..17:00
    path.write_bytes(full)
    truncate_while_staging.append((path, _mid_line(full, 9)))
    cut = land_new_files(lakehouse, config, landing)
    assert [(f.source_file, f.status) for f in cut.files] == [("historian/a.csv", "deferred")]
    assert any(n.startswith("historian/a.csv: shrank from") and "landed on a later run" in n for n in cut.notes)
    assert cut.landed == []
    # nothing of the cut file recorded: the ledger holds the first version only, bronze its 6 points
    assert table_rows(lakehouse, FILE_LEDGER.name, "select count(*) from t") == [(1,)]
    assert table_rows(lakehouse, BRONZE_POINTS.name, "select count(*) from t") == [(6,)]
    assert table_rows(lakehouse, QUARANTINE.name, "select count(*) from t") == []

    # The exporter writes the same twelve hours back: the whole file lands, once.
    path.write_bytes(full)
    again = land_new_files(lakehouse, config, landing)
    # 12 rows: 06..11 are the 6 points already landed (duplicates), 12..17 are new
    assert [(f.status, f.rows_in, f.rows_new, f.rows_duplicate, f.rows_quarantined) for f in again.files] == [
        ("landed", 12, 6, 6, 0)
    ]
    assert table_rows(lakehouse, FILE_LEDGER.name, "select file_sha256, rows_in from t order by rows_in") == [
        (hashlib.sha256(_hours(6, 6)).hexdigest(), 6),
        (hashlib.sha256(full).hexdigest(), 12),
    ]
    assert table_rows(lakehouse, BRONZE_POINTS.name, "select hour(ts), value from t order by ts") == [
        (h - 1, 100.0 * h)
        for h in range(6, 18)  # 06:00 Europe/Berlin in March is 05:00 UTC
    ]
    assert [f.status for f in land_new_files(lakehouse, config, landing).files] == ["skipped"]


def test_a_new_file_truncated_while_staged_is_not_recorded(env, truncate_while_staging):
    config, lakehouse, landing = env
    path = landing / "historian" / "new.csv"
    full = _hours(6, 12)
    path.write_bytes(full)
    truncate_while_staging.append((path, _mid_line(full, 4)))
    cut = land_new_files(lakehouse, config, landing)
    assert [f.status for f in cut.files] == ["deferred"]
    assert table_rows(lakehouse, FILE_LEDGER.name, "select count(*) from t") == []
    assert table_rows(lakehouse, BRONZE_POINTS.name, "select count(*) from t") == []
    assert table_rows(lakehouse, QUARANTINE.name, "select count(*) from t") == []

    path.write_bytes(full)
    again = land_new_files(lakehouse, config, landing)
    assert [(f.status, f.rows_new, f.rows_quarantined) for f in again.files] == [("landed", 12, 0)]
    assert table_rows(lakehouse, FILE_LEDGER.name, "select file_sha256 from t") == [(hashlib.sha256(full).hexdigest(),)]


def test_a_file_younger_than_the_settle_time_is_left_for_later(env):
    config, lakehouse, landing = env
    path = landing / "historian" / "young.csv"
    path.write_bytes(_hours(6, 3))
    young = land_new_files(lakehouse, config, landing, settle_seconds=30)
    assert [(f.source_file, f.status) for f in young.files] == [("historian/young.csv", "deferred")]
    (note,) = young.notes
    assert note.startswith("historian/young.csv: modified 0 s ago, within the settle time of 30 s")
    assert table_rows(lakehouse, FILE_LEDGER.name, "select count(*) from t") == []

    old = time.time() - 31
    os.utime(path, (old, old))
    settled = land_new_files(lakehouse, config, landing, settle_seconds=30)
    assert [(f.status, f.rows_new) for f in settled.files] == [("landed", 3)]


def test_run_applies_the_landing_sensors_settle_time(plant_factory, monkeypatch):
    import dagster as dg

    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "30")
    plant = plant_factory()
    plant.export("young.csv", [r("2026-03-02 06:00:00", "L1.FILLER.Total", 1)])
    result = plant.land()
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(BRONZE_POINTS.name)]
    metadata = event.materialization.metadata
    assert (metadata["files_landed"].value, metadata["files_deferred"].value) == (0, 1)
    assert any(n.startswith("historian/young.csv: modified") for n in metadata["notes"].value)
