"""Bad input: a corpus of broken, odd and hostile exports lands in one pass next to a canary file.

Pass: no crash, no hang, for every file rows in = landed + quarantined in the ledger, a clear reason
for every rejected file and quarantined row, the outcome each case expects, and the canary's points
all in bronze and unchanged.
"""

from __future__ import annotations

import faulthandler
import time

import duckdb
import pytest
from deltalake import DeltaTable

from assets.bronze.landing import Lakehouse, land_new_files
from assets.plant.config import parse_plant_config
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE
from tests.helpers.bad_files import CANARY, Case, build_corpus, case_paths, plant_config

# The whole corpus lands in well under a minute; a hang is a failure, not a stuck CI job.
TIME_LIMIT_S = 300
MAX_REASON = 1_000


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """The corpus landed in one pass: the cases, the pass's result, a DuckDB session over bronze, seconds."""
    tmp = tmp_path_factory.mktemp("bad_input")
    landing = tmp / "landing"
    cases = build_corpus(landing)
    lakehouse = Lakehouse(str(tmp / "lake"))
    config = parse_plant_config(plant_config())
    faulthandler.dump_traceback_later(TIME_LIMIT_S, exit=True)
    started = time.monotonic()
    try:
        result = land_new_files(lakehouse, config, landing)
    finally:
        faulthandler.cancel_dump_traceback_later()
    seconds = time.monotonic() - started
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'").fetchall()
    for spec in (BRONZE_POINTS, FILE_LEDGER, QUARANTINE):
        con.register(spec.name, DeltaTable(lakehouse.uri(spec.name)).to_pyarrow_dataset())
    yield cases, result, con, seconds
    con.close()


def _ledger(con, case: Case) -> dict:
    cursor = con.execute("select * from bronze__file_ledger where source_file = ?", [case.path])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, f"{case.name}: {len(rows)} ledger rows for {case.path}"
    return dict(zip(names, rows[0], strict=True))


def _points(con, case: Case) -> list[tuple]:
    return _rows(
        con,
        "select tag, strftime(ts, '%Y-%m-%d %H:%M:%S'), coalesce(cast(value as varchar), value_text) "
        "from bronze_historian__points where source_file = ? order by tag, ts",
        [case.path],
    )


def _expected_points(case: Case) -> list[tuple]:
    return sorted((tag, ts, value if isinstance(value, str) else str(float(value))) for tag, ts, value in case.points)


def test_the_corpus_has_at_least_30_files(landed):
    cases, *_ = landed
    assert len(cases) - 1 >= 30


def test_one_pass_lands_every_file_without_crash_or_hang(landed):
    cases, result, con, seconds = landed
    assert seconds < TIME_LIMIT_S
    assert sorted(f.source_file for f in result.files) == sorted(c.path for c in cases)
    assert not [n for n in result.notes if "no source" in n]


@pytest.mark.parametrize("path", case_paths())
def test_each_file_has_its_expected_outcome(landed, path):
    cases, _, con, _ = landed
    (case,) = [c for c in cases if c.path == path]
    ledger = _ledger(con, case)
    assert ledger["rows_in"] == ledger["rows_landed"] + ledger["rows_quarantined"], ledger
    assert ledger["status"] == case.status, f"{case.name}: {ledger['status']} ({ledger['message']})"
    got = {"rows_in": ledger["rows_in"], "landed": ledger["rows_landed"], "quarantined": ledger["rows_quarantined"]}
    want = {k: getattr(case, k) for k in got if getattr(case, k) is not None}
    assert {k: got[k] for k in want} == want, f"{case.name}: {ledger['message']}"
    if case.min_landed is not None:
        assert got["landed"] >= case.min_landed, f"{case.name}: {ledger['message']}"
    reasons = [
        reason for (reason,) in _rows(con, "select reason from bronze__quarantine where source_file = ?", [case.path])
    ]
    assert len(reasons) == ledger["rows_quarantined"]
    assert all(reason and reason.strip() for reason in reasons), f"{case.name}: a quarantined row without a reason"
    if ledger["status"] == "rejected":
        assert ledger["message"], f"{case.name}: rejected without a message"
    # a reason is read by a person: short, whatever the file holds (the raw row keeps the evidence)
    assert len(ledger["message"] or "") <= MAX_REASON, f"{case.name}: a message of {len(ledger['message'])} characters"
    assert all(len(reason) <= MAX_REASON for reason in reasons), f"{case.name}: a reason over {MAX_REASON} characters"
    if case.reason:
        told = [ledger["message"] or "", *reasons]
        assert any(case.reason.lower() in text.lower() for text in told), f"{case.name}: {told[:3]}"
    if case.points is not None:
        assert _points(con, case) == _expected_points(case)


def test_the_canary_is_untouched_and_the_tables_balance(landed):
    cases, result, con, _ = landed
    assert _points(con, CANARY) == _expected_points(CANARY)
    assert _rows(con, "select count(*) from bronze_historian__points where tag like 'CANARY.%'") == [(6,)]
    assert _rows(con, "select count(*) from bronze__quarantine where source_file = ?", [CANARY.path]) == [(0,)]
    # no (tag, ts) twice anywhere, and the ledger agrees with the tables
    assert _rows(con, "select count(*) - count(distinct (tag, ts)) from bronze_historian__points") == [(0,)]
    per_file = dict(_rows(con, "select source_file, count(*) from bronze_historian__points group by 1"))
    quarantined = dict(_rows(con, "select source_file, count(*) from bronze__quarantine group by 1"))
    for file, rows_new, rows_q in _rows(con, "select source_file, rows_new, rows_quarantined from bronze__file_ledger"):
        assert (per_file.get(file, 0), quarantined.get(file, 0)) == (rows_new, rows_q), file

    summary = _rows(
        con,
        "select source_file, status, rows_in, rows_landed, rows_quarantined from bronze__file_ledger order by 1",
    )
    width = max(len(f) for f, *_ in summary)
    print(f"\n{'file'.ljust(min(width, 60))}  status     rows in   landed  quarantined")
    for file, status, rows_in, rows_landed, rows_q in summary:
        print(f"{file[:60].ljust(min(width, 60))}  {status:<9} {rows_in:>8} {rows_landed:>8} {rows_q:>12}")
    totals = [sum(r[i] for r in summary) for i in (2, 3, 4)]
    label = f"total: {len(summary)} files"
    print(f"{label:<{min(width, 60)}}  {'':<9} {totals[0]:>8} {totals[1]:>8} {totals[2]:>12}")
    assert totals[0] == totals[1] + totals[2]
