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
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from assets.marts.publish import stale_days
from assets.marts.published import MARTS_FILE, marts_path
from assets.silver import watermarks
from assets.storage import delta, delta_read
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "doctor"
_LOG_ENTRY = re.compile(r"^(\d{20})\.")
_JSON_ENTRY = re.compile(r"^(\d{20})\.json$")
_BUILDING = re.compile(rf"^\.{re.escape(MARTS_FILE)}\.building-(\d+)(\.wal)?$")
# tables rebuilt by landing again, not by building production days
_LANDING_TABLES = {BRONZE_POINTS.name, FILE_LEDGER.name, QUARANTINE.name, TAG_CATALOG.name}


@dataclass(frozen=True)
class Problem:
    """One thing found wrong: the table (or `marts`), the file it concerns, and what is wrong."""

    table: str
    file: str | None
    what: str
    kind: str = ""  # what repairs it: log, missing_files, reland, orphan_quarantine, building, stale_day
    detail: object = None  # what the repair needs (a log version, a file key, a day)

    def __str__(self) -> str:
        return f"{self.table}: {self.file}: {self.what}" if self.file else f"{self.table}: {self.what}"


@dataclass
class RepairPlan:
    """What the repairs did, and what is left to run: files to land again, days to rebuild."""

    done: list[str] = field(default_factory=list)
    # file key -> its ledger row before it was dropped (written back once the file is landed again)
    relanded: dict[str, dict] = field(default_factory=dict)
    days: set[dt.date] = field(default_factory=set)
    all_days: bool = False  # a table lost commits whose days are unknown: every day is rebuilt
    heal_tag_catalog: bool = False


# ---------------------------------------------------------------------------------------------- checks


def table_names(root: str) -> list[str]:
    """The Delta tables under a local lakehouse root, gold's as `gold/<mart>`."""
    base = Path(delta.normalise_root(root).removeprefix("file://"))
    if not base.is_dir():
        return []
    logs = [*base.glob("*/_delta_log"), *base.glob("gold/*/_delta_log")]
    return sorted(log.parent.relative_to(base).as_posix() for log in logs if log.is_dir())


def _table_path(root: str, table: str) -> Path:
    return Path(delta.normalise_root(root).removeprefix("file://")) / table


def _table_uri(root: str, table: str) -> str:
    return f"{delta.normalise_root(root)}/{table}"


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


def check_table(lakehouse: Lakehouse, table: str) -> list[Problem]:
    """A table's log (entries missing or not valid JSON after the last checkpoint), then whether it
    opens, then whether every data file its log lists exists."""
    log = _table_path(lakehouse.root, table) / "_delta_log"
    bad = first_bad_log_entry(log)
    if bad is not None:
        version, problem = bad
        return [
            Problem(
                table,
                f"_delta_log/{version:020d}.json",
                f"log entry {problem}: the table cannot be read past version {version - 1}",
                "log",
                version,
            )
        ]
    try:
        opened = delta.open_table(_table_uri(lakehouse.root, table), lakehouse.storage_options)
    except Exception as exc:  # noqa: BLE001 - whatever delta-rs says, the table is named with it
        return [Problem(table, None, f"does not open: {str(exc).strip().splitlines()[0]}")]
    if opened is None:
        return []
    missing = opened.repair(dry_run=True).get("files_removed") or []
    return [
        Problem(table, path, "data file listed in the log is missing", "missing_files", path)
        for path in sorted(missing)
    ]


def first_bad_log_entry(log: Path) -> tuple[int, str] | None:
    """(version, 'missing' or 'is not valid JSON') of the first damaged log entry after the last
    checkpoint (the ones a reader replays), or None."""
    if not log.is_dir():
        return None
    versions = sorted(int(m.group(1)) for name in os.listdir(log) if (m := _JSON_ENTRY.match(name)))
    if not versions:
        return None
    checkpoint = _last_checkpoint(log)
    first = checkpoint + 1 if checkpoint is not None else 0
    have = set(versions)
    for version in range(first, versions[-1] + 1):
        if version not in have:
            return version, "missing"
        try:
            text = (log / f"{version:020d}.json").read_text(encoding="utf-8")
            for line in text.splitlines():
                if line.strip():
                    json.loads(line)
        except (OSError, UnicodeDecodeError, ValueError):
            return version, "is not valid JSON"
    return None


