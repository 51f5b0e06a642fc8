"""The production calendar: production days, shifts, breaks and planned time as UTC windows.

Pure functions of the plant configuration, no I/O. The OEE marts divide time by these windows, so the
rules below are the contract a plant engineer relies on, and every second must land in exactly one
production day:

* A production day D runs from D at ``calendar.day_start`` (plant-local wall clock) to D+1 at
  ``day_start``. Across a DST change that is 23 h or 25 h of real time.
* A shift occurrence starts on a local date d at ``shift.start`` and ends at ``shift.end`` on d, or on
  d+1 when ``end <= start`` (it crosses midnight; ``end == start`` is one shift of a whole wall-clock
  day, 23 h or 25 h across a clock change). Shifts run only on working days, judged by the date
  they START on: a night shift starting Friday 22:00 runs until Saturday 06:00.
* A shift occurrence is clipped to each production day it overlaps, so each second counts in the day in
  which it happens.
* Breaks are wall-clock intervals (they may cross midnight) that count only inside a shift occurrence.
* Planned time is shift time minus break time.

Wall clock to UTC: an ambiguous time (fall-back) takes its first occurrence (fold=0); a nonexistent
time (spring-forward gap) becomes the instant the gap ends, e.g. 02:30 on 2026-03-29 in Europe/Berlin is
03:00 CEST = 01:00 UTC. All durations are differences of UTC instants, never of wall-clock readings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pyarrow as pa

from assets.plant.config import PlantConfig

UTC = dt.UTC  # the same object as datetime.timezone.utc
KINDS = ("day", "shift", "break", "planned")
_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}
_ONE_DAY = dt.timedelta(days=1)

CALENDAR_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("shift_name", pa.string()),
        pa.field("name", pa.string()),
        pa.field("start", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("end", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("shift_start", pa.timestamp("us", tz="UTC")),
        pa.field("shift_end", pa.timestamp("us", tz="UTC")),
        pa.field("duration_s", pa.float64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class CalendarWindow:
    """One row of the calendar: a half-open UTC interval [start, end) inside production day ``day``.

    kind        'day' (the whole production day), 'shift', 'break' or 'planned' (shift minus breaks).
    shift_name  the shift the row belongs to; None for the 'day' row.
    name        the break name for 'break' rows, the shift name for 'shift' and 'planned' rows,
                None for the 'day' row.
    shift_start, shift_end
                the full shift occurrence before clipping to the day (None for the 'day' row), so a
                consumer can tell a night shift's Saturday tail from a shift that started on Saturday.
    """

    day: dt.date
    kind: str
    shift_name: str | None
    name: str | None
    start: dt.datetime
    end: dt.datetime
    shift_start: dt.datetime | None = None
    shift_end: dt.datetime | None = None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


# --- wall clock -> UTC ---------------------------------------------------------------------------------


def local_to_utc(tz: ZoneInfo, day: dt.date, clock: dt.time) -> dt.datetime:
    """The UTC instant at which the plant-local wall clock reads ``clock`` on ``day``.

    Ambiguous readings (the repeated hour) take the first occurrence (fold=0). Readings that never
    happen (the skipped hour) take the instant the gap ends, so the mapping never goes backwards in time
    and a window can never get a negative length.
    """
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # the reading exists (once or, with fold=0, first of twice)
    # In a gap, fold=0 and fold=1 apply the offsets before and after the transition; the transition
    # instant lies between the two results. Find it by bisection on whole seconds (tzdata transitions
    # are on whole seconds), using "the wall clock has passed the reading" as the predicate.
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = min(first, second), max(first, second)
    lo = lo.replace(microsecond=0)
    if _wall(lo, tz) > naive or not _wall(hi, tz) > naive:  # pragma: no cover - not seen in tzdata
        raise ValueError(f"cannot resolve the wall-clock time {naive} in {tz.key}")
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + dt.timedelta(seconds=(hi - lo).total_seconds() // 2)
        if _wall(mid, tz) > naive:
            hi = mid
        else:
            lo = mid
    return hi


def _wall(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _check_date(day: dt.date) -> dt.date:
    # datetime is a subclass of date; a datetime here would silently carry its clock into date maths.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"a production day must be a datetime.date, got {day!r}")
    return day


def _check_instant(instant: dt.datetime) -> dt.datetime:
    if not isinstance(instant, dt.datetime):
        raise TypeError(f"an instant must be a datetime.datetime, got {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        # A naive time could be UTC or plant-local; guessing would shift data by hours.
        raise ValueError(f"an instant must be timezone-aware, got naive {instant!r}")
    return instant.astimezone(UTC)


# --- production days -------------------------------------------------------------------------------------


def production_day_window(config: PlantConfig, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC interval [start, end) of production day ``day``: day_start on ``day`` to day_start on the next."""
    _check_date(day)
    tz, day_start = config.tz, config.calendar.day_start
    return local_to_utc(tz, day, day_start), local_to_utc(tz, day + _ONE_DAY, day_start)


