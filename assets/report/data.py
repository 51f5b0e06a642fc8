"""The daily report's data: what the report of one production day shows for every line, read from the
published marts file (opened read-only). A missing table or column is noted in `missing`, not raised."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.report import details, production

LineKey = tuple[str, str, str]  # (site, area, line)

OEE_TABLE = "oee_line_daily"
PARETO_TABLE = "downtime_pareto"
ENERGY_TABLE = "energy_daily"

OEE_COLUMNS = (
    "site",
    "area",
    "line",
    "day",
    "planned_production_time_s",
    "run_time_s",
    "ideal_time_s",
    "fully_productive_time_s",
    "availability_loss_s",
    "performance_loss_s",
    "quality_loss_s",
    "output_total_count",
    "output_good_count",
    "output_reject_count",
    "availability",
    "performance",
    "quality",
    "oee",
)
PARETO_COLUMNS = ("site", "area", "line", "machine", "period", "period_start", "reason", "category", "seconds")
PARETO_COLUMNS += ("events", "share", "cumulative_share", "rank")
ENERGY_COLUMNS = ("level", "site", "area", "line", "day", "kwh_total", "good_count", "kwh_per_good_unit")


@dataclass(frozen=True)
class DayRow:
    """One line's OEE figures for one production day, as in oee_line_daily."""

    day: dt.date
    values: dict[str, float | int | None]

    def get(self, column: str) -> float | int | None:
        return self.values.get(column)


@dataclass(frozen=True)
class ParetoRow:
    reason: str
    category: str | None
    seconds: float | None
    events: int | None
    share: float | None
    cumulative_share: float | None
    rank: int | None

    @property
    def label(self) -> str:
        """The reason as a plant engineer reads it: minor stops of a reason apart from its long stops."""
        return f"{self.reason} (minor)" if self.category == "minor_stop" else self.reason


@dataclass(frozen=True)
class EnergyRow:
    day: dt.date
    kwh_total: float | None
    good_count: int | None
    kwh_per_good_unit: float | None


@dataclass
class LineReport:
    """What the report shows for one line."""

    key: LineKey
    today: DayRow | None = None
    trend: list[DayRow] = field(default_factory=list)
    pareto: list[ParetoRow] = field(default_factory=list)
    energy: list[EnergyRow] = field(default_factory=list)
    day: dt.date | None = None
    machines: list[details.MachineDay] = field(default_factory=list)
    shifts: list[details.ShiftRow] = field(default_factory=list)
    timeline: details.Timeline | None = None
    comparison: details.Comparison | None = None
    standby_kwh: float | None = None
    production: production.Production | None = None

    @property
    def energy_today(self) -> EnergyRow | None:
        return self.energy[-1] if self.energy and self.energy[-1].day == self.day else None