def _last_checkpoint(log: Path) -> int | None:
    try:
        return int(json.loads((log / "_last_checkpoint").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _ledger_rows(lakehouse: Lakehouse) -> list[dict]:
    table = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if table is None:
        return []
    with delta_read.duckdb_session() as con:
        con.register("ledger", table.to_pyarrow_dataset())
        return con.sql("select * from ledger order by source_file, landed_at").to_arrow_table().to_pylist()


def check_bronze_against_ledger(lakehouse: Lakehouse) -> list[Problem]:
    """Per landed file: the points bronze holds from it against the ledger's new plus changed rows."""
    ledger = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if ledger is None:
        return []
    with delta_read.duckdb_session() as con:
        con.register("ledger", ledger.to_pyarrow_dataset())
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
    ledger = delta.open_table(lakehouse.uri(FILE_LEDGER.name), lakehouse.storage_options)
    if ledger is None:
        return []
    with delta_read.duckdb_session() as con:
        con.register("ledger", ledger.to_pyarrow_dataset())
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


def check_marts_up_to_date(lakehouse: Lakehouse, config, now: dt.datetime | None = None) -> list[Problem]:
    """Every built production day's marts are as new as the silver and bronze they come from, by the
    day watermark (assets/silver/watermarks.py); a day still running is not a problem yet."""
    return [
        Problem(
            "marts", MARTS_FILE, f"production day {stale.day} is out of date: {stale.reason}", "stale_day", stale.day
        )
        for stale in watermarks.ended(
            config, stale_days(lakehouse.root, config, lakehouse.storage_options), now or dt.datetime.now(dt.UTC)
        )
    ]


def building_files(lakehouse: Lakehouse) -> list[Path]:
    """Copies of the marts file left by a publish that did not finish (its process is gone)."""
    folder = marts_path(lakehouse.root).parent
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        m = _BUILDING.match(path.name)
        if m and not _alive(int(m.group(1))):
            found.append(path)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_building_files(lakehouse: Lakehouse) -> list[Problem]:
    return [
        Problem("marts", path.name, "copy left by a marts publish that did not finish", "building", path)
        for path in building_files(lakehouse)
    ]


# --------------------------------------------------------------------------------------------- repairs


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
            _cut_log(lakehouse, problem.table, problem.detail, backup / problem.table, plan)
        elif problem.kind == "stale_day":
            plan.days.add(problem.detail)
    # missing data files: one commit per table removes them from its log
    for table in sorted({p.table for p in problems if p.kind == "missing_files"}):
        opened = delta.open_table(_table_uri(lakehouse.root, table), lakehouse.storage_options)
        before = {a["path"]: a for a in _add_actions(opened)}
        removed = opened.repair(dry_run=False).get("files_removed") or []
        plan.done.append(f"{table}: removed {len(removed)} missing data file(s) from the log")
        _lost(plan, table, [before.get(path, {}).get("partition") for path in removed])
    # after a table is repaired, bronze and quarantine are reconciled with the ledger again
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
    return plan


def _add_actions(table) -> list[dict]:

    actions = pa.table(table.get_add_actions(flatten=False)).to_pylist()
    return actions


def _lost(plan: RepairPlan, table: str, partition_values: list[dict | None]) -> None:
    """Note the days a table lost rows of (None: unknown, every day), for a rebuild."""
    if table in _LANDING_TABLES:
        plan.heal_tag_catalog |= table == TAG_CATALOG.name
        return
    for values in partition_values:
        days = [_as_day(v) for v in (values or {}).values()]
        days = [d for d in days if d is not None]
        if not days:
            plan.all_days = True
        plan.days.update(days)


def _as_day(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _cut_log(lakehouse: Lakehouse, table: str, bad: int, backup: Path, plan: RepairPlan) -> None:
    """Restore a table to its last good version: the log entries from the damaged one on are moved to
    the backup folder, so the table reads as it was at the version before. Their rows come back by
    landing (bronze) or by rebuilding their days (silver, gold)."""
    log = _table_path(lakehouse.root, table) / "_delta_log"
    moved = sorted(p for p in log.iterdir() if (m := _LOG_ENTRY.match(p.name)) and int(m.group(1)) >= bad)
    backup.mkdir(parents=True, exist_ok=True)
    values: list[dict | None] = [None]  # the damaged entry (missing or unreadable): its days are unknown
    for path in moved:
        if _JSON_ENTRY.match(path.name) and int(path.name[:20]) > bad:
            values += _entry_partitions(path)
        shutil.move(str(path), backup / path.name)
    plan.done.append(
        f"{table}: restored to version {bad - 1}, its last good one ({len(moved)} log entries moved to {backup})"
    )
    _lost(plan, table, values)


def _entry_partitions(entry: Path) -> list[dict | None]:
    """The partition values of the files a readable log entry adds or removes."""
    found: list[dict | None] = []
    for line in entry.read_text(encoding="utf-8").splitlines():
        action = json.loads(line) if line.strip() else {}
        for kind in ("add", "remove"):
            if kind in action:
                found.append(action[kind].get("partitionValues"))
    return found


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
