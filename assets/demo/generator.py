"""A deterministic demo bottling plant that writes AVEVA/Wonderware Historian CSV exports.

The demo exists so that the whole pipeline (landing CSVs -> Delta tables -> OEE marts) can run
without a real plant. The files must therefore look like what a historian really exports, warts
included: store-on-change rows, counters that wrap and get reset, bad- and doubtful-quality rows,
plant-local timestamps without offset (so the autumn DST hour repeats), and one overlapping re-export.

Everything about the plant (machines, tags, state codes, cycle times, shifts, breaks, working days)
comes from the validated ``PlantConfig``; all randomness comes from one
``numpy.random.default_rng(seed)``, so the same ``(start, days, seed)`` gives byte-identical files.

Internally every instant is an integer of UTC milliseconds since the epoch; timestamps become
local wall-clock text only when the rows are written.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from assets.core.plant import Machine, PlantConfig, Source
from assets.demo.formats import FORMATS, Point, source_options_for, write_points

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
    segments: list[tuple[int, int, str]]  # contiguous (start, end, code) covering the period
    streams: list[_Stream] = field(default_factory=list)

    def intervals(self, categories: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end arrays of the segments whose state code falls in one of ``categories``."""
        states = self.machine.states
        chosen = [(s, e) for s, e, c in self.segments if states[c].category in categories]
        if not chosen:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        arr = np.array(chosen, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    def running_intervals(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e, c in self.segments if c == self.codes.running]


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

    ``fmt`` writes the same plant in another export format (see ``demo_source``): the files take that
    format's extension and go to the folder of the config's source of that format, else to
    landing_root/<fmt>/. What the format cannot carry is written as that system exports it (see
    ``formats.py``). The default, and ``aveva_historian_csv``, write the AVEVA files as before.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    source = _historian_source(config) if fmt is None else demo_source(config, fmt, options)
    tz = ZoneInfo(source.timezone)
    rng = np.random.default_rng(seed)

    day_bounds = [_local_ms(tz, start + dt.timedelta(days=i), config.calendar.day_start) for i in range(days + 1)]
    t0, t_end = day_bounds[0], day_bounds[-1]
    scheduled = _scheduled_intervals(config, tz, start, days, t0, t_end)

    sims = _simulate_states(rng, config, scheduled, day_bounds)
    reset = _choose_reset(rng, sims, day_bounds)
    for sim in sims:
        sim.streams.append(_state_stream(sim, t0))
        sim.streams.extend(_counter_streams(rng, sim, t0, t_end, reset))
        energy = _energy_stream(rng, sim, t0, t_end)
        if energy is not None:
            sim.streams.append(energy)
    _add_quality_problems(rng, sims, days)

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


def _simulate_states(
    rng: np.random.Generator, config: PlantConfig, scheduled: list[tuple[int, int]], day_bounds: list[int]
) -> list[_MachineSim]:
    """Lay out each machine's state timeline: calendar, then planned events, then random stops."""
    t0, t_end = day_bounds[0], day_bounds[-1]
    days = len(day_bounds) - 1
    sims: list[_MachineSim] = []
    for line in config.lines:
        codes = [_codes_for(m) for m in line.machines]
        base: list[list[tuple[int, int, str]]] = []
        for c in codes:
            segs = [(t0, t_end, c.not_scheduled)]
            for s, e in scheduled:
                segs = _paint(segs, s, e, c.running)
            base.append(segs)

        # Changeovers are a line decision: every machine of the line stops within a minute or so.
        for i in range(days):
            day_sched = _clip(scheduled, day_bounds[i], day_bounds[i + 1])
            if sum(e - s for s, e in day_sched) < 2 * HOUR_MS:
                continue
            n = int(rng.choice([0, 1, 1, 1, 1, 1, 1, 1, 2]))
            taken: list[int] = []
            for _ in range(n):
                t = _random_instant(rng, day_sched)
                duration = int(rng.uniform(20, 45) * MINUTE_MS)
                # Two changeovers on one day are separate product switches, hours apart.
                if any(abs(t - other) < 3 * HOUR_MS for other in taken):
                    continue
                taken.append(t)
                for k, c in enumerate(codes):
                    a = t + int(rng.uniform(0, 90) * SECOND_MS)
                    b = t + duration + int(rng.uniform(-60, 60) * SECOND_MS)
                    base[k] = _paint(base[k], a, b, c.changeover, over=c.running)

        for k, (machine, c) in enumerate(zip(line.machines, codes, strict=True)):
            segs = base[k]
            for i in range(days):
                day_sched = _clip(scheduled, day_bounds[i], day_bounds[i + 1])
                if day_sched and rng.random() < 0.3:
                    t = _random_instant(rng, day_sched)
                    segs = _paint(segs, t, t + int(rng.uniform(15, 35) * MINUTE_MS), c.cleaning, over=c.running)
            sims.append(_MachineSim(machine=machine, codes=c, segments=segs))

    _add_breakdown(rng, config, sims, scheduled, day_bounds)

    for sim in sims:
        sim.segments = _merge(_random_stops(rng, sim.segments, sim.codes))
    return sims


def _add_breakdown(
    rng: np.random.Generator,
    config: PlantConfig,
    sims: list[_MachineSim],
    scheduled: list[tuple[int, int]],
    day_bounds: list[int],
) -> None:
    """One long breakdown on a machine of the second line, on the first working day from the 5th on."""
    days = len(day_bounds) - 1
    if days < 5:
        return
    line = config.lines[1] if len(config.lines) > 1 else config.lines[-1]
    candidates = [sim for sim in sims if sim.machine.line == line.name]
    sim = candidates[int(rng.integers(0, len(candidates)))]
    for i in range(4, days):
        day_sched = _clip(scheduled, day_bounds[i], day_bounds[i + 1])
        if sum(e - s for s, e in day_sched) < 8 * HOUR_MS:
            continue
        # Start in the first half of the scheduled day so that most of the repair is production time.
        first_half = _clip(day_sched, day_sched[0][0], day_sched[0][0] + 10 * HOUR_MS)
        t = _random_instant(rng, first_half)
        repair = int(rng.uniform(2.5, 4.0) * HOUR_MS)
        # A breakdown overrides a planned stop it runs into, but not the calendar (breaks, shift ends).
        c = sim.codes
        sim.segments = _paint(sim.segments, t, t + repair, c.breakdown, over=(c.running, c.changeover, c.cleaning))
        return


def _random_stops(
    rng: np.random.Generator, segments: list[tuple[int, int, str]], codes: _Codes
) -> list[tuple[int, int, str]]:
    """Break every running segment with randomly drawn unplanned stops (a Poisson process).

    Microstops are frequent and short, jams rarer and longer (both report the Jam code, as a PLC
    would), starvation occasional. Rates differ a little per machine so the lines do not look cloned.
    """
    rates = np.array([rng.uniform(3.0, 6.0), rng.uniform(0.3, 0.5), rng.uniform(0.1, 0.25)])  # per hour
    shares = np.cumsum(rates / rates.sum())
    mean_gap_ms = HOUR_MS / rates.sum()
    out = []
    for s, e, code in segments:
        if code != codes.running:
            out.append((s, e, code))
            continue
        t = s
        while t < e:
            stop = t + int(rng.exponential(mean_gap_ms))
            if stop >= e - SECOND_MS:
                out.append((t, e, code))
                break
            out.append((t, stop, code))
            kind = int(np.searchsorted(shares, rng.random()))
            if kind == 0:
                duration, stop_code = rng.uniform(20, 100), codes.jam
            elif kind == 1:
                duration, stop_code = rng.uniform(180, 900), codes.jam
            else:
                duration, stop_code = rng.uniform(60, 600), codes.starved
            end = min(stop + int(duration * SECOND_MS), e)
            out.append((stop, end, stop_code))
            t = end
    return out


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


# --------------------------------------------------------------------------------------- counters


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


@dataclass(frozen=True)
class _Reset:
    """The one PLC restart in the period: the counters of one machine restart from 0 at ``at``."""

    machine: Machine
    at: int


def _counter_rates(rng: np.random.Generator, machine: Machine, n_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Hourly good and reject rates (items per running second)."""
    speed = _hourly_walk(rng, n_hours, rng.uniform(0.89, 0.95), 0.015, 0.85, 0.98)
    reject_share = _hourly_walk(rng, n_hours, rng.uniform(0.008, 0.02), 0.004, 0.005, 0.03)
    ideal_rate = speed / machine.ideal_cycle_time_s
    return ideal_rate * (1.0 - reject_share), ideal_rate * reject_share


def _choose_reset(rng: np.random.Generator, sims: list[_MachineSim], day_bounds: list[int]) -> _Reset | None:
    """Pick the machine and running moment of the PLC restart on the 2nd production day (or the next
    day that runs). The counters are evaluated later; the moment is re-checked there."""
    days = len(day_bounds) - 1
    if days < 2:
        return None
    eligible = [sim for sim in sims if len(sim.machine.counter_tags) >= 1]
    if not eligible:
        return None
    sim = eligible[int(rng.integers(0, len(eligible)))]
    for i in range(1, days):
        running = _clip(sim.running_intervals(), day_bounds[i], day_bounds[i + 1])
        # Keep away from the segment ends so the restart is visibly "while running".
        running = [(s + MINUTE_MS, e - MINUTE_MS) for s, e in running if e - s > 3 * MINUTE_MS]
        if running:
            return _Reset(machine=sim.machine, at=_random_instant(rng, running))  # refined in _counter_streams
    return None


def _counter_streams(
    rng: np.random.Generator, sim: _MachineSim, t0: int, t_end: int, reset: _Reset | None
) -> list[_Stream]:
    """Cumulative total/good/reject counters, sampled every 30 s while running and stored on change.

    ``total = good + reject`` exactly, every counter only grows while the machine runs, wraps to 0
    at ``counter_rollover``, and the reset machine's counters restart from 0 at the reset moment.
    """
    machine = sim.machine
    tags = machine.counter_tags
    rollover = int(machine.counter_rollover) if machine.counter_rollover else None
    n_hours = math.ceil((t_end - t0) / HOUR_MS) + 1
    good_rate, reject_rate = _counter_rates(rng, machine, n_hours)
    bases = {kind: int(rng.integers(0, rollover if rollover else 1_000_000)) for kind in ("total", "good", "reject")}
    frac = rng.random(2)
    if not tags:
        return []

    starts, ends = sim.intervals({"running"})
    occupancy = _Occupancy(starts, ends)
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
    order = np.argsort(times, kind="stable")
    times, evaluate_at = times[order], evaluate_at[order]

    def raw(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        good = np.floor(frac[0] + _integrate(t, occupancy, t0, good_rate)).astype(np.int64)
        rejects = np.floor(frac[1] + _integrate(t, occupancy, t0, reject_rate)).astype(np.int64)
        return good, rejects

    good, rejects = raw(evaluate_at)
    unwrapped = {"good": bases["good"] + good, "reject": bases["reject"] + rejects}
    unwrapped["total"] = bases["total"] + good + rejects
    if reset is not None and reset.machine is machine:
        at = _refine_reset(reset.at, unwrapped, times, rollover, starts, ends)
        g0, r0 = (x[0] for x in raw(np.array([at])))
        after = evaluate_at >= at
        unwrapped["good"] = np.where(after, good - g0, unwrapped["good"])
        unwrapped["reject"] = np.where(after, rejects - r0, unwrapped["reject"])
        unwrapped["total"] = np.where(after, good - g0 + rejects - r0, unwrapped["total"])

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


def _refine_reset(
    at: int,
    unwrapped: dict[str, np.ndarray],
    times: np.ndarray,
    rollover: int | None,
    starts: np.ndarray,
    ends: np.ndarray,
) -> int:
    """Move the reset to the first fitting sample at or after ``at``: every counter must stand clear
    of 0 and of the rollover just before it (or a reader could not tell the reset from a wrap, nor
    see the drop), and the machine must still be running a few seconds later."""
    restart_after_ms = 7_431  # the restart happens between two 30 s polls
    ok = times % COUNTER_SAMPLE_MS == 0  # grid samples lie inside running intervals
    if rollover is not None:
        for values in unwrapped.values():
            wrapped = values % rollover
            ok &= (wrapped >= 200) & (wrapped <= rollover - 3_000)
    moment = times + restart_after_ms
    i = np.clip(np.searchsorted(starts, moment, side="right") - 1, 0, None)
    ok &= (moment >= starts[i]) & (moment < ends[i] - restart_after_ms)
    later = np.nonzero(ok & (times >= at))[0]
    if len(later) == 0:
        return at
    return int(moment[later[0]])


# ----------------------------------------------------------------------------------------- energy


def _energy_stream(rng: np.random.Generator, sim: _MachineSim, t0: int, t_end: int) -> _Stream | None:
    """Cumulative kWh: power by state (running, ~30 % when stopped, ~5 % standby when not
    scheduled), drifting a little per hour; stored every minute, always changing through standby."""
    machine = sim.machine
    n_hours = math.ceil((t_end - t0) / HOUR_MS) + 1
    run_kw = rng.uniform(8.0, 25.0)
    drift = _hourly_walk(rng, n_hours, 1.0, 0.02, 0.92, 1.08)
    start_kwh = rng.uniform(1_000.0, 50_000.0)
    if not machine.energy_kwh_tag:
        return None

    grid_start = -(-t0 // ENERGY_SAMPLE_MS) * ENERGY_SAMPLE_MS
    times = np.unique(np.concatenate(([t0], np.arange(grid_start, t_end, ENERGY_SAMPLE_MS, dtype=np.int64))))
    kwh = np.full(len(times), start_kwh)
    for categories, share in (
        ({"running"}, 1.0),
        ({"planned_stop", "unplanned_stop"}, 0.30),
        ({"not_scheduled"}, 0.05),
    ):
        occupancy = _Occupancy(*sim.intervals(categories))
        kwh += _integrate(times, occupancy, t0, run_kw * share * drift / 3600.0)
    if machine.energy_rollover:
        kwh = np.mod(kwh, machine.energy_rollover)
    milli = np.round(kwh * 1000).astype(np.int64)
    keep = np.concatenate(([True], milli[1:] != milli[:-1]))
    stream = _Stream(machine.energy_kwh_tag)
    stream.times = times[keep].tolist()
    stream.values = [f"{v / 1000:.3f}" for v in milli[keep].tolist()]
    stream.quality = [GOOD] * len(stream.times)
    return stream


# ---------------------------------------------------------------------------------------- quality


def _add_quality_problems(rng: np.random.Generator, sims: list[_MachineSim], days: int) -> None:
    """A few bad rows (value lost, then restored when communication returns) and doubtful rows.

    Only state and counter tags: those are the ones whose gaps hurt OEE and that a reader must handle.
    """
    n_bad = max(1, round(days * rng.uniform(0.5, 1.0)))
    n_doubtful = max(1, round(days * rng.uniform(0.3, 0.7)))
    for _ in range(n_bad):
        sim = sims[int(rng.integers(0, len(sims)))]
        streams = [s for s in sim.streams if s.tag != sim.machine.energy_kwh_tag]
        stream = streams[int(rng.integers(0, len(streams)))]
        t_bad = _random_instant(rng, sim.running_intervals())
        delay = int(rng.uniform(5, 180) * SECOND_MS)
        if t_bad is None or t_bad in stream.times or t_bad <= stream.times[0]:
            continue
        t_back = t_bad + delay
        i = bisect.bisect_right(stream.times, t_bad)
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
        streams = [s for s in sim.streams if s.tag != sim.machine.energy_kwh_tag and len(s.times) > 1]
        if not streams:
            continue
        stream = streams[int(rng.integers(0, len(streams)))]
        i = int(rng.integers(1, len(stream.times)))
        if stream.quality[i] == GOOD:
            stream.quality[i] = DOUBTFUL


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
