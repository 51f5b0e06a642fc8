"""The demo's clock: time units as integer UTC milliseconds, plant-local wall-clock instants, and
contiguous segment lists (a calendar painted over, clipped, sampled at random)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from assets.plant.config import PlantConfig

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000

_RUN, _OFF = "run", "off"  # calendar-level segment values before machine codes are known


def local_ms(tz: ZoneInfo, day: dt.date, clock: dt.time) -> int:
    """UTC ms of a local wall-clock time; fold=0 takes the first of a repeated hour, and a time in
    the spring-forward gap lands just after the gap, as a PLC clock would."""
    return round(dt.datetime.combine(day, clock, tzinfo=tz).timestamp() * SECOND_MS)


def _local_interval(tz: ZoneInfo, day: dt.date, begin: dt.time, end: dt.time) -> tuple[int, int]:
    """A wall-clock interval that starts on ``day`` and may cross midnight."""
    end_day = day + dt.timedelta(days=1) if end <= begin else day
    return local_ms(tz, day, begin), local_ms(tz, end_day, end)


def first_noon_at_or_after(tz: ZoneInfo, day: dt.date, not_before: int) -> int:
    noon = local_ms(tz, day, dt.time(12, 0))
    return noon if noon >= not_before else local_ms(tz, day + dt.timedelta(days=1), dt.time(12, 0))


def paint(
    segments: list[tuple[int, int, str]], a: int, b: int, value: str, over: str | tuple[str, ...] | None = None
) -> list[tuple[int, int, str]]:
    """Overwrite [a, b) of a contiguous segment list with ``value`` (only where it is ``over``, if given)."""
    if b <= a:
        return segments
    if isinstance(over, str):
        over = (over,)
    out = []
    for s, e, v in segments:
        if e <= a or s >= b or (over is not None and v not in over):
            out.append((s, e, v))
            continue
        if s < a:
            out.append((s, a, v))
        out.append((max(s, a), min(e, b), value))
        if e > b:
            out.append((b, e, v))
    return out


def merge(segments: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, v in segments:
        if e <= s:
            continue
        if out and out[-1][2] == v and out[-1][1] == s:
            out[-1] = (out[-1][0], e, v)
        else:
            out.append((s, e, v))
    return out


def scheduled_intervals(
    config: PlantConfig, tz: ZoneInfo, start: dt.date, days: int, t0: int, t_end: int
) -> list[tuple[int, int]]:
    """Shift time minus breaks, as UTC ms intervals clipped to the period.

    A shift belongs to the day it starts on, so Friday's night shift runs into Saturday morning and
    the night shift of the day before ``start`` may still be running when the period begins.
    """
    cal = config.calendar
    segments = [(t0, t_end, _OFF)]
    dates = [start + dt.timedelta(days=i) for i in range(-1, days + 1)]
    for day in dates:
        if day.weekday() in cal.working_days:
            for shift in cal.shifts:
                a, b = _local_interval(tz, day, shift.start, shift.end)
                segments = paint(segments, max(a, t0), min(b, t_end), _RUN)
    for day in dates:
        for brk in cal.breaks:
            a, b = _local_interval(tz, day, brk.start, brk.end)
            segments = paint(segments, max(a, t0), min(b, t_end), _OFF)
    return [(s, e) for s, e, v in merge(segments) if v == _RUN]


def clip(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo)]


def random_instant(rng: np.random.Generator, intervals: list[tuple[int, int]]) -> int | None:
    """An instant drawn uniformly from the union of the intervals (None if they are empty)."""
    total = sum(e - s for s, e in intervals)
    if total <= 0:
        return None
    x = int(rng.integers(0, total))
    for s, e in intervals:
        if x < e - s:
            return s + x
        x -= e - s
    return intervals[-1][1] - 1
