"""The daily report's chart of a line's output hour by hour: one bar per hour of good units, a black tick at
the hour's target. Inline SVG like charts.py; every text from the data is HTML-escaped."""

from __future__ import annotations

from collections.abc import Sequence

from assets.report.charts import LOSS_COLOUR, _axis_max, _e, _f, _nice_step, _svg, _text_el, _y_axis
from assets.report.formats import count, finite
from assets.report.production import HourRow

MET_COLOUR = "#009E73"
TARGET_COLOUR = "#222"


def hourly_svg(hours: Sequence[HourRow]) -> str:
    """Good units per hour against the hour's target; a bar below its target is drawn in the loss colour."""
    width, height, left, right, top, bottom = 900, 230, 56, 20, 24, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for h in hours for v in (finite(h.good_count), finite(h.target_count)) if v is not None] + [0.0])
    step = _nice_step(peak or 1.0, 5)
    top_value = _axis_max(peak or 1.0, step)
    body: list[str] = []
    _y_axis(body, left, top, plot_w, plot_h, top_value, step, "good units")
    slot = plot_w / max(1, len(hours))
    baseline = top + plot_h

    def y_of(value: float) -> float:
        return baseline - plot_h * max(0.0, value) / top_value

    for i, hour in enumerate(hours):
        centre = left + slot * (i + 0.5)
        clock = f"{hour.local_hour:%H:%M}"
        good, target = finite(hour.good_count), finite(hour.target_count)
        if good is not None:
            below = target is not None and round(good) < round(target)
            tip = f"{clock}: {count(good)} good / target {count(target)}"
            body.append(
                f'<rect x="{_f(centre - slot * 0.35)}" y="{_f(y_of(good))}" width="{_f(slot * 0.7)}" '
                f'height="{_f(baseline - y_of(good))}" fill="{LOSS_COLOUR if below else MET_COLOUR}" '
                f'fill-opacity="0.85"><title>{_e(tip)}</title></rect>'
            )
        if target is not None:
            y = y_of(target)
            body.append(
                f'<line x1="{_f(centre - slot * 0.45)}" y1="{_f(y)}" x2="{_f(centre + slot * 0.45)}" y2="{_f(y)}" '
                f'stroke="{TARGET_COLOUR}" stroke-width="2.5"/>'
            )
        body.append(
            f'<line x1="{_f(centre)}" y1="{_f(baseline)}" x2="{_f(centre)}" y2="{_f(baseline + 4)}" stroke="#333"/>'
        )
        if len(hours) <= 14 or i % 2 == 0:
            body.append(_text_el(centre, baseline + 16, clock, "middle"))
    legend_y = baseline + 40
    items = ((MET_COLOUR, "good units, at or above target"), (LOSS_COLOUR, "good units, below target"))
    for i, (colour, label) in enumerate(items):
        x = left + i * 240
        body.append(f'<rect x="{_f(x)}" y="{_f(legend_y - 10)}" width="14" height="12" fill="{colour}"/>')
        body.append(_text_el(x + 20, legend_y, label))
    x = left + 2 * 240
    body.append(
        f'<line x1="{_f(x)}" y1="{_f(legend_y - 4)}" x2="{_f(x + 14)}" y2="{_f(legend_y - 4)}" '
        f'stroke="{TARGET_COLOUR}" stroke-width="2.5"/>'
    )
    body.append(_text_el(x + 20, legend_y, "the hour's target"))
    return _svg(width, height, "Production by hour against target", body)
