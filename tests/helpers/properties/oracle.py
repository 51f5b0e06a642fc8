"""Expected values of the marts, computed in plain Python from a generated plant's timeline.

Nothing here imports the product: the calendar, the state timeline and the energy are re-derived from
the rules as the issue and the README state them, on whole-second UTC instants (ints), so that a
disagreement with the published marts is a disagreement about a rule, never about rounding.

Rules used (and where they are written down):
* a production day D runs from `day_start` on D to `day_start` on D+1, plant-local wall clock; a wall
  time in the spring-forward gap is the instant the gap ends; a repeated (fall-back) wall time is its
  first occurrence (assets/plant/calendar.py's module docstring);
* a shift starts on a working day and ends the next day when end <= start; breaks count inside shifts;
* a state holds from its point to the next point of the tag; before the first point, and on a bad point
  or an unmapped code, the state is unknown (an unplanned stop); an unplanned stop shorter than the
  machine's microstop threshold counts as run time, unless its start was not seen (README, layers);
* a counter reading's increment counts in the window it closes: readings in (start, end] of planned
  time where the machine is not `not_scheduled` (sql/staging/stg_counts_in_plan.sql's contract);
* a power reading holds until the next reading of the tag (issue #13 section 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAY = dt.timedelta(days=1)

Intervals = list[tuple[int, int]]

# code -> (category, reason); 9 is deliberately missing from every machine's state map
STATE_MEANING = {
    1: ("running", None),
    2: ("planned_stop", "Changeover"),
    3: ("unplanned_stop", "Jam"),
    4: ("not_scheduled", "No orders"),
}
UNMAPPED_CODE = 9


# --- wall clock --------------------------------------------------------------------------------------


def to_utc(tz: ZoneInfo, date: dt.date, minute_of_day: int) -> int:
    """Epoch seconds at which the wall clock of `tz` reads `minute_of_day` on `date`."""
    naive = dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minute_of_day)
    first = naive.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return int(first.timestamp())  # exists (fold=0: the first of a repeated hour)
    # in the spring-forward gap: walk from the earlier reading of the two offsets to the first minute
    # whose wall clock has reached the reading, i.e. the end of the gap
    instant = min(int(naive.replace(tzinfo=tz, fold=f).timestamp()) for f in (0, 1))
    while dt.datetime.fromtimestamp(instant, tz).replace(tzinfo=None) < naive:
        instant += 60
    return instant


def utc_text(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- interval sets on ints ---------------------------------------------------------------------------


def union(ivs) -> Intervals:
    out: Intervals = []
    for s, e in sorted(iv for iv in ivs if iv[0] < iv[1]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    a, b = union(a), union(b)
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    out = []
    for s, e in union(a):
        cursor = s
        for bs, be in union(b):
            if be <= cursor or bs >= e:
                continue
            if bs > cursor:
                out.append((cursor, bs))
            cursor = max(cursor, be)
        if cursor < e:
            out.append((cursor, e))
    return out


def length(ivs: Intervals) -> int:
    return sum(e - s for s, e in union(ivs))


def contains_closing(ivs: Intervals, ts: int) -> bool:
    """Whether a reading at `ts` closes a window of `ivs`: a < ts <= b for some [a, b)."""
    return any(s < ts <= e for s, e in ivs)


# --- the calendar --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSpec:
    """Clock times in minutes after midnight; working days as datetime.weekday() numbers."""

    tz_name: str
    day_start: int
    working_days: frozenset[int]
    shifts: tuple[tuple[str, int, int], ...]
    breaks: tuple[tuple[str, int, int], ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def day_window(self, day: dt.date) -> tuple[int, int]:
        return to_utc(self.tz, day, self.day_start), to_utc(self.tz, day + DAY, self.day_start)

    def day_of(self, instant: float) -> dt.date:
        """The production day whose window holds `instant` (epoch seconds, may be fractional)."""
        guess = dt.datetime.fromtimestamp(int(instant), UTC).date()
        for day in (guess - 2 * DAY + k * DAY for k in range(5)):
            start, end = self.day_window(day)
            if start <= instant < end:
                return day
        raise AssertionError(f"no production day holds {instant}")

    def _occurrences(self, start_clock: int, end_clock: int, dates) -> Intervals:
        out = []
        for date in dates:
            end_date = date + DAY if end_clock <= start_clock else date
            out.append((to_utc(self.tz, date, start_clock), to_utc(self.tz, end_date, end_clock)))
        return out

    def shift_occurrences(self, first: dt.date, last: dt.date) -> list[tuple[str, int, int]]:
        """Whole (unclipped) shift occurrences starting on working days first..last."""
        dates = [first + k * DAY for k in range((last - first).days + 1)]
        found = []
        for name, start, end in self.shifts:
            for date in dates:
                if date.weekday() in self.working_days:
                    found.extend((name, s, e) for s, e in self._occurrences(start, end, [date]))
        return sorted(found, key=lambda x: x[1])

    def sets(self, day: dt.date) -> DaySets:
        lo, hi = self.day_window(day)
        occurrences = self.shift_occurrences(day - 2 * DAY, day + DAY)
        shifts = intersect([(s, e) for _, s, e in occurrences], [(lo, hi)])
        dates = [day - 3 * DAY + k * DAY for k in range(6)]
        breaks_all = [iv for _, s, e in self.breaks for iv in self._occurrences(s, e, dates)]
        breaks = intersect(breaks_all, shifts)
        return DaySets(day, (lo, hi), shifts, breaks, subtract(shifts, breaks))


@dataclass(frozen=True)
class DaySets:
    day: dt.date
    window: tuple[int, int]
    shifts: Intervals
    breaks: Intervals
    planned: Intervals  # shift time less breaks, inside the day

    @property
    def calendar_s(self) -> int:
        return self.window[1] - self.window[0]


# --- machine states ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatePoint:
    ts: int
    code: int | None  # None: a bad-quality point


def _key(point: StatePoint | None) -> tuple:
    if point is None or point.code is None:
        return ("unplanned_stop", "unknown", None)
    if point.code not in STATE_MEANING:
        return ("unplanned_stop", "unknown", point.code)
    return (*STATE_MEANING[point.code], point.code)


@dataclass
class StateSets:
    """Per category, the instants of one production day (half-open intervals)."""

    running: Intervals = field(default_factory=list)  # running, and minor stops
    minor: Intervals = field(default_factory=list)
    planned_stop: Intervals = field(default_factory=list)
    unplanned_stop: Intervals = field(default_factory=list)  # not minor; unknown included
    unknown: Intervals = field(default_factory=list)
    not_scheduled: Intervals = field(default_factory=list)


def state_sets(points: list[StatePoint], day_window: tuple[int, int], threshold_s: float) -> StateSets:
    """The day's instants by category, from the state points (sorted by time, distinct times)."""
    lo, hi = day_window
    far = hi + 10 * 86_400
    # runs of one state: (key, start, end, starts_at_first_point, closed)
    runs = []
    if not points or points[0].ts > lo:
        runs.append([_key(None), min(lo, points[0].ts if points else lo), points[0].ts if points else far, False, True])
    for i, point in enumerate(points):
        key = _key(point)
        end = points[i + 1].ts if i + 1 < len(points) else far
        if runs and runs[-1][0] == key and runs[-1][2] == point.ts:
            runs[-1][2] = end
        else:
            runs.append([key, point.ts, end, i == 0, True])
    runs[-1][4] = False  # no later point of another state closes the last run
    out = StateSets()
    for (category, reason, _code), start, end, first, closed in runs:
        piece = intersect([(start, end)], [(lo, hi)])
        if not piece:
            continue
        unseen = first and start < lo
        minor = (
            category == "unplanned_stop" and reason != "unknown" and closed and not unseen and end - start < threshold_s
        )
        if minor:
            out.minor += piece
            out.running += piece
        elif category == "running":
            out.running += piece
        elif category == "planned_stop":
            out.planned_stop += piece
        elif category == "not_scheduled":
            out.not_scheduled += piece
        else:
            out.unplanned_stop += piece
            if reason == "unknown":
                out.unknown += piece
    return out


