"""The daily report a plant manager opens in the morning: one self-contained HTML page per production day.

For every line it shows the OEE trend, the loss waterfall of the day, the downtime Pareto of the week and
the energy per good unit trend (data.py reads them from the published marts, charts.py draws them). The
charts are inline SVG and the styling is inline CSS: no JavaScript and nothing fetched from elsewhere, so
the page opens on a PC without network access, from a file share or an e-mail attachment. Every text that
comes from the data is HTML-escaped, and a missing table, a day without rows or an undefined ratio shows a
"no data" note. This module renders the jinja2 template templates/daily_report.html.j2 and writes the page;
it also formats the headline table.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import jinja2
from markupsafe import Markup

from assets.report.charts import MAX_PARETO_REASONS, energy_trend_svg, oee_trend_svg, pareto_svg, waterfall_svg
from assets.report.charts_day import timeline_svg
from assets.report.charts_production import hourly_svg
from assets.report.data import DailyReport, LineReport, load_daily_report
from assets.report.day_states import DayStates
from assets.report.formats import count, finite, hours, kwh, kwh_per_unit, minutes, percent, points, ratio
from assets.report.index import atomic_write, refresh_reports, report_filename
from assets.report.production import clock, completion, stamp


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
        "Energy per unit": kwh_per_unit(energy.kwh_per_good_unit if energy else None),
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
    timeline_svg=_markup(timeline_svg),
    hourly_svg=_markup(hourly_svg),
    completion=completion,
    clock=clock,
    stamp=stamp,
    minutes=minutes,
    percent=percent,
    hours=hours,
    count=count,
    kwh=kwh,
    kwh_per_unit=kwh_per_unit,
    target_state=lambda value, target: target_state(value, target),
    change=lambda today, before: change(today, before),
)


def target_state(value: object, target: object) -> str:
    """ "met" or "below" (the page's green and red); "" where the value or the target is missing or impossible."""
    value, target = ratio(value), ratio(target)
    if value is None or target is None:
        return ""
    return "met" if value >= target else "below"


def change(today: object, before: object) -> str:
    today, before = ratio(today), ratio(before)
    return "no data" if today is None or before is None else points(today - before)


def render_report_html(report: DailyReport) -> str:
    """The report as one self-contained HTML page (templates/daily_report.html.j2)."""
    return _PAGE.get_template("daily_report.html.j2").render(
        report=report,
        headlines=[headline(line) for line in report.lines],
        week_end=report.week_start + dt.timedelta(days=6),
    )


def render_daily_report(marts_file: Path, day: dt.date, trend_days: int = 14, states: DayStates | None = None) -> str:
    """The daily report of every line for `day` as a self-contained HTML page (inline SVG and CSS, no scripts)."""
    return render_report_html(load_daily_report(marts_file, day, trend_days, states))


def write_report(report: DailyReport, out_dir: Path) -> Path:
    """Write the rendered report to out_dir/daily_report_<day>.html atomically (a reader sees the old or new
    page), then bring index.html and the reports' previous/next links up to date."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / report_filename(report.day)
    atomic_write(target, render_report_html(report).encode("utf-8"))
    refresh_reports(out_dir)
    return target


def write_daily_report(
    marts_file: Path, out_dir: Path, day: dt.date, trend_days: int = 14, states: DayStates | None = None
) -> Path:
    """Render the report for `day` and write it to out_dir/daily_report_<day>.html atomically; returns the path."""
    return write_report(load_daily_report(marts_file, day, trend_days, states), out_dir)
