"""Durations in the plant YAML ("15m", "1h", "1d"): a whole number and a unit (s, m, h, d), checked and
worded as the other values are (assets/plant/fields.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from assets.plant.errors import problem

__all__ = ["Duration"]

_DURATION_RE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: Any) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    match = _DURATION_RE.match(value.strip()) if isinstance(value, str) else None
    if not match or int(match[1]) == 0:
        raise problem(f'must be a duration such as "15m", "1h" or "1d" (s, m, h, d), got {value!r}')
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": _DURATION_RE.pattern, "examples": ["15m", "1h", "1d"]}),
]
