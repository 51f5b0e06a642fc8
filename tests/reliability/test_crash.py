"""Crash consistency: landing killed with SIGKILL at random points, then re-run, ends as if never killed."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG
from tests.helpers import workers
from tests.helpers.demo import PLANT_CONFIG
from tests.helpers.figures import report
from tests.helpers.lakehouse import copy_lakehouse
from tests.helpers.tables import history, query, sorted_rows

SEED = 20260302
KILLS_PER_BATCH = 6  # 5 batches: 30 kills at least (a run that ends before its kill is tried again)
# Points of the commit order a kill is sent to exactly (see landing_commit._kill_point); the rest are random.
NAMED_POINTS = ("staged", "quarantined", "points_committed", "ledger_written", "landed")
HEADER = "DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode\n"


def _utc(*args) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def _edited(lines: list[str], step: int, delta: float) -> list[str]:
    """Every step-th numeric data row with its value moved by delta (the same tag and time, another value)."""
    out = []
    for line in lines[1::step]:
        parts = line.rstrip("\n").split(",")
        try:
            value = float(parts[2]) + delta
        except ValueError:
            continue
        parts[2] = parts[3] = f"{value:g}"
        out.append(",".join(parts) + "\n")
    return out


def export_set(demo: Path, folder: Path) -> list[list[str]]:
    """The demo exports plus a file with bad rows, a later correction (changed values, an in-file conflict)
    and an earlier export that a later one supersedes; returned as the batches in which they arrive."""
    historian = folder / "historian"
    historian.mkdir(parents=True)
    for i, path in enumerate(sorted((demo / "historian").iterdir())):
        shutil.copyfile(path, historian / path.name)
        os.utime(historian / path.name, (_utc(2026, 3, 10, i), _utc(2026, 3, 10, i)))
    day2 = (historian / "History_20260303.csv").read_text().splitlines(keepends=True)
    day3 = (historian / "History_20260304.csv").read_text().splitlines(keepends=True)
    bad = [
        "not a time,L1.FILLER.Total,1,1,0,192,192,Delta\n",
        "2026-03-03 07:00:00.000,L1.FILLER.Total,12abc,12abc,0,192,192,Delta\n",
        "2026-03-03 07:00:01.000,,5,5,0,192,192,Delta\n",
        "2026-03-03 07:00:02.000\n",
        "2026-03-03 07:00:03.000,L9.SPARE.Temp,21.5,21.5,0,192,192,Delta\n",
        "2026-03-03 07:00:04.000,L9.SPARE.Temp,21.7,21.7,0,192,192,Delta\n",
    ]
    (historian / "History_bad.csv").write_text(HEADER + "".join(bad))
    fix = _edited(day2, 400, 1.0)
    fix += [fix[0].replace(fix[0].split(",")[2], "999999", 2)]  # the same point twice, another value: a conflict
    (historian / "History_fix.csv").write_text(HEADER + "".join(fix))
    (historian / "History_old.csv").write_text(HEADER + "".join(_edited(day3, 500, -1.0)))
    os.utime(historian / "History_bad.csv", (_utc(2026, 3, 10, 8), _utc(2026, 3, 10, 8)))
    os.utime(historian / "History_fix.csv", (_utc(2026, 3, 12), _utc(2026, 3, 12)))
    os.utime(historian / "History_old.csv", (_utc(2026, 3, 1), _utc(2026, 3, 1)))
    return [
        ["History_20260302.csv"],
        ["History_20260303.csv", "History_bad.csv"],
        ["History_20260304.csv", "History_20260304_reexport.csv"],
        ["History_20260305.csv", "History_fix.csv"],
        ["History_old.csv"],
    ]


def arrive(source: Path, landing: Path, names: list[str]) -> None:
    (landing / "historian").mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(source / "historian" / name, landing / "historian" / name)


def digest(lake: Path, table: str, exclude: str) -> tuple:
    """Row count and an order-free sum of row hashes, without the column that says when a row was written."""
    rows = query(lake, table, f"select count(*), sum(hash(columns(* exclude ({exclude})))::hugeint) from t")
    return tuple(rows[0]) if rows else (0, None)


def catalog(lake: Path) -> list[tuple]:
    return query(lake, TAG_CATALOG.name, "select tag, source, first_seen, last_seen, points from t order by tag")


def state(lake: Path) -> dict:
    return {
        "bronze": digest(lake, BRONZE_POINTS.name, "landed_at"),
        "quarantine": digest(lake, QUARANTINE.name, "quarantined_at"),
        "ledger": query(
            lake,
            FILE_LEDGER.name,
            "select source_file, status, rows_in, rows_landed, rows_quarantined from t order by source_file",
        ),
        "catalog": catalog(lake),
    }


def orphan_files(lake: Path) -> int:
    """Parquet files in a table folder that no committed version references: a write cut before its commit."""
    from deltalake import DeltaTable

    count = 0
    for folder in lake.iterdir():
        if not (folder / "_delta_log").is_dir():
            continue
        referenced = {Path(u).resolve() for u in DeltaTable(str(folder)).file_uris()}
        for dirpath, _, filenames in os.walk(folder):
            for name in filenames:
                path = Path(dirpath, name)
                if name.endswith(".parquet") and "_delta_log" not in dirpath and path.resolve() not in referenced:
                    count += 1
    return count


def where_killed(lake: Path) -> str:
    """What the tables show of the kill: a write cut short, data ahead of the ledger, or a clean edge."""
    ledger = {r[0] for r in query(lake, FILE_LEDGER.name, "select file_key from t")}
    commits = [h.get("file_key") for h in history(lake, BRONZE_POINTS.name)]
    quarantined = {r[0] for r in query(lake, QUARANTINE.name, "select distinct file_key from t")}
    if any(key and key not in ledger for key in commits):
        return "points committed, ledger row missing"
    if quarantined - ledger:
        return "quarantine written, points and ledger missing"
    if orphan_files(lake):
        return "Parquet written, commit missing"
    return "between commits"


def check_invariants(lake: Path, landing: Path) -> None:
    """Every table opens; no point twice; every file's rows in = landed + quarantined, as its quarantine shows."""
    tables = sorted(folder.name for folder in lake.iterdir() if (folder / "_delta_log").is_dir())
    assert {BRONZE_POINTS.name, FILE_LEDGER.name, TAG_CATALOG.name} <= set(tables)
    for table in tables:
        assert query(lake, table, "select count(*) from t"), table
    twice = "select count(*) from (select {} from t group by all having count(*) > 1)"
    assert query(lake, BRONZE_POINTS.name, twice.format("tag, ts")) == [(0,)]
    assert query(lake, QUARANTINE.name, twice.format("file_key, line, reason")) in ([], [(0,)])
    ledger = query(
        lake,
        FILE_LEDGER.name,
        "select source_file, file_key, rows_in, rows_landed, rows_quarantined from t where status <> 'duplicate'",
    )
    quarantined = dict(query(lake, QUARANTINE.name, "select file_key, count(*) from t group by 1"))
    for name, key, rows_in, landed, in_quarantine in ledger:
        assert rows_in == landed + in_quarantine, name
        assert quarantined.get(key, 0) == in_quarantine, name
        assert rows_in == _data_lines(landing / name), name  # every line after the header is counted once


