"""The marts audit (sql/audit/marts_audit.sql): the checks it reports, its problems in built marts (the
copy built aside, or the published file), and the error that stops a publish naming them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.marts.inputs import SQL_DIR, register_dimensions, register_silver, with_neighbours
from assets.marts.published import fetch_published_marts
from assets.plant.config import PlantConfig

AUDIT_SQL = Path("audit") / "marts_audit.sql"
# The audit's upper bound for performance. Up to 1.0 is physics; a little above it means the ideal cycle
# time or a counter is a little wrong, which the marts publish and data quality flags for the plant
# engineer. Half as fast again as the ideal machine cannot be a slightly wrong setting: such a day is not
# published.
PERFORMANCE_TOLERANCE = 1.5
MAX_PROBLEMS_SHOWN = 20


def audit_checks(sql_dir: Path = SQL_DIR) -> tuple[str, ...]:
    """The checks the marts audit reports, by name (`'check': '<name>'` in sql/audit/marts_audit.sql)."""
    text = (sql_dir / AUDIT_SQL).read_text(encoding="utf-8")
    return tuple(sorted(set(re.findall(r"'check': '([a-z_]+)'", text))))


@dataclass(frozen=True)
class AuditProblem:
    """One row of the marts audit (sql/audit/marts_audit.sql): what failed where, with the values."""

    day: dt.date
    level: str
    site: str | None
    line: str | None
    machine: str | None
    check: str
    detail: str
    # the mart whose row failed the check (oee_daily, oee_line_daily, ...): its asset check reports it
    mart: str = ""

    @property
    def where(self) -> str:
        """The machine as `line/machine`, or `line <line>`, or `site <site>`."""
        if self.level == "machine":
            return f"{self.line}/{self.machine}"
        return f"line {self.line}" if self.level == "line" else f"site {self.site}"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.where}: {self.check}: {self.detail}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "day": self.day.isoformat(),
            "level": self.level,
            "site": self.site,
            "line": self.line,
            "machine": self.machine,
            "check": self.check,
            "detail": self.detail,
            "mart": self.mart,
        }


class MartsAuditError(Exception):
    """The marts built for some days failed the audit and were not published; the published file and gold
    keep their previous numbers. The message's last line names the first problem's day, machine, check
    and values."""

    def __init__(self, problems: Sequence[AuditProblem], days: Sequence[dt.date]):
        self.problems = list(problems)
        self.days = list(days)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        failed_days = sorted({p.day for p in self.problems})
        head = (
            f"marts not published: {len(self.problems)} audit problem(s) on "
            f"{', '.join(d.isoformat() for d in failed_days)}"
            + (f" ({more} more not shown)" if more else "")
            + "; the published marts keep their previous numbers"
        )
        # the first problem comes last, where a one-line summary (the CLI, a log line) picks it up
        super().__init__("\n".join([head, *(str(p) for p in reversed(shown))]))


def audit_marts(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[dt.date],
    sql_dir: Path = SQL_DIR,
    performance_tolerance: float = PERFORMANCE_TOLERANCE,
) -> list[AuditProblem]:
    """The audit's problems in the built marts (and their silver machine states) for the given days.

    An empty list means the days may be published."""
    query = (sql_dir / AUDIT_SQL).read_text(encoding="utf-8")
    rows = con.execute(query, {"days": list(days), "performance_tolerance": performance_tolerance}).fetchall()
    return [AuditProblem(*row) for row in rows]


def audit_published_marts(
    lakehouse_root: str,
    config: PlantConfig,
    days: Sequence[dt.date],
    storage_options: dict[str, str] | None = None,
    sql_dir: Path = SQL_DIR,
) -> list[AuditProblem]:
    """The audit of the published marts (opened read-only) for the given days, against silver as it is now."""
    con = duckdb.connect(str(fetch_published_marts(lakehouse_root, storage_options)), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        register_silver(con, lakehouse_root, with_neighbours(days), storage_options)
        register_dimensions(con, config)
        return audit_marts(con, days, sql_dir)
    finally:
        con.close()
