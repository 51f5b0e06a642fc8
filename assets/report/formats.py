"""The report's numbers as the page writes them: NULL, NaN, infinities and impossible ratios become
"no data" (or are left out), never a number the marts do not hold."""

from __future__ import annotations

import math


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
    """Energy per unit in a unit a reader takes in at a glance: Wh per unit, kWh per unit from 1 kWh on."""
    number = finite(value)
    if number is None:
        return "no data"
    return f"{number:,.2f} kWh/unit" if abs(number) >= 1 else f"{number * 1000:,.1f} Wh/unit"


def kwh(value: object) -> str:
    number = finite(value)
    return "no data" if number is None else f"{number:,.1f} kWh"


def points(value: object) -> str:
    """A change of a ratio in percentage points, signed."""
    number = finite(value)
    return "no data" if number is None else f"{number * 100:+.1f} pts"


# What a stretch of a machine's day is, in the colours of the timeline and the Pareto (Okabe-Ito).
CATEGORY_COLOURS = {
    "running": "#009E73",
    "planned_stop": "#56B4E9",
    "unplanned_stop": "#D55E00",
    "minor_stop": "#E69F00",
    "break": "#F0E442",
    "unknown": "#7F7F7F",
    "not_scheduled": "#E3E3E3",
}
CATEGORY_LABELS = {
    "running": "running",
    "planned_stop": "planned stop",
    "unplanned_stop": "unplanned stop",
    "minor_stop": "minor stop",
    "break": "break",
    "unknown": "unknown (no valid state)",
    "not_scheduled": "not scheduled",
}