@functools.cache
def _data_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) - 1


@pytest.mark.slow
def test_landing_killed_at_random_points_ends_as_an_uninterrupted_run(tmp_path, demo_exports, children):
    source = tmp_path / "exports"
    batches = export_set(demo_exports, source)
    rng = random.Random(SEED)

    # The uninterrupted run: the batches arrive one after the other and each is landed once.
    ref_lake, ref_landing = tmp_path / "ref" / "lakehouse", tmp_path / "ref" / "landing"
    expected, batch_seconds = [], []
    for names in batches:
        arrive(source, ref_landing, names)
        out = tmp_path / "ref.json"
        assert children.run(workers.land, str(ref_lake), str(ref_landing), PLANT_CONFIG, None, str(out)) == 0
        batch_seconds.append(json.loads(out.read_text())["seconds"])
        expected.append(state(ref_lake))
    assert expected[-1]["quarantine"][0] > 0 and query(ref_lake, BRONZE_POINTS.name, "select count(*) from t")

    lake, landing = tmp_path / "crash" / "lakehouse", tmp_path / "crash" / "landing"
    snapshot = tmp_path / "crash" / "before-batch"
    staging = tmp_path / "staging"
    staging.mkdir()
    kills, finished_first, mismatches, catalog_mismatches, places = 0, 0, [], [], {}
    started = time.perf_counter()
    for b, names in enumerate(batches):
        arrive(source, landing, names)
        if lake.exists():
            shutil.rmtree(snapshot, ignore_errors=True)
            copy_lakehouse(lake, snapshot)
        k = 0
        while k < KILLS_PER_BATCH:
            # Each kill starts from the lakehouse as it was before the batch, so every kill has work to cut.
            shutil.rmtree(lake, ignore_errors=True)
            if snapshot.exists() and b > 0:
                copy_lakehouse(snapshot, lake)
            named = NAMED_POINTS[(b + k) % len(NAMED_POINTS)] if k < 2 else None
            process = children.start(workers.land, str(lake), str(landing), PLANT_CONFIG, named, None, str(staging))
            if named is None:
                time.sleep(rng.uniform(0.0, 1.1 * batch_seconds[b]))
                process.kill()
            process.join(60)
            if process.exitcode == 0:
                finished_first += 1
                place = "after the run had finished"
            else:
                assert process.exitcode == -9, f"landing failed before the kill: exit {process.exitcode}"
                kills += 1
                k += 1
                place = f"{named} (named)" if named else where_killed(lake) if lake.exists() else "before any table"
            places[place] = places.get(place, 0) + 1
            # The re-run, to completion.
            assert children.run(workers.land, str(lake), str(landing), PLANT_CONFIG, None, None, str(staging)) == 0
            check_invariants(lake, landing)
            got = state(lake)
            for part in ("bronze", "quarantine", "ledger"):
                if got[part] != expected[b][part]:
                    mismatches.append((b, k, place, part))
            if got["catalog"] != expected[b]["catalog"]:
                catalog_mismatches.append((b, k, place))

    # The final tables, row by row, against the uninterrupted run's.
    for table, written_at in ((BRONZE_POINTS.name, "landed_at"), (QUARANTINE.name, "quarantined_at")):
        assert sorted_rows(lake, table, (written_at,)) == sorted_rows(ref_lake, table, (written_at,)), table
    leftovers = len(list(staging.iterdir()))
    report(
        "crash",
        {
            "kills": kills,
            "runs_finished_before_their_kill": finished_first,
            "where": dict(sorted(places.items())),
            "bronze_rows": query(lake, BRONZE_POINTS.name, "select count(*) from t")[0][0],
            "quarantine_rows": query(lake, QUARANTINE.name, "select count(*) from t")[0][0],
            "files": len(query(lake, FILE_LEDGER.name, "select 1 from t")),
            "bronze_versions": len(history(lake, BRONZE_POINTS.name)),
            "staging_folders_left_by_kills": leftovers,
            "content_mismatches": len(mismatches),
            "tag_catalog_mismatches": len(catalog_mismatches),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    assert kills >= 30
    assert not mismatches, mismatches
    assert not catalog_mismatches, catalog_mismatches
