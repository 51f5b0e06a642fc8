"""A deterministic demo bottling plant that writes AVEVA/Wonderware Historian CSV exports.

The demo exists so that the whole pipeline (landing CSVs -> Delta tables -> OEE marts) can run
without a real plant. The files must therefore look like what a historian really exports, warts
included: store-on-change rows, counters that wrap and get reset, bad- and doubtful-quality rows,
plant-local timestamps without offset (so the autumn DST hour repeats), and one overlapping re-export.

Everything about the plant (machines, tags, state codes, cycle times, shifts, breaks, working days)
comes from the validated ``PlantConfig``. Every point is a function of the seed, the tag and the
time, never of ``start`` or ``days``: each production day of each machine draws from its own
generator, seeded from (seed, a stable hash of the machine's name, the day, the purpose), so a
30-day demo written over a 14-day one repeats the common days' rows exactly. What spans days is
built from days' own draws: a stop still on at a day's end carries into the next day, cumulative
counters and energy meters start each day at the sum of the earlier days' cheap totals since
``calendar.first_day``, and the PLC restart and the long repair fall on days that date rules pick.

Internally every instant is an integer of UTC milliseconds since the epoch; timestamps become
local wall-clock text only when the rows are written.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from assets.demo.formats import FORMATS, Point, source_options_for, write_points
from assets.plant.config import PlantConfig, Source
from assets.plant.machines import Machine

HEADER = "DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode"
SOURCE_FORMAT = "aveva_historian_csv"

GOOD, BAD, DOUBTFUL = 0, 1, 2
# Quality, QualityDetail, OPCQuality as the AVEVA History table reports them.
_QUALITY_TEXT = {GOOD: "0,192,192", BAD: "1,249,0", DOUBTFUL: "16,64,64"}

SECOND_MS = 1_000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
COUNTER_SAMPLE_MS = 30_000  # the historian polls counters every 30 s and stores only changes
ENERGY_SAMPLE_MS = 60_000  # the energy meter is stored every minute
# A counter sample taken just before a stop, so that counters only ever change while running.
_LAST_COUNT_BEFORE_STOP_MS = 200

_RUN, _OFF = "run", "off"  # calendar-level segment values before machine codes are known

# The date rules. Two-week cycles start on Mondays (2026-03-02 and 2026-03-16 start one), so any
# 14 consecutive days hold exactly one PLC restart and one long repair.
CYCLE_DAYS = 14
CYCLE_ANCHOR = dt.date(2024, 1, 8)
RESET_FROM_DAY = 1  # the PLC restart: the first day with shifts from the cycle's 2nd day on
BREAKDOWN_FROM_DAY = 4  # the long repair: the first day with 8 h of shifts from the cycle's 5th day on
# The daily count is drawn before the day's stops; should they leave too little run time for it,
# the last of the day's own short stops are dropped until performance is at most this.
PERFORMANCE_MAX = 0.97
# Planned stops (changeovers, cleaning) a working day loses on average: the cheap run-time estimate
# behind the day's count and energy totals.
_PLANNED_PER_DAY_MS = 40 * MINUTE_MS

# What a day's generator is for: each purpose has its own stream, so a cheap path can draw one
# thing (the repair's length) without drawing all the others first.
_CHANGEOVER, _CLEANING, _BREAKDOWN, _STOPS, _WEIGHTS, _ENERGY, _QUALITY, _RESET, _MACHINE = range(1, 10)
# Purposes of the hashed numbers, drawn for every day since the epoch.
_H_PERFORMANCE, _H_REJECTS, _H_RESET_MACHINE, _H_BREAKDOWN_MACHINE = range(20, 24)
_MASK64 = (1 << 64) - 1


def _name_key(name: str) -> int:
    """A stable number for a name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def _day_rng(seed: int, key: int, day: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, key, day, purpose])


def _hashed_uniform(seed: int, key: int, purpose: int, days: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1), one per day, that are a pure function of (seed, key, purpose, day).

    splitmix64 of the mixed integers, vectorised: cheap enough to draw for every day since the epoch,
    where a generator per day would cost tens of microseconds each.
    """
    mixed = (seed * 0x9E3779B97F4A7C15 + key * 0xC2B2AE3D27D4EB4F + purpose * 0x165667B19E3779F9) & _MASK64
    z = np.asarray(days, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z * np.uint64(0xD6E8FEB86659FD93) ^ np.uint64(mixed)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class _Codes:
    """The state codes a machine's simulation needs, picked from ``machine.states`` by meaning."""

    running: str
    not_scheduled: str
    jam: str
    starved: str
    breakdown: str
    changeover: str
    cleaning: str


@dataclass
class _Stream:
    """The rows the historian stored for one tag: times (UTC ms), value text (None = lost), quality."""

    tag: str
    times: list[int] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)

    def value_at(self, t: int) -> tuple[str | None, int]:
        """The value and quality in force at ``t`` (the last stored row at or before it)."""
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            raise ValueError(f"{self.tag}: no value stored at or before {t}")
        return self.values[i], self.quality[i]


