"""Concurrent writers and readers: separate processes writing partitions, racing on one partition,
querying the marts while they are republished, and landing the same folder; and a transient I/O
failure retried by Dagster without doubling data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.marts.inputs import SILVER_INPUTS
from assets.marts.published import marts_path
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, SILVER_MACHINE_STATES, TAG_CATALOG
from tests.helpers import workers
from tests.helpers.demo import DAYS, PLANT_CONFIG
from tests.helpers.figures import report
from tests.helpers.lakehouse import copy_lakehouse
from tests.helpers.tables import history, query, sorted_rows


def duplicated_points(lake: Path) -> int:
    return query(
        lake, BRONZE_POINTS.name, "select count(*) from (select tag, ts from t group by all having count(*) > 1)"
    )[0][0]


def test_partitions_written_at_once_from_separate_processes(tmp_path, landed_demo, silver_demo, children):
    lake = copy_lakehouse(landed_demo[0], tmp_path / "lakehouse")
    landing = landed_demo[1]
    started = time.perf_counter()
    processes = [children.start(workers.materialize_days, str(lake), str(landing), PLANT_CONFIG, [d]) for d in DAYS]
    for process in processes:
        process.join(300)
    seconds = time.perf_counter() - started
    assert [p.exitcode for p in processes] == [0, 0, 0]

    commits = 0
    for spec in SILVER_INPUTS:
        versions = history(lake, spec.name)
        assert [h["version"] for h in versions] == list(range(len(versions))), spec.name  # contiguous
        written = sorted(h["production_day"] for h in versions if "production_day" in h)
        assert written == DAYS, spec.name  # every partition's commit is there, once
        assert sorted_rows(lake, spec.name) == sorted_rows(silver_demo[0], spec.name), spec.name
        commits += len(written)
    report(
        "concurrent partitions",
        {"processes": len(DAYS), "tables": len(SILVER_INPUTS), "commits": commits, "seconds": round(seconds, 1)},
    )


def test_a_partition_overwritten_by_two_processes_at_once_is_never_doubled(tmp_path, silver_demo, children):
    lake = copy_lakehouse(silver_demo[0], tmp_path / "lakehouse")
    table, day = SILVER_MACHINE_STATES.name, DAYS[1]
    expected = sorted_rows(lake, table)
    outcomes: dict[str, int] = {}
    rounds = 5
    for r in range(rounds):
        barrier = children.barrier(2)
        outs = [tmp_path / f"race-{r}-{w}.json" for w in "ab"]
        processes = [
            children.start(workers.replace_day, str(lake), table, day, f"{r}{w}", barrier, str(o))
            for w, o in zip("ab", outs, strict=True)
        ]
        for process in processes:
            process.join(120)
        assert [p.exitcode for p in processes] == [0, 0]
        results = sorted(json.loads(o.read_text())["outcome"].split(":")[0] for o in outs)
        key = " + ".join(results)
        outcomes[key] = outcomes.get(key, 0) + 1
        assert "committed" in results  # one of the two always wins
        assert sorted_rows(lake, table) == expected, f"round {r}: {results}"
    versions = history(lake, table)
    assert [h["version"] for h in versions] == list(range(len(versions)))
    report("same partition race", {"rounds": rounds, "outcomes": outcomes, "table_versions": len(versions)})


@pytest.mark.slow
def test_analysts_query_the_marts_while_they_are_republished(tmp_path, silver_demo, children):
    lake = copy_lakehouse(silver_demo[0], tmp_path / "lakehouse")
    target = marts_path(str(lake))
    stop = tmp_path / "stop"
    reader_outs = [tmp_path / f"analyst-{i}.json" for i in range(4)]
    readers = [children.start(workers.analyst_loop, str(target), str(stop), str(out)) for out in reader_outs]
    publisher_out = tmp_path / "publisher.json"
    try:
        assert children.run(workers.publish_loop, str(lake), PLANT_CONFIG, DAYS[2], 20, str(publisher_out)) == 0
        time.sleep(0.3)  # a last read of the final version
    finally:
        stop.touch()  # the analysts stop whatever happened to the publisher: no reader outlives the test
    for reader in readers:
        reader.join(60)
        assert reader.exitcode == 0
    published = json.loads(publisher_out.read_text())
    valid = {json.dumps(v) for v in published["versions"]}
    reads, errors, seen = 0, [], {}
    for out in reader_outs:
        result = json.loads(out.read_text())
        reads += result["reads"]
        errors += result["errors"]
        for key, n in result["seen"].items():
            seen[key] = seen.get(key, 0) + n
    assert not errors, errors[:5]
    assert set(seen) <= valid, set(seen) - valid  # every answer is one a complete publish left
    for key in seen:  # and within an answer, every day-scoped mart holds the same days
        assert len({json.dumps(days) for _, _, days in json.loads(key)}) == 1
    report(
        "analysts during publishes",
        {
            "publishes": len(published["versions"]),
            "analysts": len(readers),
            "reads": reads,
            "errors": len(errors),
            "distinct_versions_published": len(valid),
            "distinct_versions_seen": len(seen),
            "publish_seconds_mean": round(sum(published["durations"]) / len(published["durations"]), 2),
        },
    )


def test_two_landings_at_once_on_the_same_folder_never_double_a_point(tmp_path, demo_exports, children):
    figures = {}
    for r in range(2):
        lake = tmp_path / f"lakehouse-{r}"
        processes = [children.start(workers.land, str(lake), str(demo_exports), PLANT_CONFIG) for _ in range(2)]
        for process in processes:
            process.join(300)
        assert [p.exitcode for p in processes] == [0, 0]
        assert duplicated_points(lake) == 0
        ledger = query(lake, FILE_LEDGER.name, "select count(*), count(distinct file_key) from t")[0]
        # four daily historian files and the re-export, and L2's four daily orders exports
        assert ledger[0] == ledger[1] == 9
        assert (
            query(lake, FILE_LEDGER.name, "select sum(rows_new) from t")[0][0]
            == query(lake, BRONZE_POINTS.name, "select count(*) from t")[0][0]
        )
        assert query(lake, TAG_CATALOG.name, "select sum(points) from t") == query(
            lake, BRONZE_POINTS.name, "select count(*) from t"
        )
        figures[f"round_{r}_bronze_rows"] = query(lake, BRONZE_POINTS.name, "select count(*) from t")[0][0]
        figures[f"round_{r}_bronze_versions"] = len(history(lake, BRONZE_POINTS.name))
    report("two landings at once", figures | {"duplicated_points": 0})


def test_a_transient_io_failure_is_retried_without_doubling_data(tmp_path, demo_exports, monkeypatch):
    from assets.bronze import landing_commit
    from assets.bronze.assets import land_exports
    from orchestration.resources import LakehouseResource

    landing = tmp_path / "landing"
    (landing / "historian").mkdir(parents=True)
    for name in ("History_20260302.csv", "History_20260303.csv"):
        (landing / "historian" / name).write_bytes((demo_exports / "historian" / name).read_bytes())
    lake = tmp_path / "lakehouse"

    # The ledger write of the first file fails once, after its points were committed: the worst moment.
    real = landing_commit.write_ledger_row
    failures = []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise OSError(5, "Input/output error (injected, once)")
        return real(*args, **kwargs)

    # the commit writes the ledger row after the points (landing_commit imports write_ledger_row)
    monkeypatch.setattr(landing_commit, "write_ledger_row", flaky)
    resource = LakehouseResource(lakehouse_root=str(lake), landing_root=str(landing), plant_config=PLANT_CONFIG)
    started = time.perf_counter()
    result = dg.materialize([land_exports], resources={"lakehouse": resource}, run_config=workers.QUIET)
    seconds = time.perf_counter() - started
    assert result.success
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert failures == [1] and len(retries) == 1
    assert duplicated_points(lake) == 0
    rows_in = sum(
        len((landing / "historian" / n).read_text().splitlines()) - 1
        for n in ("History_20260302.csv", "History_20260303.csv")
    )
    assert query(
        lake, FILE_LEDGER.name, "select count(*), sum(rows_in), sum(rows_landed + rows_quarantined) from t"
    ) == [(2, rows_in, rows_in)]
    bronze = query(lake, BRONZE_POINTS.name, "select count(*) from t")[0][0]
    assert query(lake, TAG_CATALOG.name, "select sum(points) from t") == [(bronze,)]
    assert query(lake, QUARANTINE.name, "select count(*) from t") in ([], [(0,)])
    report(
        "retry",
        {
            "injected_failures": 1,
            "retries": len(retries),
            "bronze_rows": bronze,
            "rows_in": rows_in,
            "seconds": round(seconds, 1),
        },
    )