def production_day_of(config: PlantConfig, instant: dt.datetime) -> dt.date:
    """The production day whose window contains the tz-aware ``instant``.

    Decided by comparing with the day windows themselves rather than with the local clock reading, so
    the answer agrees with production_day_window even in the repeated hour or when day_start falls in
    a DST gap.
    """
    utc = _check_instant(instant)
    guess = utc.astimezone(config.tz).date()
    # The containing day is the local date or the one before (local clock earlier than day_start);
    # the day after covers a day_start in the repeated hour.
    for day in (guess - _ONE_DAY, guess, guess + _ONE_DAY):
        start, end = production_day_window(config, day)
        if start <= utc < end:
            return day
    # Only reachable if a zone skips whole days next to the guess (Pacific/Apia 2011); search wider.
    for offset in range(2, 4):
        for day in (guess - offset * _ONE_DAY, guess + offset * _ONE_DAY):
            start, end = production_day_window(config, day)
            if start <= utc < end:
                return day
    raise ValueError(f"no production day contains {instant!r}")  # pragma: no cover


def partition_day(key: str) -> dt.date:
    """A production-day partition key (the plant-local date on which the day starts) back to that day."""
    return dt.date.fromisoformat(key)


def production_days_between(config: PlantConfig, start_instant: dt.datetime, end_instant: dt.datetime) -> list[dt.date]:
    """Every production day whose window meets the closed interval [start_instant, end_instant], in order.

    Both ends are inclusive: an end exactly at a day boundary includes the day that begins there, so
    a caller asking "which partitions hold data from start to end" never misses the last one.
    """
    start, end = _check_instant(start_instant), _check_instant(end_instant)
    if end < start:
        raise ValueError(f"end {end_instant!r} is before start {start_instant!r}")
    first, last = production_day_of(config, start), production_day_of(config, end)
    days = []
    day = first
    while day <= last:
        window_start, window_end = production_day_window(config, day)
        if window_start < window_end:  # a zone that skips a date leaves an empty day with no seconds
            days.append(day)
        day += _ONE_DAY
    return days


# --- shifts, breaks, planned time -----------------------------------------------------------------------