# --- counters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterReading:
    """One reading of a machine's total and reject counters (the same instant), or a bad reading.

    `total_counts`/`reject_counts` are what the rules count for it: the pieces since the reading before
    (a wrap adds rollover - before + value, a reset counts the value shown, a jitter back-step counts
    nothing, and the reading after it counts only what passes the previous high)."""

    ts: int
    total: int | None
    reject: int | None
    total_counts: int = 0
    reject_counts: int = 0
    event: str = "count"  # count | wrap | reset | jitter | bad | first


def counted(readings: list[CounterReading], counting: Intervals) -> tuple[int, int]:
    """Total and reject counts of the readings that close a window of `counting`."""
    total = reject = 0
    for r in readings:
        if r.event not in ("bad", "first") and contains_closing(counting, r.ts):
            total += r.total_counts
            reject += r.reject_counts
    return total, reject


# --- energy --------------------------------------------------------------------------------------------


def power_kwh(
    readings: list[tuple[int, float]],
    where: Intervals,
    max_hold_s: float | None = None,
    last_hold_s: float | None = None,
) -> float:
    """kWh of the power readings over the instants `where`: each reading's kW held to the next one (at
    most `max_hold_s` when given); the last reading (no later one) holds for `last_hold_s` (one typical
    interval), else for nothing."""
    total = 0.0
    for i, (ts, kw) in enumerate(readings):
        nxt = readings[i + 1][0] if i + 1 < len(readings) else None
        if nxt is None:
            if last_hold_s is None:
                continue
            end = ts + (last_hold_s if max_hold_s is None else min(last_hold_s, max_hold_s))
        else:
            end = nxt if max_hold_s is None else min(nxt, ts + max_hold_s)
        total += max(kw, 0.0) * length(intersect([(ts, end)], where)) / 3600.0
    return total


def meter_kwh(readings: list[tuple[int, float]], where: Intervals, rollover: float | None) -> float:
    """kWh of a cumulative meter over the instants `where`: each step's kWh spread evenly over its span."""
    total = 0.0
    for (t0, v0), (t1, v1) in zip(readings, readings[1:], strict=False):
        kwh = v1 - v0 if v1 >= v0 else v1 + rollover - v0
        total += kwh * length(intersect([(t0, t1)], where)) / (t1 - t0)
    return total
