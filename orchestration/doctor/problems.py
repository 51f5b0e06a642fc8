"""What the doctor finds (Problem) and what its repairs did and leave to run (RepairPlan)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


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
