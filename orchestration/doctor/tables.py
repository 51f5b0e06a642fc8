"""A Delta table's own damage: log entries missing or not valid JSON after the last checkpoint, data files its
log lists but the store lacks; found per table, and repaired by cutting the log back to its last good
version (the entries moved aside) or by removing the missing files from the log."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pyarrow as pa

from assets.storage import delta
from assets.storage.lakehouse import Lakehouse
from assets.storage.schemas import BRONZE_POINTS, FILE_LEDGER, QUARANTINE, TAG_CATALOG

from .problems import Problem, RepairPlan

_LOG_ENTRY = re.compile(r"^(\d{20})\.")
_JSON_ENTRY = re.compile(r"^(\d{20})\.json$")
# tables rebuilt by landing again, not by building production days
_LANDING_TABLES = {BRONZE_POINTS.name, FILE_LEDGER.name, QUARANTINE.name, TAG_CATALOG.name}


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


def remove_missing_files(lakehouse: Lakehouse, table: str, plan: RepairPlan) -> None:
    """One commit removes the data files the table's log lists but the store lacks; noted in the plan for a rebuild."""
    opened = delta.open_table(_table_uri(lakehouse.root, table), lakehouse.storage_options)
    before = {a["path"]: a for a in _add_actions(opened)}
    removed = opened.repair(dry_run=False).get("files_removed") or []
    plan.done.append(f"{table}: removed {len(removed)} missing data file(s) from the log")
    _lost(plan, table, [before.get(path, {}).get("partition") for path in removed])


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


def cut_log(lakehouse: Lakehouse, table: str, bad: int, backup: Path, plan: RepairPlan) -> None:
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
