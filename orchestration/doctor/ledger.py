"""Bronze and quarantine against the file ledger: per landed file, the points and quarantined rows the ledger
counts against what the tables hold; a file whose rows are missing is dropped from the ledger (and
quarantine) to land again, and its ledger row is written back as it was once it has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE
from assets.storage.sql_files import sql_file

from .problems import Problem, RepairPlan


@contextmanager
def ledger_session(lakehouse: Lakehouse) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A DuckDB session with the file ledger registered as `ledger`; None while there is no ledger (nothing
    landed yet: nothing to reconcile, where an empty ledger would disown every point in bronze)."""
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        yield None
        return
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        yield con


def _sql(name: str) -> str:
    return sql_file(f"doctor/{name}")


def _ledger_rows(lakehouse: Lakehouse) -> list[dict]:
    with ledger_session(lakehouse) as con:
        if con is None:
            return []
        return con.sql("select * from ledger order by source_file, landed_at").to_arrow_table().to_pylist()


def check_bronze_against_ledger(lakehouse: Lakehouse) -> list[Problem]:
    """Per landed file: the points bronze holds from it against the ledger's new plus changed rows."""
    with ledger_session(lakehouse) as con:
        if con is None:
            return []
        delta_read.register_table(
            con, "bronze", lakehouse.uri(BRONZE_POINTS.name), BRONZE_POINTS, None, lakehouse.storage_options, True
        )
        rows = con.sql(_sql("bronze_vs_ledger.sql")).fetchall()
        keys = con.sql(
            "select source_file, exported_at, file_key from ledger where status = 'landed' order by all"
        ).fetchall()
    by_file: dict[tuple, list[str]] = {}
    for name, exported_at, key in keys:
        by_file.setdefault((name, exported_at), []).append(key)
    problems = []
    for name, exported_at, expected, present, changed_later in rows:
        if present > expected:
            problems.append(
                Problem(
                    BRONZE_POINTS.name,
                    name,
                    f"{present} points from the file (exported {exported_at:%Y-%m-%d %H:%M:%S}), the ledger "
                    f"counts {expected} new or changed; a ledger row is missing (restore {FILE_LEDGER.name})",
                )
            )
        elif expected - present > changed_later:
            problems.append(
                Problem(
                    BRONZE_POINTS.name,
                    name,
                    f"{expected - present} of the {expected} points the ledger counts as landed from the file are "
                    "missing",
                    "reland",
                    by_file.get((name, exported_at), []),
                )
            )
    return problems


def check_quarantine_against_ledger(lakehouse: Lakehouse) -> list[Problem]:
    """Per file: the rows quarantine holds against the ledger's quarantined rows."""
    with ledger_session(lakehouse) as con:
        if con is None:
            return []
        delta_read.register_table(
            con, "quarantine", lakehouse.uri(QUARANTINE.name), QUARANTINE, None, lakehouse.storage_options
        )
        rows = con.sql(_sql("quarantine_vs_ledger.sql")).fetchall()
    problems = []
    for name, key, in_ledger, counted, held in rows:
        if not in_ledger:
            problems.append(
                Problem(
                    QUARANTINE.name,
                    name,
                    f"{held} quarantined rows of a file the ledger does not hold (a landing that did not finish)",
                    "orphan_quarantine",
                    key,
                )
            )
        else:
            problems.append(
                Problem(
                    QUARANTINE.name,
                    name,
                    f"holds {held} rows of the file, the ledger counts {counted} quarantined",
                    "reland",
                    [key],
                )
            )
    return problems


def drop_files_to_land_again(lakehouse: Lakehouse, plan: RepairPlan) -> None:
    """Quarantine rows of a file the ledger does not hold are dropped; a file whose points or quarantined rows
    are missing loses its ledger and quarantine rows, so that the next landing reads it again."""
    problems = check_bronze_against_ledger(lakehouse) + check_quarantine_against_ledger(lakehouse)
    ledger = {row["file_key"]: row for row in _ledger_rows(lakehouse)}
    for problem in problems:
        if problem.kind == "orphan_quarantine":
            _drop_rows(lakehouse, QUARANTINE, problem.detail)
            plan.done.append(f"{QUARANTINE.name}: dropped the rows of {problem.file}, which the ledger does not hold")
        elif problem.kind == "reland":
            for key in problem.detail:
                if key in plan.relanded or key not in ledger:
                    continue
                plan.relanded[key] = ledger[key]
                _drop_rows(lakehouse, QUARANTINE, key)
                _drop_rows(lakehouse, FILE_LEDGER, key)
                plan.done.append(f"{problem.file}: dropped from the ledger, to be landed again")


def _drop_rows(lakehouse: Lakehouse, spec, file_key: str) -> None:
    uri = lakehouse.uri(spec.name)
    if delta.open_table(uri, lakehouse.storage_options) is None:
        return
    delta.replace_where(uri, spec, f"file_key = {delta.hex_literal(file_key)}", spec.empty(), lakehouse.storage_options)


def restore_ledger_rows(lakehouse: Lakehouse, plan: RepairPlan) -> list[str]:
    """Once the dropped files are landed again: their ledger rows as first written (the new row counts
    the points still in bronze as duplicates of themselves). The file's version is the new row's, so a
    later landing knows the file without reading it. Returns the files that did not land again."""

    now = {row["file_key"]: row for row in _ledger_rows(lakehouse)}
    missing = []
    for key, original in plan.relanded.items():
        current = now.get(key)
        if current is None or current["status"] != original["status"]:
            missing.append(original["source_file"])
            continue
        row = dict(original, file_version=current["file_version"])
        delta.replace_where(
            lakehouse.uri(FILE_LEDGER.name),
            FILE_LEDGER,
            f"file_key = {delta.hex_literal(key)}",
            FILE_LEDGER.conform(pa.Table.from_pylist([row], schema=FILE_LEDGER.arrow_schema)),
            lakehouse.storage_options,
        )
    return missing