def _occurrence(tz: ZoneInfo, date: dt.date, start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """A wall-clock interval starting on ``date``; it ends the next day when end <= start (a whole day
    when end == start)."""
    end_date = date + _ONE_DAY if end <= start else date
    return local_to_utc(tz, date, start), local_to_utc(tz, end_date, end)


def _shift_occurrences(config: PlantConfig, day: dt.date) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """Full (unclipped) shift occurrences that overlap production day ``day``, as (name, start, end).

    Candidates start on D-1, D or D+1: a production day lasts at most 25 h and a shift at most 24 h,
    so nothing starting earlier or later can reach the day window.
    """
    tz, cal = config.tz, config.calendar
    day_start, day_end = production_day_window(config, day)
    found = []
    for date in (day - _ONE_DAY, day, day + _ONE_DAY):
        if date.weekday() not in cal.working_days:  # a shift runs on the date it starts on
            continue
        for shift in cal.shifts:
            start, end = _occurrence(tz, date, shift.start, shift.end)
            if start < day_end and end > day_start and start < end:
                found.append((shift.name, start, end))
    return found


def _break_occurrences(
    config: PlantConfig, shift_start: dt.datetime, shift_end: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """The parts of every break occurrence that lie inside one shift occurrence, as (name, start, end).

    Breaks starting on each local date the shift touches are tried, plus the date before so that a
    break crossing midnight into a shift that starts at midnight is not missed; intersecting with the
    shift discards the irrelevant ones.
    """
    tz = config.tz
    first = shift_start.astimezone(tz).date() - _ONE_DAY
    last = shift_end.astimezone(tz).date()
    pieces = []
    for brk in config.calendar.breaks:
        date = first
        while date <= last:
            start, end = _occurrence(tz, date, brk.start, brk.end)
            start, end = max(start, shift_start), min(end, shift_end)
            if start < end:
                pieces.append((brk.name, start, end))
            date += _ONE_DAY
    return pieces


def _subtract(
    start: dt.datetime, end: dt.datetime, holes: list[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) minus the union of ``holes``; overlapping breaks are removed only once."""
    pieces, cursor = [], start
    for hole_start, hole_end in sorted(holes):
        if hole_start > cursor:
            pieces.append((cursor, min(hole_start, end)))
        cursor = max(cursor, hole_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return [(s, e) for s, e in pieces if s < e]


def calendar_windows(config: PlantConfig, day: dt.date) -> list[CalendarWindow]:
    """All calendar rows of production day ``day``, each clipped to the day window.

    One 'day' row, then the 'shift' occurrences overlapping the day, their 'break' pieces, and the
    'planned' pieces (shift minus breaks). Zero-length pieces are dropped. Sorted by kind (day, shift,
    break, planned) and start, so the output is deterministic.
    """
    day_start, day_end = production_day_window(config, day)
    rows = [CalendarWindow(day, "day", None, None, day_start, day_end)]

    def clipped(kind, shift, name, start, end, full_start, full_end):
        # Clip to the day: the rest of the occurrence belongs to the neighbouring production day.
        start, end = max(start, day_start), min(end, day_end)
        if start < end:
            rows.append(CalendarWindow(day, kind, shift, name, start, end, full_start, full_end))

    for shift_name, shift_start, shift_end in _shift_occurrences(config, day):
        clipped("shift", shift_name, shift_name, shift_start, shift_end, shift_start, shift_end)
        breaks = _break_occurrences(config, shift_start, shift_end)
        for break_name, start, end in breaks:
            clipped("break", shift_name, break_name, start, end, shift_start, shift_end)
        for start, end in _subtract(shift_start, shift_end, [(s, e) for _, s, e in breaks]):
            clipped("planned", shift_name, shift_name, start, end, shift_start, shift_end)

    rows.sort(key=lambda w: (_KIND_ORDER[w.kind], w.start, w.end, w.shift_name or "", w.name or ""))
    return rows


def calendar_table(config: PlantConfig, days: Iterable[dt.date]) -> pa.Table:
    """The calendar rows of several production days as an Arrow table (schema CALENDAR_SCHEMA).

    Days are de-duplicated and sorted, so listing a day twice cannot double-count its seconds.
    """
    unique_days = sorted({_check_date(day) for day in days})
    columns: dict[str, list] = {field.name: [] for field in CALENDAR_SCHEMA}
    for day in unique_days:
        for w in calendar_windows(config, day):
            columns["day"].append(w.day)
            columns["kind"].append(w.kind)
            columns["shift_name"].append(w.shift_name)
            columns["name"].append(w.name)
            columns["start"].append(w.start)
            columns["end"].append(w.end)
            columns["shift_start"].append(w.shift_start)
            columns["shift_end"].append(w.shift_end)
            columns["duration_s"].append(w.duration_s)
    return pa.Table.from_pydict(columns, schema=CALENDAR_SCHEMA)
