"""The daily report a plant manager opens in the morning: one self-contained HTML page per production day.

It reads the published marts file read-only and draws, for every line, the OEE trend, the loss waterfall
of the day, the downtime Pareto of the week and the energy per good unit trend. Charts are inline SVG and
the styling is inline CSS: no JavaScript and nothing fetched from elsewhere, so the page opens on a PC
without network access, from a file share or an e-mail attachment. Every text that comes from the data is
HTML-escaped, and a missing table, a day without rows or an undefined ratio shows a "no data" note.
This module reads the data and draws the charts; the page around them is the jinja2 template
templates/daily_report.html.j2.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2
from markupsafe import Markup

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

# The four OEE series: label, colour (Okabe-Ito, readable with colour blindness), dash pattern, stroke width.
OEE_SERIES = (
    ("oee", "OEE", "#0072B2", "", 3.0),
    ("availability", "Availability", "#E69F00", "6 3", 1.8),
    ("performance", "Performance", "#009E73", "2 3", 1.8),
    ("quality", "Quality", "#CC79A7", "8 3 2 3", 1.8),
)
LOSS_COLOUR = "#D55E00"
TIME_COLOUR = "#0072B2"
MAX_PARETO_REASONS = 12


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

    @property
    def sites(self) -> list[str]:
        return sorted({line.key[0] for line in self.lines})


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week containing day (downtime_pareto's period_start for 'week')."""
    return day - dt.timedelta(days=day.weekday())


# --------------------------------------------------------------------------------------------- reading


def load_daily_report(marts_file: Path, day: dt.date, trend_days: int = 14) -> DailyReport:
    """Read what the report for `day` needs from the marts file, opened read-only."""
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
    finally:
        con.close()
    report.lines = [lines[k] for k in sorted(lines, key=_natural)]
    return report


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


# --------------------------------------------------------------------------------------------- numbers


def finite(value: object) -> float | None:
    """A finite float, or None for NULL, NaN and infinities (which the page shows as no data)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def ratio(value: object) -> float | None:
    """A ratio in 0..1, or None for NULL, NaN, infinities and anything outside 0..1.

    A second guard behind the marts audit: the page never shows an impossible percentage."""
    number = finite(value)
    return number if number is not None and 0 <= number <= 1 + 1e-9 else None


def percent(value: object) -> str:
    number = finite(value)
    if number is None:
        return "no data"
    return "n/a (outside 0..100 %)" if ratio(number) is None else f"{number * 100:.1f} %"


def hours(seconds: object) -> str:
    number = finite(seconds)
    return "no data" if number is None else f"{number / 3600:.2f} h"


def minutes(seconds: object) -> str:
    number = finite(seconds)
    return "no data" if number is None else f"{number / 60:.1f} min"


def count(value: object) -> str:
    number = finite(value)
    return "no data" if number is None else f"{round(number):,}"


def kwh_per_unit(value: object) -> str:
    number = finite(value)
    return "no data" if number is None else f"{number:.3f} kWh"


def headline(line: LineReport) -> dict[str, str]:
    """The day's headline numbers of a line, formatted as the page shows them."""
    today = line.today
    energy = line.energy_today
    return {
        "Line": line.key[2],
        "OEE": percent(today.get("oee") if today else None),
        "Availability": percent(today.get("availability") if today else None),
        "Performance": percent(today.get("performance") if today else None),
        "Quality": percent(today.get("quality") if today else None),
        # the line's output: its output machine's good units, never a sum over machines counting different things
        "Good units": count(today.get("output_good_count") if today else None),
        "kWh per unit": kwh_per_unit(energy.kwh_per_good_unit if energy else None),
    }


def headline_markdown(report: DailyReport) -> str:
    """The headline table as Markdown, for the asset's metadata in the Dagster UI."""
    if not report.lines:
        return f"No data for {report.day.isoformat()}."
    rows = [headline(line) for line in report.lines]
    columns = list(rows[0])
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" if c == "Line" else "---:" for c in columns) + "|"]
    for row in rows:
        out.append("| " + " | ".join(_md_cell(row[c]) for c in columns) + " |")
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return html.escape(text).replace("|", "\\|")


def _nice_step(span: float, target_ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about target_ticks ticks over span."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _axis_max(peak: float, step: float) -> float:
    return max(step, math.ceil(peak / step - 1e-9) * step)


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


# --------------------------------------------------------------------------------------------- SVG
# Drawn here rather than with a plotting library: four plain charts do not warrant matplotlib, and
# plotly would put JavaScript into a page that must open without scripts.


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f(value: float) -> str:
    return f"{value:.1f}"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}" font-family="sans-serif" '
        f'font-size="11">' + "".join(body) + "</svg>"
    )


