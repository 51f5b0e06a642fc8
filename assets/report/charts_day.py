"""The daily report's chart of one day: the machine-state timeline of a line, one bar per machine from its
first shift's start to its last shift's end, each stretch coloured by what the machine was doing. Inline SVG
like charts.py; every text from the data is HTML-escaped."""

from __future__ import annotations

import datetime as dt

from assets.report.charts import _e, _f, _svg, _text_el
from assets.report.details import Timeline
from assets.report.formats import CATEGORY_COLOURS, CATEGORY_LABELS


def timeline_svg(timeline: Timeline, tz: dt.tzinfo | None = None) -> str:
    """One bar per machine; hour ticks in the plant's wall-clock time of the marts' timestamps."""
    machines = list(timeline.machines)
    width, left, right, top, bar_h, gap = 900, 110, 20, 10, 18, 8
    plot_w = width - left - right
    rows_h = len(machines) * (bar_h + gap)
    height = top + rows_h + 34 + 18 * ((len(CATEGORY_COLOURS) + 2) // 3)
    total = max(1.0, (timeline.end - timeline.start).total_seconds())
    body: list[str] = []
    for i, machine in enumerate(machines):
        y = top + i * (bar_h + gap)
        body.append(_text_el(left - 8, y + bar_h - 5, machine, "end"))
        for span in timeline.machines[machine]:
            x = left + plot_w * span.start_s / total
            w = plot_w * (span.end_s - span.start_s) / total
            start = timeline.start + dt.timedelta(seconds=span.start_s)
            end = timeline.start + dt.timedelta(seconds=span.end_s)
            tip = (
                f"{machine}: {CATEGORY_LABELS.get(span.category, span.category)} {_clock(start, tz)}-{_clock(end, tz)}"
            )
            body.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{max(w, 0.5):.2f}" height="{bar_h}" '
                f'fill="{CATEGORY_COLOURS.get(span.category, "#000")}"><title>{_e(tip)}</title></rect>'
            )
    baseline = top + rows_h
    first_hour = timeline.start.replace(minute=0, second=0, microsecond=0)
    tick = first_hour if first_hour >= timeline.start else first_hour + dt.timedelta(hours=1)
    step = dt.timedelta(hours=2 if total > 12 * 3600 else 1)
    while tick <= timeline.end:
        x = left + plot_w * (tick - timeline.start).total_seconds() / total
        body.append(f'<line x1="{_f(x)}" y1="{_f(baseline)}" x2="{_f(x)}" y2="{_f(baseline + 4)}" stroke="#333"/>')
        body.append(_text_el(x, baseline + 16, _clock(tick, tz), "middle"))
        tick += step
    for i, (category, colour) in enumerate(CATEGORY_COLOURS.items()):
        x = left + (i % 3) * 240
        y = baseline + 30 + (i // 3) * 18
        body.append(f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="14" height="12" fill="{colour}" stroke="#999"/>')
        body.append(_text_el(x + 20, y, CATEGORY_LABELS[category]))
    return _svg(width, height, "Machine-state timeline", body)


def _clock(t: dt.datetime, tz: dt.tzinfo | None) -> str:
    return (t.astimezone(tz) if tz is not None and t.tzinfo is not None else t).strftime("%H:%M")
