"""Finding damage in a lakehouse, naming it, and repairing what can be repaired.

The checks: every Delta table's log is whole and the table opens, and every data file its log lists
exists; per landed file, bronze holds the points the ledger says it added (new plus changed); quarantine
holds the rows the ledger says each file quarantined; every built day's marts are up to date; no copy of
an interrupted marts publish is left. Each problem names the table and the file it concerns.

The repairs (`repair`) change the tables only in ways a re-run makes good again: a log whose entries
after the last good version are missing or not valid JSON is cut back to that version (the entries are
moved to LAKEHOUSE_ROOT/.doctor/, not deleted); data files the log lists but the store lacks are removed
from the log (delta-rs `repair`); a landed file whose points are missing has its ledger and quarantine
rows dropped, so that the next landing reads it again. What they leave to do (land files, rebuild days)
is returned as a `RepairPlan` for the caller to run the way `iiot-lakehouse run` does.

Where each lives: tables.py (a table's log and data files), ledger.py (bronze and quarantine against the
file ledger), marts.py (stale days, leftover publish copies), problems.py (Problem, RepairPlan).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assets.storage import delta
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE

from .ledger import check_bronze_against_ledger, check_quarantine_against_ledger, drop_files_to_land_again
from .marts import check_building_files, check_marts_up_to_date
from .problems import Problem, RepairPlan
from .tables import check_table, cut_log, remove_missing_files, table_names


def check(lakehouse: Lakehouse, config=None) -> list[Problem]:
    """Every problem found, tables first (a table that does not open is not reconciled)."""
    problems: list[Problem] = []
    broken: set[str] = set()
    if delta.is_local(delta.normalise_root(lakehouse.root)):
        for table in table_names(lakehouse.root):
            found = check_table(lakehouse, table)
            if found:
                broken.add(table)
            problems += found
    if not broken & {BRONZE_POINTS.name, FILE_LEDGER.name}:
        problems += check_bronze_against_ledger(lakehouse)
    if not broken & {QUARANTINE.name, FILE_LEDGER.name}:
        problems += check_quarantine_against_ledger(lakehouse)
    if config is not None and not broken:
        # a broken table is repaired by rebuilding its days: their staleness would say the same again
        problems += check_marts_up_to_date(lakehouse, config)
    problems += check_building_files(lakehouse)
    return problems


def repair(lakehouse: Lakehouse, problems: list[Problem], now: dt.datetime | None = None) -> RepairPlan:
    """Repair the tables and files (logs, missing data files, leftovers), then drop the ledger and
    quarantine rows of the files to land again. Landing and rebuilding are left to the caller (the plan)."""
    now = now or dt.datetime.now(dt.UTC)
    plan = RepairPlan()
    backup = (
        Path(delta.normalise_root(lakehouse.root).removeprefix("file://")) / ".doctor" / now.strftime("%Y%m%dT%H%M%SZ")
    )
    for problem in problems:
        if problem.kind == "building":
            path: Path = problem.detail
            path.unlink(missing_ok=True)
            plan.done.append(f"removed {path}")
        elif problem.kind == "log":
            cut_log(lakehouse, problem.table, problem.detail, backup / problem.table, plan)
        elif problem.kind == "stale_day":
            plan.days.add(problem.detail)
    # missing data files: one commit per table removes them from its log
    for table in sorted({p.table for p in problems if p.kind == "missing_files"}):
        remove_missing_files(lakehouse, table, plan)
    # after a table is repaired, bronze and quarantine are reconciled with the ledger again
    drop_files_to_land_again(lakehouse, plan)
    return plan