def _text_el(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{extra}>{_e(text)}</text>'


def _day_labels(days: Sequence[dt.date]) -> list[str]:
    return [d.strftime("%d.%m") for d in days]


def _y_axis(
    body: list[str], left: float, top: float, width: float, height: float, top_value: float, step: float, unit: str
) -> None:
    ticks = int(round(top_value / step))
    for i in range(ticks + 1):
        value = i * step
        y = top + height - height * value / top_value
        body.append(
            f'<line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(left + width)}" y2="{_f(y)}" stroke="#ddd" stroke-width="1"/>'
        )
        body.append(_text_el(left - 6, y + 4, _tick_label(value, step), "end"))
    body.append(_text_el(left + 4, top - 8, unit, "start", ' font-weight="bold"'))
    body.append(
        f'<line x1="{_f(left)}" y1="{_f(top)}" x2="{_f(left)}" y2="{_f(top + height)}" stroke="#333" stroke-width="1"/>'
    )
    body.append(
        f'<line x1="{_f(left)}" y1="{_f(top + height)}" x2="{_f(left + width)}" y2="{_f(top + height)}" '
        f'stroke="#333" stroke-width="1"/>'
    )


def _x_positions(n: int, left: float, width: float) -> list[float]:
    if n == 1:
        return [left + width / 2]
    return [left + width * i / (n - 1) for i in range(n)]


def _x_axis_days(body: list[str], xs: Sequence[float], days: Sequence[dt.date], baseline: float) -> None:
    every = max(1, math.ceil(len(days) / 14))
    for i, (x, label) in enumerate(zip(xs, _day_labels(days), strict=True)):
        body.append(f'<line x1="{_f(x)}" y1="{_f(baseline)}" x2="{_f(x)}" y2="{_f(baseline + 4)}" stroke="#333"/>')
        if i % every == 0 or i == len(days) - 1:
            body.append(_text_el(x, baseline + 16, label, "middle"))


def _polylines(points: Sequence[tuple[float, float] | None], colour: str, dash: str, width: float) -> list[str]:
    """One polyline per unbroken run of points: a day without a value breaks the line instead of bridging it."""
    out, run = [], []
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    for point in [*points, None]:
        if point is not None:
            run.append(point)
            continue
        if len(run) > 1:
            coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in run)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr}/>')
        run = []
    return out


def oee_trend_svg(line: LineReport) -> str:
    """The OEE, availability, performance and quality of the line over its recent production days."""
    days = [row.day for row in line.trend]
    width, height, left, right, top, bottom = 640, 260, 48, 120, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [ratio(row.get(s[0])) for row in line.trend for s in OEE_SERIES]
    peak = max([v * 100 for v in values if v is not None] + [100.0])
    step = _nice_step(peak, 5) if peak > 100 else 20.0
    top_value = _axis_max(peak, step)
    body: list[str] = []
    _y_axis(body, left, top, plot_w, plot_h, top_value, step, "%")
    xs = _x_positions(len(days), left, plot_w)
    _x_axis_days(body, xs, days, top + plot_h)
    for i, (column, label, colour, dash, stroke) in enumerate(OEE_SERIES):
        points: list[tuple[float, float] | None] = []
        for x, row in zip(xs, line.trend, strict=True):
            value = ratio(row.get(column))
            if value is None:
                points.append(None)
                continue
            y = top + plot_h - plot_h * value * 100 / top_value
            points.append((x, y))
            body.append(
                f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{stroke + 0.8:.1f}" fill="{colour}">'
                f"<title>{_e(label)} {_e(row.day.isoformat())}: {_e(percent(value))}</title></circle>"
            )
        body.extend(_polylines(points, colour, dash, stroke))
        legend_y = top + 8 + i * 18
        legend_x = left + plot_w + 14
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="{_f(legend_x)}" y1="{_f(legend_y)}" x2="{_f(legend_x + 24)}" y2="{_f(legend_y)}" '
            f'stroke="{colour}" stroke-width="{stroke}"{dash_attr}/>'
        )
        body.append(_text_el(legend_x + 30, legend_y + 4, label))
    return _svg(width, height, f"OEE trend of line {line.key[2]}", body)