@dataclass
class DailyReport:
    """Everything the page shows, read from the marts file; `missing` explains tables that could not be read."""

    day: dt.date
    trend_days: int
    week_start: dt.date
    marts_name: str
    lines: list[LineReport]
    missing: dict[str, str]
    flags: list[details.Flag] = field(default_factory=list)

    @property
    def sites(self) -> list[str]:
        return sorted({line.key[0] for line in self.lines})


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week containing day (downtime_pareto's period_start for 'week')."""
    return day - dt.timedelta(days=day.weekday())


def load_daily_report(
    marts_file: Path, day: dt.date, trend_days: int = 14, states: details.DayStates | None = None
) -> DailyReport:
    """Read what the report for `day` needs from the marts file, opened read-only; with the day's silver
    `states` (day_states.read_day_states) the timeline tells running, stops, breaks and not-scheduled time."""
    if trend_days < 1:
        raise ValueError(f"trend_days must be at least 1, not {trend_days}")
    marts_file = Path(marts_file)
    report = DailyReport(
        day=day, trend_days=trend_days, week_start=week_start(day), marts_name=marts_file.name, lines=[], missing={}
    )
    if not marts_file.exists():
        for table in (OEE_TABLE, PARETO_TABLE, ENERGY_TABLE):
            report.missing[table] = f"the marts file {marts_file.name} does not exist yet"
        return report
    lines: dict[LineKey, LineReport] = {}

    def line(key: LineKey) -> LineReport:
        return lines.setdefault(key, LineReport(key=key, day=day))

    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        if _usable(con, OEE_TABLE, OEE_COLUMNS, report.missing):
            for key, row in _oee_rows(con, day, trend_days):
                entry = line(key)
                entry.trend.append(row)
                if row.day == day:
                    entry.today = row
        if _usable(con, PARETO_TABLE, PARETO_COLUMNS, report.missing):
            for key, row in _pareto_rows(con, report.week_start):
                line(key).pareto.append(row)
        if _usable(con, ENERGY_TABLE, ENERGY_COLUMNS, report.missing):
            for key, row in _energy_rows(con, day, trend_days):
                line(key).energy.append(row)
        _load_details(con, day, report, lines, line, states)
    finally:
        con.close()
    report.lines = [lines[k] for k in sorted(lines, key=_natural)]
    return report


def _load_details(
    con: duckdb.DuckDBPyConnection, day: dt.date, report: DailyReport, lines, line, states: details.DayStates | None
) -> None:
    def usable(table: str, columns: Sequence[str]) -> bool:
        return _usable(con, table, columns, report.missing)

    # the timeline's times in the plant's wall-clock time (dim_shift holds the plant YAML's time zone)
    if _usable(con, "dim_shift", ("timezone",), {}):
        zone = con.sql("select any_value(timezone) from dim_shift").fetchall()[0][0]
        if zone and re.fullmatch(r"[A-Za-z0-9_+\-/]+", zone):  # SET takes no bind parameter
            con.execute(f"SET TimeZone = '{zone}'").fetchall()
    for key, rows in details.machine_days(con, day, usable).items():
        line(key).machines = rows
    for key, rows in details.shifts(con, day, usable).items():
        line(key).shifts = rows
    for key, timeline in details.timelines(con, day, usable, states).items():
        line(key).timeline = timeline
    report.flags = details.flags(con, day, usable)
    for key, made in production.load(con, day, usable).items():
        line(key).production = made
    # a comparison or standby energy alone does not make a line worth a section: only lines already shown
    comparisons = details.comparisons(con, day, usable)
    standby = details.standby_kwh(con, day, usable)
    for key, entry in lines.items():
        entry.comparison = comparisons.get(key)
        entry.standby_kwh = standby.get(key)


def _natural(key: LineKey) -> tuple:
    # Line 2 before line 10, as on the shop floor.
    return tuple(tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", part)) for part in key)


def _usable(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], missing: dict[str, str]) -> bool:
    found = {
        r[0]
        for r in con.sql(
            "select column_name from information_schema.columns where table_name = ? and table_schema = 'main'",
            params=[table],
        ).fetchall()
    }
    if not found:
        missing[table] = f"table {table} is not in the marts file"
        return False
    absent = [c for c in columns if c not in found]
    if absent:
        missing[table] = f"table {table} lacks the columns {', '.join(absent)}"
        return False
    return True


def _oee_rows(con: duckdb.DuckDBPyConnection, day: dt.date, trend_days: int) -> list[tuple[LineKey, DayRow]]:
    # The last `trend_days` production days of each line: the days it has rows for, not calendar days.
    relation = con.sql(
        f"""
        with recent as (
            select *, row_number() over (partition by site, area, line order by day desc) as recency
            from {OEE_TABLE}
            where day <= ?
        )
        select {", ".join(OEE_COLUMNS)}
        from recent
        where recency <= ?
        order by site, area, line, day
        """,
        params=[day, trend_days],
    )
    names = relation.columns
    out = []
    for values in relation.fetchall():
        record = dict(zip(names, values, strict=True))
        key = (_text(record.pop("site")), _text(record.pop("area")), _text(record.pop("line")))
        out.append((key, DayRow(day=record.pop("day"), values=record)))
    return out


def _pareto_rows(con: duckdb.DuckDBPyConnection, monday: dt.date) -> list[tuple[LineKey, ParetoRow]]:
    rows = con.sql(
        f"""
        select site, area, line, reason, category, seconds, events, share, cumulative_share, rank
        from {PARETO_TABLE}
        where machine is null and period = 'week' and period_start = ?
        order by site, area, line, rank, seconds desc, reason
        """,
        params=[monday],
    ).fetchall()
    return [((_text(r[0]), _text(r[1]), _text(r[2])), ParetoRow(_text(r[3]), *r[4:])) for r in rows]


def _energy_rows(con: duckdb.DuckDBPyConnection, day: dt.date, trend_days: int) -> list[tuple[LineKey, EnergyRow]]:
    rows = con.sql(
        f"""
        with recent as (
            select *, row_number() over (partition by site, area, line order by day desc) as recency
            from {ENERGY_TABLE}
            where level = 'line' and day <= ?
        )
        select site, area, line, day, kwh_total, good_count, kwh_per_good_unit
        from recent
        where recency <= ?
        order by site, area, line, day
        """,
        params=[day, trend_days],
    ).fetchall()
    return [((_text(r[0]), _text(r[1]), _text(r[2])), EnergyRow(*r[3:])) for r in rows]


def _text(value: object) -> str:
    return "" if value is None else str(value)
