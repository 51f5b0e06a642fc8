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
    number = finite(value)
    return "no data" if number is None else f"{number:.3f} kWh"