WATERFALL_STEPS = (
    ("planned_production_time_s", "Planned production time", None),
    ("availability_loss_s", "Availability loss", "loss"),
    ("run_time_s", "Run time", None),
    ("performance_loss_s", "Performance loss", "loss"),
    ("ideal_time_s", "Net run time", None),
    ("quality_loss_s", "Quality loss", "loss"),
    ("fully_productive_time_s", "Fully productive time", None),
)


def waterfall_svg(row: DayRow) -> str:
    """The day's time from planned production to fully productive, each loss a floating bar between two steps."""
    planned = finite(row.get("planned_production_time_s")) or 0.0
    peak = max([planned] + [finite(row.get(c)) or 0.0 for c, _, kind in WATERFALL_STEPS if kind is None])
    width, left, right, top, bar_h, gap = 640, 170, 90, 22, 22, 8
    plot_w = width - left - right
    height = top + len(WATERFALL_STEPS) * (bar_h + gap) + 24
    step = _nice_step(peak / 3600, 5)
    top_value = _axis_max(peak / 3600, step)
    body: list[str] = []
    baseline = top + len(WATERFALL_STEPS) * (bar_h + gap)
    for i in range(int(round(top_value / step)) + 1):
        x = left + plot_w * i * step / top_value
        body.append(f'<line x1="{_f(x)}" y1="{_f(top - 4)}" x2="{_f(x)}" y2="{_f(baseline)}" stroke="#ddd"/>')
        body.append(_text_el(x, baseline + 14, _tick_label(i * step, step), "middle"))
    body.append(_text_el(left - 8, baseline + 14, "hours", "end", ' font-weight="bold"'))
    level = planned
    for i, (column, label, kind) in enumerate(WATERFALL_STEPS):
        y = top + i * (bar_h + gap)
        value = finite(row.get(column))
        if kind == "loss":
            start, end = (level - value, level) if value is not None else (level, level)
            level = start
            colour = LOSS_COLOUR
        else:
            start, end = 0.0, value or 0.0
            level = end if value is not None else level
            colour = TIME_COLOUR
        x0 = left + plot_w * max(0.0, start) / 3600 / top_value
        x1 = left + plot_w * max(0.0, end) / 3600 / top_value
        weight = ' font-weight="bold"' if kind is None else ""
        body.append(_text_el(left - 8, y + bar_h / 2 + 4, label, "end", weight))
        opacity = ' fill-opacity="0.75"' if kind else ""
        body.append(
            f'<rect x="{_f(min(x0, x1))}" y="{_f(y)}" width="{_f(abs(x1 - x0))}" height="{bar_h}" fill="{colour}"'
            f"{opacity}><title>{_e(label)}: {_e(hours(value))}</title></rect>"
        )
        text = hours(value) if kind is None else f"−{hours(value)}" if value is not None else "no data"
        body.append(_text_el(max(x0, x1) + 6, y + bar_h / 2 + 4, text))
    body.append(f'<line x1="{_f(left)}" y1="{_f(top - 4)}" x2="{_f(left)}" y2="{_f(baseline)}" stroke="#333"/>')
    return _svg(width, height, "Loss waterfall", body)


def pareto_svg(rows: Sequence[ParetoRow]) -> str:
    """Downtime per reason, largest first, with the cumulative share of all downtime as a line."""
    shown = list(rows[:MAX_PARETO_REASONS])
    width, height, left, right, top, bottom = 640, 290, 56, 48, 24, 100
    plot_w, plot_h = width - left - right, height - top - bottom
    peak_min = max([(finite(r.seconds) or 0.0) / 60 for r in shown] + [0.0])
    step = _nice_step(peak_min or 1.0, 5)
    top_value = _axis_max(peak_min or 1.0, step)
    body: list[str] = []
    _y_axis(body, left, top, plot_w, plot_h, top_value, step, "min")
    for share in range(0, 101, 20):
        y = top + plot_h - plot_h * share / 100
        body.append(_text_el(left + plot_w + 6, y + 4, f"{share} %"))
    body.append(
        f'<line x1="{_f(left + plot_w)}" y1="{_f(top)}" x2="{_f(left + plot_w)}" y2="{_f(top + plot_h)}" '
        f'stroke="#333"/>'
    )
    slot = plot_w / max(1, len(shown))
    points: list[tuple[float, float] | None] = []
    for i, row in enumerate(shown):
        seconds = finite(row.seconds) or 0.0
        x = left + slot * i + slot * 0.15
        bar_h = plot_h * seconds / 60 / top_value
        centre = left + slot * (i + 0.5)
        tip = f"{row.label}: {minutes(row.seconds)}, {row.events if row.events is not None else '?'} stops"
        body.append(
            f'<rect x="{_f(x)}" y="{_f(top + plot_h - bar_h)}" width="{_f(slot * 0.7)}" height="{_f(bar_h)}" '
            f'fill="{LOSS_COLOUR}" fill-opacity="0.8"><title>{_e(tip)}</title></rect>'
        )
        body.append(_text_el(centre, top + plot_h - bar_h - 4, f"{seconds / 60:.0f}", "middle"))
        label = row.label if len(row.label) <= 22 else row.label[:21] + "…"
        body.append(
            _text_el(
                centre,
                top + plot_h + 12,
                label,
                "end",
                f' transform="rotate(-35 {_f(centre)} {_f(top + plot_h + 12)})"',
            )
        )
        cumulative = finite(row.cumulative_share)
        if cumulative is None:
            points.append(None)
            continue
        y = top + plot_h - plot_h * min(cumulative, 1.0)
        points.append((centre, y))
        body.append(
            f'<circle cx="{_f(centre)}" cy="{_f(y)}" r="3" fill="#333"><title>cumulative {_e(percent(cumulative))}'
            f"</title></circle>"
        )
    body.extend(_polylines(points, "#333", "", 1.6))
    return _svg(width, height, "Downtime Pareto", body)