@dataclass
class _MachineSim:
    machine: Machine
    codes: _Codes
    segments: list[tuple[int, int, str]]  # contiguous (start, end, code) covering the simulated days
    streams: list[_Stream] = field(default_factory=list)

    def intervals(self, categories: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end arrays of the segments whose state code falls in one of ``categories``."""
        return _category_intervals(self.segments, self.machine, categories)

    def running_intervals(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e, c in self.segments if c == self.codes.running]


def _category_intervals(
    segments: list[tuple[int, int, str]], machine: Machine, categories: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    states = machine.states
    chosen = [(s, e) for s, e, c in segments if states[c].category in categories]
    if not chosen:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.array(chosen, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def write_demo_exports(
    landing_root: Path,
    config: PlantConfig,
    start: dt.date,
    days: int = 14,
    seed: int = 7,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the demo plant's historian exports under landing_root/<source.folder>/ and return the paths written.

    One file ``History_YYYYMMDD.csv`` per production day (``calendar.day_start`` to the next day's
    ``day_start``, plant-local), plus, when ``days >= 4``, one overlapping re-export
    ``History_YYYYMMDD_reexport.csv`` from 12:00 of the 3rd production day to 12:00 of the 4th.
    The daily files come first in the returned list, in date order, then the re-export.

    The rows of a production day are the same whatever ``start`` and ``days`` are: only ``seed``
    (a different plant) changes them.

    ``fmt`` writes the same plant in another export format (see ``demo_source``): the files take that
    format's extension and go to the folder of the config's source of that format, else to
    landing_root/<fmt>/. What the format cannot carry is written as that system exports it (see
    ``formats.py``). The default, and ``aveva_historian_csv``, write the AVEVA files as before.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    source = _historian_source(config) if fmt is None else demo_source(config, fmt, options)
    tz = ZoneInfo(source.timezone)
    plant = _Plant(config, tz, seed)

    first = start.toordinal()
    # One day either side of the written ones: what is in force at the first day's start, and
    # whether a run goes on past the last day's end, come from the days around them.
    sims = plant.simulate(first - 1, first + days)
    day_bounds = [plant.bounds(first + i)[0] for i in range(days)] + [plant.bounds(first + days - 1)[1]]

    streams = sorted((s for sim in sims for s in sim.streams), key=lambda s: s.tag)
    exports = [
        (f"History_{(start + dt.timedelta(days=i)):%Y%m%d}.csv", day_bounds[i], day_bounds[i + 1]) for i in range(days)
    ]
    if days >= 4:
        # An engineer exported an overlapping range a second time: same rows, own initial values.
        third = start + dt.timedelta(days=2)
        a = _first_noon_at_or_after(tz, third, day_bounds[2])
        b = _first_noon_at_or_after(tz, third + dt.timedelta(days=1), day_bounds[3])
        exports.append((f"History_{third:%Y%m%d}_reexport.csv", a, b))

    folder = Path(landing_root) / source.folder
    folder.mkdir(parents=True, exist_ok=True)
    if source.format != SOURCE_FORMAT:
        paths = _write_format_files(folder, source, streams, exports)
    else:
        paths = _write_files(folder, tz, streams, exports)
    _date_back(paths)
    return paths


# How long ago the demo's exports are dated: beyond the landing settle time (30 s by default), so that
# `run` right after `demo` lands them, as it would an exporter's finished files.
DEMO_EXPORT_AGE = dt.timedelta(minutes=5)


def _date_back(paths: list[Path]) -> None:
    """Date the files DEMO_EXPORT_AGE back, a second apart in the order written (a later export stays later)."""
    first = dt.datetime.now(dt.UTC) - DEMO_EXPORT_AGE
    for i, path in enumerate(paths):
        stamp = (first + dt.timedelta(seconds=i)).timestamp()
        os.utime(path, (stamp, stamp))


def demo_source(config: PlantConfig, fmt: str, options: dict[str, Any] | None = None) -> Source:
    """Where and how the demo writes format ``fmt``: the config's source of that format if it has one
    (its folder, time zone and options), else folder ``<fmt>`` in the plant's time zone with ``options``
    (default: the options the format's reader needs for the demo's files)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    for source in config.sources:
        if source.format == fmt:
            return source
    chosen = source_options_for(fmt) if options is None else dict(options)
    return Source(name=fmt, format=fmt, folder=fmt, timezone=config.timezone, options=chosen)


# --------------------------------------------------------------------------------------- calendar


def _historian_source(config: PlantConfig) -> Source:
    for source in config.sources:
        if source.format == SOURCE_FORMAT:
            return source
    raise ValueError(f"the plant config has no source with format {SOURCE_FORMAT!r}")


def _local_ms(tz: ZoneInfo, day: dt.date, clock: dt.time) -> int:
    """UTC ms of a local wall-clock time; fold=0 takes the first of a repeated hour, and a time in
    the spring-forward gap lands just after the gap, as a PLC clock would."""
    return round(dt.datetime.combine(day, clock, tzinfo=tz).timestamp() * SECOND_MS)


def _local_interval(tz: ZoneInfo, day: dt.date, begin: dt.time, end: dt.time) -> tuple[int, int]:
    """A wall-clock interval that starts on ``day`` and may cross midnight."""
    end_day = day + dt.timedelta(days=1) if end <= begin else day
    return _local_ms(tz, day, begin), _local_ms(tz, end_day, end)


def _first_noon_at_or_after(tz: ZoneInfo, day: dt.date, not_before: int) -> int:
    noon = _local_ms(tz, day, dt.time(12, 0))
    return noon if noon >= not_before else _local_ms(tz, day + dt.timedelta(days=1), dt.time(12, 0))


def _paint(
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


def _merge(segments: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, v in segments:
        if e <= s:
            continue
        if out and out[-1][2] == v and out[-1][1] == s:
            out[-1] = (out[-1][0], e, v)
        else:
            out.append((s, e, v))
    return out


def _scheduled_intervals(
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
                segments = _paint(segments, max(a, t0), min(b, t_end), _RUN)
    for day in dates:
        for brk in cal.breaks:
            a, b = _local_interval(tz, day, brk.start, brk.end)
            segments = _paint(segments, max(a, t0), min(b, t_end), _OFF)
    return [(s, e) for s, e, v in _merge(segments) if v == _RUN]


def _clip(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo)]


def _random_instant(rng: np.random.Generator, intervals: list[tuple[int, int]]) -> int | None:
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


# ----------------------------------------------------------------------------------------- states


def _codes_for(machine: Machine) -> _Codes:
    """Pick the codes by category and reason, so the demo works with whatever codes the YAML uses."""

    def find(category: str, reason: str | None = None) -> str | None:
        for code, mapping in machine.states.items():
            if mapping.category != category:
                continue
            if reason is None or (mapping.reason or "").lower() == reason.lower():
                return code
        return None

    running, not_scheduled = find("running"), find("not_scheduled")
    unplanned, planned = find("unplanned_stop"), find("planned_stop")
    if running is None or not_scheduled is None or unplanned is None or planned is None:
        raise ValueError(
            f"machine {machine.line}/{machine.name}: the demo needs state codes for running, "
            "planned_stop, unplanned_stop and not_scheduled"
        )
    jam = find("unplanned_stop", "Jam") or unplanned
    changeover = find("planned_stop", "Changeover") or planned
    return _Codes(
        running=running,
        not_scheduled=not_scheduled,
        jam=jam,
        starved=find("unplanned_stop", "Starved") or jam,
        breakdown=find("unplanned_stop", "Breakdown") or unplanned,
        changeover=changeover,
        cleaning=find("planned_stop", "Cleaning") or changeover,
    )


class _Occupancy:
    """Cumulative milliseconds spent inside a sorted set of disjoint intervals up to each instant."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        self.starts, self.lengths = starts, ends - starts
        self.before = np.concatenate(([0], np.cumsum(self.lengths)))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        if len(self.starts) == 0:
            return np.zeros(t.shape, dtype=np.int64)
        i = np.searchsorted(self.starts, t, side="right") - 1
        j = np.clip(i, 0, None)
        inside = np.clip(t - self.starts[j], 0, self.lengths[j])
        return np.where(i >= 0, self.before[j] + inside, 0)


def _integrate(t: np.ndarray, occupancy: _Occupancy, t0: int, rate_per_s: np.ndarray) -> np.ndarray:
    """Integral from t0 to each t of an hourly piecewise-constant rate, counted only inside the intervals."""
    n = len(rate_per_s)
    bounds = t0 + np.arange(n + 1, dtype=np.int64) * HOUR_MS
    occ_bounds = occupancy(bounds)
    per_hour = rate_per_s * np.diff(occ_bounds) / SECOND_MS
    cumulative = np.concatenate(([0.0], np.cumsum(per_hour)))
    hour = np.clip((np.asarray(t) - t0) // HOUR_MS, 0, n - 1)
    return cumulative[hour] + rate_per_s[hour] * (occupancy(t) - occ_bounds[hour]) / SECOND_MS


def _hourly_walk(rng: np.random.Generator, n: int, centre: float, step: float, lo: float, hi: float) -> np.ndarray:
    """A slowly wandering hourly factor (AR(1) around ``centre``), kept inside [lo, hi]."""
    noise = rng.normal(0.0, step, n)
    out = np.empty(n)
    x = 0.0
    for i in range(n):
        x = 0.7 * x + noise[i]
        out[i] = x
    return np.clip(centre + out, lo, hi)


# ------------------------------------------------------------------------------------------ plant


class _Reset(NamedTuple):
    """A PLC restart: the machine's counters restart from 0 at ``at``; ``good`` and ``rejects`` are
    the machine's production since the epoch at that moment."""

    at: int
    good: int
    rejects: int


class _DayTotals(NamedTuple):
    """Per machine and day since the epoch: the cheap totals and their sums before each day."""

    first: int  # ordinal of the first day in the arrays
    good: np.ndarray
    rejects: np.ndarray
    kwh: np.ndarray
    good_before: np.ndarray  # production since the epoch at each day's start (negative before it)
    rejects_before: np.ndarray
    kwh_before: np.ndarray


class _Plant:
    """The demo plant as pure functions of (seed, machine, production day), cached for one call.

    A machine's day is laid out from that day's own draws (``_own_day``): calendar, changeovers,
    cleaning, the long repair, random stops. What it leaves running into the next day (a stop on at
    the day's end) is painted over the next day's own layout (``_day``). Counters and meters start
    each day at the sum of the cheap daily totals since the epoch; within the day those totals are
    spread over the day's running time (counters) and power by state (meters).
    """

    def __init__(self, config: PlantConfig, tz: ZoneInfo, seed: int):
        self.config, self.tz, self.seed = config, tz, seed
        self.machines: list[tuple[int, int, Machine]] = [
            (li, k, m) for li, line in enumerate(config.lines) for k, m in enumerate(line.oee_machines)
        ]
        self.codes = [_codes_for(m) for _li, _k, m in self.machines]
        self.keys = [_name_key(f"{m.line}/{m.name}") for _li, _k, m in self.machines]
        self.line_keys = [_name_key(line.name) for line in config.lines]
        self.epoch = config.calendar.first_day.toordinal()
        self.anchor = CYCLE_ANCHOR.toordinal()
        # What makes machines differ: stop rates, rated power, the counters' and meter's readings at the epoch.
        self.stop_rates, self.run_kw, self.counter_at_epoch, self.kwh_at_epoch = [], [], [], []
        for mi, (_li, _k, machine) in enumerate(self.machines):
            rng = _day_rng(seed, self.keys[mi], 0, _MACHINE)
            self.stop_rates.append((rng.uniform(3.0, 6.0), rng.uniform(0.3, 0.5), rng.uniform(0.1, 0.25)))
            self.run_kw.append(rng.uniform(8.0, 25.0))
            top = int(machine.counter_rollover) if machine.counter_rollover else 1_000_000
            self.counter_at_epoch.append({kind: int(rng.integers(0, top)) for kind in ("total", "good", "reject")})
            self.kwh_at_epoch.append(rng.uniform(1_000.0, 50_000.0))
        self._bounds: dict[int, tuple[int, int]] = {}
        self._sched: dict[int, list[tuple[int, int]]] = {}
        self._changeovers: dict[tuple[int, int], list[list[tuple[int, int]]]] = {}
        self._own: dict[tuple[int, int], tuple[list, list, list]] = {}
        self._final: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
        self._cycles: dict[tuple[str, int], tuple[int, int] | None] = {}
        self._totals: list[_DayTotals] = []
        self._resets: list[list[_Reset]] = []

    # ---- calendar

    def bounds(self, day: int) -> tuple[int, int]:
        """UTC ms of the production day's start and end."""
        if day not in self._bounds:
            clock = self.config.calendar.day_start
            date = dt.date.fromordinal(day)
            self._bounds[day] = (
                _local_ms(self.tz, date, clock),
                _local_ms(self.tz, date + dt.timedelta(days=1), clock),
            )
        return self._bounds[day]

    def scheduled(self, day: int) -> list[tuple[int, int]]:
        """The day's shift time minus breaks, clipped to the production day."""
        if day not in self._sched:
            a, b = self.bounds(day)
            self._sched[day] = _scheduled_intervals(self.config, self.tz, dt.date.fromordinal(day), 1, a, b)
        return self._sched[day]

    def scheduled_ms(self, day: int) -> int:
        return sum(e - s for s, e in self.scheduled(day))

    def _cycle_day(self, kind: str, cycle: int) -> tuple[int, int] | None:
        """(day, machine index) of the cycle's PLC restart ("reset") or long repair ("breakdown")."""
        if (kind, cycle) in self._cycles:
            return self._cycles[(kind, cycle)]
        begin = self.anchor + cycle * CYCLE_DAYS
        if kind == "reset":
            candidates = [mi for mi, (_li, _k, m) in enumerate(self.machines) if m.counter_tags]
            offset, needed, purpose = RESET_FROM_DAY, 1, _H_RESET_MACHINE
        else:
            line = len(self.config.lines) - 1 if len(self.config.lines) < 2 else 1
            candidates = [mi for mi, (li, _k, _m) in enumerate(self.machines) if li == line]
            offset, needed, purpose = BREAKDOWN_FROM_DAY, 8 * HOUR_MS, _H_BREAKDOWN_MACHINE
        found = None
        if candidates:
            day = next((d for d in range(begin + offset, begin + CYCLE_DAYS) if self.scheduled_ms(d) >= needed), None)
            if day is not None:
                pick = _hashed_uniform(self.seed, 0, purpose, np.array([cycle]))[0]
                found = (day, candidates[int(pick * len(candidates))])
        self._cycles[(kind, cycle)] = found
        return found

    def _cycle_of(self, day: int) -> int:
        return (day - self.anchor) // CYCLE_DAYS

    def _breakdown_machine(self, day: int) -> int | None:
        found = self._cycle_day("breakdown", self._cycle_of(day))
        return found[1] if found is not None and found[0] == day else None

    def _repair_ms(self, mi: int, day: int) -> tuple[np.random.Generator, int]:
        """The long repair's generator and length (drawn first, so the day totals need draw nothing else)."""
        rng = _day_rng(self.seed, self.keys[mi], day, _BREAKDOWN)
        return rng, int(rng.uniform(2.5, 4.0) * HOUR_MS)

    # ---- state timeline

    def _line_changeovers(self, li: int, day: int) -> list[list[tuple[int, int]]]:
        """Changeovers are a line decision: every machine of the line stops within a minute or so."""
        if (li, day) in self._changeovers:
            return self._changeovers[(li, day)]
        n_machines = len(self.config.lines[li].oee_machines)
        out: list[list[tuple[int, int]]] = [[] for _ in range(n_machines)]
        day_sched = self.scheduled(day)
        if sum(e - s for s, e in day_sched) >= 2 * HOUR_MS:
            rng = _day_rng(self.seed, self.line_keys[li], day, _CHANGEOVER)
            n = int(rng.choice([0, 1, 1, 1, 1, 1, 1, 1, 2]))
            taken: list[int] = []
            for _ in range(n):
                t = _random_instant(rng, day_sched)
                duration = int(rng.uniform(20, 45) * MINUTE_MS)
                # Two changeovers on one day are separate product switches, hours apart.
                if t is None or any(abs(t - other) < 3 * HOUR_MS for other in taken):
                    continue
                taken.append(t)
                for k in range(n_machines):
                    a = t + int(rng.uniform(0, 90) * SECOND_MS)
                    b = t + duration + int(rng.uniform(-60, 60) * SECOND_MS)
                    out[k].append((a, b))
        self._changeovers[(li, day)] = out
        return out

    def _own_day(self, mi: int, day: int) -> tuple[list, list, list]:
        """The machine's day from its own draws only: (segments over the day, carries into the next
        day as (start, end, code, codes it paints over), the day's own stops that may be dropped)."""
        if (mi, day) in self._own:
            return self._own[(mi, day)]
        li, k, _machine = self.machines[mi]
        c, key = self.codes[mi], self.keys[mi]
        d0, d1 = self.bounds(day)
        day_sched = self.scheduled(day)
        segs = [(d0, d1, c.not_scheduled)]
        for s, e in day_sched:
            segs = _paint(segs, s, e, c.running)
        carries: list[tuple[int, int, str, tuple[str, ...]]] = []
        # The next day's own stops were drawn without knowing of this day's, so what carries over
        # paints over them as well as over running.
        stops_next = (c.running, c.jam, c.starved)

        def plan(a: int, b: int, code: str, over: tuple[str, ...], over_next: tuple[str, ...]) -> None:
            nonlocal segs
            segs = _paint(segs, a, min(b, d1), code, over=over)
            if b > d1:
                carries.append((d1, b, code, over_next))

        for a, b in self._line_changeovers(li, day)[k]:
            plan(a, b, c.changeover, (c.running,), stops_next)
        rng = _day_rng(self.seed, key, day, _CLEANING)
        if day_sched and rng.random() < 0.3:
            t = _random_instant(rng, day_sched)
            plan(t, t + int(rng.uniform(15, 35) * MINUTE_MS), c.cleaning, (c.running,), stops_next)
        if self._breakdown_machine(day) == mi:
            rng, repair = self._repair_ms(mi, day)
            # Start in the first half of the scheduled day so that most of the repair is production time.
            first_half = _clip(day_sched, day_sched[0][0], day_sched[0][0] + 10 * HOUR_MS)
            t = _random_instant(rng, first_half)
            # A breakdown overrides a planned stop it runs into, but not the calendar (breaks, shift ends).
            over = (c.running, c.changeover, c.cleaning)
            plan(t, t + repair, c.breakdown, over, over + (c.jam, c.starved))
        segs, stops, stop_carries = self._random_stops(mi, day, segs)
        result = (segs, carries + stop_carries, stops)
        self._own[(mi, day)] = result
        return result

    def _random_stops(self, mi: int, day: int, segments: list[tuple[int, int, str]]) -> tuple[list, list, list]:
        """Break every running segment with randomly drawn unplanned stops (a Poisson process).

        Microstops are frequent and short, jams rarer and longer (both report the Jam code, as a PLC
        would), starvation occasional. Rates differ a little per machine so the lines do not look cloned.
        A stop on at the day's end carries into the next day (while the machine would run there).
        """
        codes, d1 = self.codes[mi], self.bounds(day)[1]
        rates = np.array(self.stop_rates[mi])
        share_micro, share_jam = (np.cumsum(rates / rates.sum())[:2]).tolist()
        draws = _stop_draws(_day_rng(self.seed, self.keys[mi], day, _STOPS), HOUR_MS / rates.sum())
        out, stops, carries = [], [], []
        for s, e, code in segments:
            if code != codes.running:
                out.append((s, e, code))
                continue
            t = s
            while t < e:
                gap, kind, u = next(draws)
                stop = t + int(gap)
                if stop >= e - SECOND_MS:
                    out.append((t, e, code))
                    break
                out.append((t, stop, code))
                if kind < share_micro:
                    duration, stop_code = 20 + 80 * u, codes.jam
                elif kind < share_jam:
                    duration, stop_code = 180 + 720 * u, codes.jam
                else:
                    duration, stop_code = 60 + 540 * u, codes.starved
                end = stop + int(duration * SECOND_MS)
                if end > e and e == d1:
                    carries.append((d1, end, stop_code, (codes.running,)))
                else:
                    stops.append((stop, min(end, e), stop_code))
                end = min(end, e)
                out.append((stop, end, stop_code))
                t = end
        return out, stops, carries

    def day(self, mi: int, day: int) -> list[tuple[int, int, str]]:
        """The machine's segments over the production day: its own layout, what the day before
        carries into it, and fewer short stops if the day's count would otherwise need performance
        above ``PERFORMANCE_MAX``."""
        if (mi, day) in self._final:
            return self._final[(mi, day)]
        segs, _carries, stops = self._own_day(mi, day)
        d0, d1 = self.bounds(day)
        for a, b, code, over in self._own_day(mi, day - 1)[1]:
            segs = _paint(segs, a, min(b, d1), code, over=over)
        machine, running = self.machines[mi][2], self.codes[mi].running
        totals = self.totals(mi)
        i = day - totals.first
        needed_ms = (totals.good[i] + totals.rejects[i]) * machine.ideal_cycle_time_s * SECOND_MS / PERFORMANCE_MAX

        def run_ms() -> int:
            return sum(e - s for s, e, c in segs if c == running)

        for a, b, code in reversed(stops):
            if run_ms() >= needed_ms:
                break
            segs = _paint(segs, a, b, running, over=code)
        if needed_ms > 0 and run_ms() == 0:
            raise ValueError(
                f"demo: {machine.line}/{machine.name} has counts but no run time on {dt.date.fromordinal(day)}"
            )
        merged = _merge(segs)
        self._final[(mi, day)] = merged
        return merged

    # ---- cheap daily totals

    def prepare(self, first: int, last: int) -> None:
        """Compute the daily totals of every machine for the days from the epoch (or ``first``, if
        earlier) to ``last``, and the PLC restarts since the epoch."""
        lo, hi = min(first - 1, self.epoch), max(last, self.epoch) + 1
        days = np.arange(lo, hi + 1)
        sched = np.array([self.scheduled_ms(d) for d in days.tolist()], dtype=np.float64)
        length = np.array([np.subtract(*self.bounds(d)[::-1]) for d in days.tolist()], dtype=np.float64)
        repairs = np.zeros((len(self.machines), len(days)))
        for cycle in range(self._cycle_of(lo), self._cycle_of(hi) + 1):
            found = self._cycle_day("breakdown", cycle)
            if found is not None and lo <= found[0] <= hi:
                repairs[found[1], found[0] - lo] = self._repair_ms(found[1], found[0])[1]
        planned = np.where(sched >= 2 * HOUR_MS, _PLANNED_PER_DAY_MS, np.where(sched > 0, 7.5 * MINUTE_MS, 0))
        epoch_i = self.epoch - lo
        self._totals = []
        for mi, (_li, _k, machine) in enumerate(self.machines):
            # The share of running time the random stops take, from their rates and mean lengths (s).
            rates = np.array(self.stop_rates[mi]) / 3600.0
            mean_stop_s = float((rates * np.array([60.0, 540.0, 330.0])).sum() / rates.sum())
            loss = mean_stop_s / (1.0 / rates.sum() + mean_stop_s)
            run_ms = np.clip(sched - repairs[mi] - planned, 0, None) * (1.0 - loss)
            performance = 0.87 + 0.06 * _hashed_uniform(self.seed, self.keys[mi], _H_PERFORMANCE, days)
            reject_share = 0.008 + 0.012 * _hashed_uniform(self.seed, self.keys[mi], _H_REJECTS, days)
            total = np.round(performance * run_ms / SECOND_MS / machine.ideal_cycle_time_s).astype(np.int64)
            rejects = np.round(total * reject_share).astype(np.int64)
            good = total - rejects
            kw = self.run_kw[mi]
            kwh = kw * (run_ms + 0.30 * (sched - run_ms) + 0.05 * (length - sched)) / HOUR_MS

            def before(x: np.ndarray) -> np.ndarray:
                cum = np.concatenate(([0], np.cumsum(x)))[:-1]
                return cum - cum[epoch_i]

            self._totals.append(_DayTotals(lo, good, rejects, kwh, before(good), before(rejects), before(kwh)))
        self._resets = [self._restarts(mi, last) for mi in range(len(self.machines))]

    def totals(self, mi: int) -> _DayTotals:
        return self._totals[mi]

    def _spread(self, mi: int, day: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Good and reject counts made on ``day`` up to each ``t`` (inside the day): the day's totals
        spread over its running time at a rate that wanders a little from hour to hour."""
        segs = self.day(mi, day)
        d0, d1 = self.bounds(day)
        occupancy = _Occupancy(*_category_intervals(segs, self.machines[mi][2], {"running"}))
        n_hours = math.ceil((d1 - d0) / HOUR_MS)
        rng = _day_rng(self.seed, self.keys[mi], day, _WEIGHTS)
        speed = _hourly_walk(rng, n_hours, 1.0, 0.01, 0.97, 1.03)
        reject_rate = _hourly_walk(rng, n_hours, 1.0, 0.25, 0.4, 1.6)
        totals = self.totals(mi)
        i = day - totals.first
        out = []
        for n, weight in ((totals.good[i], speed), (totals.rejects[i], reject_rate)):
            done = _integrate(np.append(t, d1), occupancy, d0, weight)
            share = done[:-1] / done[-1] if done[-1] > 0 else np.zeros(len(t))
            # share is exactly 1.0 once the day's running is over, so the day ends on its total.
            out.append(np.floor(n * share).astype(np.int64))
        return out[0], out[1]

    def production(self, mi: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Good and reject counts since the epoch at each ``t`` (sorted)."""
        t = np.asarray(t, dtype=np.int64)
        totals = self.totals(mi)
        good, rejects = np.zeros(len(t), dtype=np.int64), np.zeros(len(t), dtype=np.int64)
        day, lo = totals.first, 0
        while lo < len(t):
            while self.bounds(day)[1] <= t[lo]:
                day += 1
            hi = int(np.searchsorted(t, self.bounds(day)[1], side="left"))
            g, r = self._spread(mi, day, t[lo:hi])
            i = day - totals.first
            good[lo:hi] = totals.good_before[i] + g
            rejects[lo:hi] = totals.rejects_before[i] + r
            lo = hi
        return good, rejects

    # ---- counters

    def _restarts(self, mi: int, last: int) -> list[_Reset]:
        """The machine's PLC restarts from the epoch to ``last``, in order. Each is placed on a
        counter sample where every counter stands clear of 0 and of the rollover just before it (or
        a reader could not tell it from a wrap, nor see the drop), so each depends on the one before."""
        machine = self.machines[mi][2]
        if not machine.counter_tags:
            return []
        rollover = int(machine.counter_rollover) if machine.counter_rollover else None
        running_code = self.codes[mi].running
        out: list[_Reset] = []
        for cycle in range(self._cycle_of(self.epoch), self._cycle_of(last) + 1):
            found = self._cycle_day("reset", cycle)
            if found is None or found[1] != mi or not self.epoch <= found[0] <= last:
                continue
            day = found[0]
            running = [(s, e) for s, e, c in self.day(mi, day) if c == running_code]
            # Keep away from the segment ends so the restart is visibly "while running".
            inner = [(s + MINUTE_MS, e - MINUTE_MS) for s, e in running if e - s > 3 * MINUTE_MS]
            at = _random_instant(_day_rng(self.seed, self.keys[mi], day, _RESET), inner)
            if at is None:
                continue
            starts = np.array([s for s, _e in running], dtype=np.int64)
            ends = np.array([e for _s, e in running], dtype=np.int64)
            d0, d1 = self.bounds(day)
            grid = np.arange(-(-d0 // COUNTER_SAMPLE_MS) * COUNTER_SAMPLE_MS, d1, COUNTER_SAMPLE_MS, dtype=np.int64)
            i = np.clip(np.searchsorted(starts, grid, side="right") - 1, 0, None)
            grid = grid[(grid >= starts[i]) & (grid < ends[i] - _LAST_COUNT_BEFORE_STOP_MS) & (grid >= at)]
            restart_after_ms = 7_431  # the restart happens between two 30 s polls
            moment = grid + restart_after_ms
            j = np.clip(np.searchsorted(starts, moment, side="right") - 1, 0, None)
            ok = (moment >= starts[j]) & (moment < ends[j] - restart_after_ms)
            if rollover is not None:
                for values in self.counters(mi, grid, out).values():
                    wrapped = values % rollover
                    ok &= (wrapped >= 200) & (wrapped <= rollover - 3_000)
            fit = np.nonzero(ok)[0]
            if len(fit) == 0:
                continue
            r = int(moment[fit[0]])
            good, rejects = self.production(mi, np.array([r]))
            out.append(_Reset(r, int(good[0]), int(rejects[0])))
        return out

    def counters(self, mi: int, t: np.ndarray, resets: list[_Reset] | None = None) -> dict[str, np.ndarray]:
        """Unwrapped total/good/reject counter readings at each ``t`` (sorted): the production since
        the machine's last PLC restart, or since the epoch plus the readings there."""
        resets = self._resets[mi] if resets is None else resets
        good, rejects = self.production(mi, t)
        at_epoch = self.counter_at_epoch[mi]
        k = np.searchsorted(np.array([r.at for r in resets], dtype=np.int64), t, side="right") - 1
        since_good = np.array([r.good for r in resets] + [0], dtype=np.int64)[k]
        since_rejects = np.array([r.rejects for r in resets] + [0], dtype=np.int64)[k]
        restarted = k >= 0
        out = {
            "good": np.where(restarted, good - since_good, at_epoch["good"] + good),
            "reject": np.where(restarted, rejects - since_rejects, at_epoch["reject"] + rejects),
            "total": np.where(
                restarted, good - since_good + rejects - since_rejects, at_epoch["total"] + good + rejects
            ),
        }
        if any((v < 0).any() for v in out.values()):
            machine = self.machines[mi][2]
            raise ValueError(
                f"demo: {machine.line}/{machine.name}'s counters would be negative: the demo starts too long "
                "before calendar.first_day"
            )
        return out

    # ---- the simulated days

    def simulate(self, first: int, last: int) -> list[_MachineSim]:
        """Every machine's timeline and tag streams over the days ``first`` to ``last``."""
        self.prepare(first, last)
        t0, t_end = self.bounds(first)[0], self.bounds(last)[1]
        sims = []
        for mi, (_li, _k, machine) in enumerate(self.machines):
            segments = _merge([s for day in range(first, last + 1) for s in self.day(mi, day)])
            sim = _MachineSim(machine=machine, codes=self.codes[mi], segments=segments)
            sim.streams.append(_state_stream(sim, t0))
            sim.streams.extend(self._counter_streams(mi, sim, t0, t_end))
            if machine.energy_kwh_tag:
                sim.streams.append(self._energy_stream(mi, sim, first, last))
            sims.append(sim)
        for day in range(first, last + 1):
            self._add_quality_problems(sims, day)
        return sims

    def _counter_streams(self, mi: int, sim: _MachineSim, t0: int, t_end: int) -> list[_Stream]:
        """Cumulative total/good/reject counters, sampled every 30 s while running and stored on change.

        ``total = good + reject`` exactly since a restart, every counter only grows while the machine
        runs, wraps to 0 at ``counter_rollover``, and restarts from 0 at a PLC restart.
        """
        machine = sim.machine
        tags = machine.counter_tags
        if not tags:
            return []
        rollover = int(machine.counter_rollover) if machine.counter_rollover else None
        starts, ends = sim.intervals({"running"})
        grid_start = -(-t0 // COUNTER_SAMPLE_MS) * COUNTER_SAMPLE_MS
        grid = np.arange(grid_start, t_end, COUNTER_SAMPLE_MS, dtype=np.int64)
        if len(starts):
            i = np.searchsorted(starts, grid, side="right") - 1
            # Polls inside a run, up to the last-count sample that closes it (see below).
            inside = (i >= 0) & (grid < ends[np.clip(i, 0, None)] - _LAST_COUNT_BEFORE_STOP_MS)
            grid = grid[inside]
            # The last counts before a stop are stored just before the state changes, with the final
            # value of the run, not 30 s into the stop: counters visibly change only while running.
            last_eval = ends[ends - _LAST_COUNT_BEFORE_STOP_MS > starts]
        else:
            grid = grid[:0]
            last_eval = np.zeros(0, dtype=np.int64)
        times = np.concatenate(([t0], grid, last_eval - _LAST_COUNT_BEFORE_STOP_MS))
        evaluate_at = np.concatenate(([t0], grid, last_eval))
        order = np.argsort(evaluate_at, kind="stable")
        times, evaluate_at = times[order], evaluate_at[order]
        unwrapped = self.counters(mi, evaluate_at)
        streams = []
        for kind, tag in tags.items():
            values = unwrapped[kind] % rollover if rollover else unwrapped[kind]
            keep = np.concatenate(([True], values[1:] != values[:-1]))
            stream = _Stream(tag)
            stream.times = times[keep].tolist()
            stream.values = [str(v) for v in values[keep].tolist()]
            stream.quality = [GOOD] * len(stream.times)
            streams.append(stream)
        return streams

    # ---- energy

    def _energy_stream(self, mi: int, sim: _MachineSim, first: int, last: int) -> _Stream:
        """Cumulative kWh: power by state (running, ~30 % when stopped, ~5 % standby when not
        scheduled), drifting a little per hour and scaled so that each day adds its cheap total;
        stored every minute, always changing through standby."""
        machine = sim.machine
        totals = self.totals(mi)
        t0 = self.bounds(first)[0]
        times_parts, kwh_parts = [], []
        for day in range(first, last + 1):
            d0, d1 = self.bounds(day)
            grid = np.arange(-(-d0 // ENERGY_SAMPLE_MS) * ENERGY_SAMPLE_MS, d1, ENERGY_SAMPLE_MS, dtype=np.int64)
            times = np.unique(np.concatenate(([d0], grid))) if day == first else grid
            n_hours = math.ceil((d1 - d0) / HOUR_MS)
            drift = _hourly_walk(_day_rng(self.seed, self.keys[mi], day, _ENERGY), n_hours, 1.0, 0.02, 0.92, 1.08)
            segs = self.day(mi, day)
            at = np.append(times, d1)
            used = np.zeros(len(at))
            for categories, share in (
                ({"running"}, 1.0),
                ({"planned_stop", "unplanned_stop"}, 0.30),
                ({"not_scheduled"}, 0.05),
            ):
                occupancy = _Occupancy(*_category_intervals(segs, machine, categories))
                used += _integrate(at, occupancy, d0, share * drift)
            i = day - totals.first
            times_parts.append(times)
            kwh_parts.append(self.kwh_at_epoch[mi] + totals.kwh_before[i] + totals.kwh[i] * used[:-1] / used[-1])
        times = np.concatenate(times_parts)
        kwh = np.concatenate(kwh_parts)
        if (kwh < 0).any():
            raise ValueError(
                f"demo: {machine.line}/{machine.name}'s energy meter would be negative: the demo starts too long "
                "before calendar.first_day"
            )
        if machine.energy_rollover:
            kwh = np.mod(kwh, machine.energy_rollover)
        milli = np.round(kwh * 1000).astype(np.int64)
        keep = np.concatenate(([True], milli[1:] != milli[:-1]))
        stream = _Stream(machine.energy_kwh_tag)
        stream.times = times[keep].tolist()
        stream.values = [f"{v / 1000:.3f}" for v in milli[keep].tolist()]
        stream.quality = [GOOD] * len(stream.times)
        assert stream.times[0] == t0
        return stream

    # ---- quality

    def _add_quality_problems(self, sims: list[_MachineSim], day: int) -> None:
        """A few bad rows (value lost, then restored when communication returns) and doubtful rows.

        Only state and counter tags: those are the ones whose gaps hurt OEE and that a reader must
        handle. Each stays inside its production day, so the value in force when a day starts is
        never a bad or doubtful row of another day.
        """
        d0, d1 = self.bounds(day)
        rng = _day_rng(self.seed, 0, day, _QUALITY)
        n_bad = int(rng.integers(0, 2)) + int(rng.random() < 0.25)
        n_doubtful = int(rng.random() < 0.5)
        for _ in range(n_bad):
            sim = sims[int(rng.integers(0, len(sims)))]
            streams = [s for s in sim.streams if s.tag != sim.machine.energy_kwh_tag]
            stream = streams[int(rng.integers(0, len(streams)))]
            t_bad = _random_instant(rng, _clip(sim.running_intervals(), d0, d1))
            delay = int(rng.uniform(5, 180) * SECOND_MS)
            if t_bad is None or t_bad <= d0 or t_bad + delay >= d1:
                continue
            i = bisect.bisect_right(stream.times, t_bad)
            if i == 0 or stream.times[i - 1] == t_bad:
                continue
            t_back = t_bad + delay
            needs_restore = i >= len(stream.times) or stream.times[i] > t_back
            value = next(v for v in reversed(stream.values[:i]) if v is not None)
            stream.times.insert(i, t_bad)
            stream.values.insert(i, None)
            stream.quality.insert(i, BAD)
            if needs_restore:
                # Communication returns: the historian stores the value in force again.
                stream.times.insert(i + 1, t_back)
                stream.values.insert(i + 1, value)
                stream.quality.insert(i + 1, GOOD)
        for _ in range(n_doubtful):
            sim = sims[int(rng.integers(0, len(sims)))]
            streams = [s for s in sim.streams if s.tag != sim.machine.energy_kwh_tag]
            stream = streams[int(rng.integers(0, len(streams)))]
            # A row stored inside the day whose successor is too: it is in force only within the day.
            lo = bisect.bisect_right(stream.times, d0)
            hi = bisect.bisect_left(stream.times, d1)
            if hi - 1 - lo <= 0:
                continue
            i = lo + int(rng.integers(0, hi - 1 - lo))
            if stream.quality[i] == GOOD:
                stream.quality[i] = DOUBTFUL


def _stop_draws(rng: np.random.Generator, mean_gap_ms: float) -> Iterator[tuple[float, float, float]]:
    """(gap to the next stop in ms, which kind of stop, where in its length range), drawn in blocks."""
    while True:
        gaps = rng.exponential(mean_gap_ms, 256).tolist()
        kinds = rng.random(256).tolist()
        lengths = rng.random(256).tolist()
        yield from zip(gaps, kinds, lengths, strict=True)


def _state_stream(sim: _MachineSim, t0: int) -> _Stream:
    """The state tag stores a row at the period start and at every transition."""
    stream = _Stream(sim.machine.state_tag)
    previous = None
    for s, _e, code in sim.segments:
        if code != previous:
            stream.times.append(max(s, t0))
            stream.values.append(code)
            stream.quality.append(GOOD)
            previous = code
    return stream


# ---------------------------------------------------------------------------------------- writing


def _offset_ms(tz: ZoneInfo, t_ms: int) -> int:
    offset = dt.datetime.fromtimestamp(t_ms / SECOND_MS, tz).utcoffset()
    return int(offset.total_seconds() * SECOND_MS) if offset is not None else 0


def _local_text(t_ms: np.ndarray, tz: ZoneInfo) -> list[str]:
    """UTC ms to plant-local 'YYYY-MM-DD HH:MM:SS.mmm' (no offset, as the historian exports it).

    The offset is looked up once per quarter hour (zone changes happen on quarter hours in
    practice); a quarter hour whose two ends disagree is converted row by row.
    """
    t_ms = np.asarray(t_ms, dtype=np.int64)
    if len(t_ms) == 0:
        return []
    block_ms = 900_000
    blocks, inverse = np.unique(t_ms // block_ms, return_inverse=True)
    first = np.array([_offset_ms(tz, int(b) * block_ms) for b in blocks], dtype=np.int64)
    last = np.array([_offset_ms(tz, int(b) * block_ms + block_ms - 1) for b in blocks], dtype=np.int64)
    offsets = first[inverse]
    for k in np.nonzero((first != last)[inverse])[0]:
        offsets[k] = _offset_ms(tz, int(t_ms[k]))
    text = np.datetime_as_string((t_ms + offsets).astype("datetime64[ms]"), unit="ms")
    return [s.replace("T", " ") for s in text.tolist()]


def _tag_text(tag: str) -> str:
    # Tag names cannot hold quotes (validated), but a comma would need CSV quoting.
    return f'"{tag}"' if "," in tag else tag


def _line(when: str, tag: str, value: str | None, quality: int) -> str:
    v = "" if value is None else value
    return f"{when},{tag},{v},{v},{_QUALITY_TEXT[quality]},Delta"


def _write_files(folder: Path, tz: ZoneInfo, streams: list[_Stream], exports: list[tuple[str, int, int]]) -> list[Path]:
    """Each export: one initial row per tag at its start (delta retrieval), then the stored rows
    strictly after the start and before the end, in true chronological order, then by tag name."""
    tag_text = [_tag_text(s.tag) for s in streams]
    times = np.concatenate([np.asarray(s.times, dtype=np.int64) for s in streams])
    rank = np.concatenate([np.full(len(s.times), k, dtype=np.int64) for k, s in enumerate(streams)])
    values = [v for s in streams for v in s.values]
    quality = [q for s in streams for q in s.quality]
    order = np.lexsort((rank, times))
    sorted_times = times[order]
    local = _local_text(sorted_times, tz)
    lines = [
        _line(when, tag_text[r], values[i], quality[i])
        for when, r, i in zip(local, rank[order].tolist(), order.tolist(), strict=True)
    ]

    paths = []
    for name, a, b in exports:
        start_text = _local_text(np.array([a]), tz)[0]
        out = [HEADER]
        for k, stream in enumerate(streams):
            value, q = stream.value_at(a)
            out.append(_line(start_text, tag_text[k], value, q))
        lo = int(np.searchsorted(sorted_times, a, side="right"))
        hi = int(np.searchsorted(sorted_times, b, side="left"))
        out.extend(lines[lo:hi])
        path = folder / name
        path.write_bytes(("\n".join(out) + "\n").encode("utf-8"))
        paths.append(path)
    return paths


_POINT_QUALITY = {GOOD: "good", DOUBTFUL: "uncertain", BAD: "bad"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _stream_points(stream: _Stream, a: int, b: int) -> list[Point]:
    """The rows of one export of a tag as points: the value in force at ``a``, then the rows in (a, b)."""
    value, q = stream.value_at(a)
    rows = [(a, value, q)]
    lo = bisect.bisect_right(stream.times, a)
    hi = bisect.bisect_left(stream.times, b)
    rows += zip(stream.times[lo:hi], stream.values[lo:hi], stream.quality[lo:hi], strict=True)
    return [
        Point(
            stream.tag,
            _EPOCH + dt.timedelta(milliseconds=t),
            None if v is None else float(v),
            quality=_POINT_QUALITY[q],
        )
        for t, v, q in rows
    ]


def _write_format_files(
    folder: Path, source: Source, streams: list[_Stream], exports: list[tuple[str, int, int]]
) -> list[Path]:
    """The same exports as ``_write_files`` in another format, as its system would write them."""
    extension = FORMATS[source.format].extension
    paths = []
    for name, a, b in exports:
        points = [p for stream in streams for p in _stream_points(stream, a, b)]
        path = folder / (Path(name).stem + extension)
        paths.append(write_points(path, source.format, points, source.timezone, source.options, lossy=True))
    return paths