def energy_trend_svg(rows: Sequence[EnergyRow]) -> str:
    """kWh per good unit over the line's recent production days."""
    days = [r.day for r in rows]
    width, height, left, right, top, bottom = 640, 220, 56, 40, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [finite(r.kwh_per_good_unit) for r in rows]
    peak = max([v for v in values if v is not None] + [0.0])
    step = _nice_step(peak or 1.0, 5)
    top_value = _axis_max(peak or 1.0, step)
    body: list[str] = []
    _y_axis(body, left, top, plot_w, plot_h, top_value, step, "kWh/unit")
    xs = _x_positions(len(days), left, plot_w)
    _x_axis_days(body, xs, days, top + plot_h)
    points: list[tuple[float, float] | None] = []
    for x, row, value in zip(xs, rows, values, strict=True):
        if value is None:
            points.append(None)
            continue
        y = top + plot_h - plot_h * max(0.0, value) / top_value
        points.append((x, y))
        body.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="#009E73"><title>{_e(row.day.isoformat())}: '
            f"{_e(kwh_per_unit(value))} per good unit</title></circle>"
        )
    body.extend(_polylines(points, "#009E73", "", 2.0))
    return _svg(width, height, "Energy per good unit", body)


# --------------------------------------------------------------------------------------------- page

# jinja2 rather than hand-joined strings: the page reads as HTML in one file, and autoescape escapes
# every text from the data without an escape call at each place.
_PAGE = jinja2.Environment(
    loader=jinja2.PackageLoader("assets.report", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_PAGE.filters["finite"] = finite


def _markup(draw):
    # the charts' SVG is markup built from escaped parts, not text for the template to escape again
    return lambda *args: Markup(draw(*args))


_PAGE.globals.update(
    finite=finite,
    max_pareto_reasons=MAX_PARETO_REASONS,
    oee_trend_svg=_markup(oee_trend_svg),
    waterfall_svg=_markup(waterfall_svg),
    pareto_svg=_markup(pareto_svg),
    energy_trend_svg=_markup(energy_trend_svg),
)


def render_report_html(report: DailyReport) -> str:
    """The report as one self-contained HTML page (templates/daily_report.html.j2)."""
    return _PAGE.get_template("daily_report.html.j2").render(
        report=report,
        headlines=[headline(line) for line in report.lines],
        week_end=report.week_start + dt.timedelta(days=6),
    )


def render_daily_report(marts_file: Path, day: dt.date, trend_days: int = 14) -> str:
    """The daily report of every line for `day` as a self-contained HTML page (inline SVG and CSS, no scripts)."""
    return render_report_html(load_daily_report(marts_file, day, trend_days))


def report_filename(day: dt.date) -> str:
    return f"daily_report_{day.isoformat()}.html"


def write_report(report: DailyReport, out_dir: Path) -> Path:
    """Write the rendered report to out_dir/daily_report_<day>.html atomically; a reader sees the old or new page."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / report_filename(report.day)
    data = render_report_html(report).encode("utf-8")
    handle = tempfile.NamedTemporaryFile(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def write_daily_report(marts_file: Path, out_dir: Path, day: dt.date, trend_days: int = 14) -> Path:
    """Render the report for `day` and write it to out_dir/daily_report_<day>.html atomically; returns the path."""
    return write_report(load_daily_report(marts_file, day, trend_days), out_dir)
