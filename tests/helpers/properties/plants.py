"""Random plants for the property tests: a calendar, machines with state timelines, counters and energy
tags, their points as AVEVA export rows, and the ways those rows arrive (split, repeated, overlapping,
shuffled, with bad rows).

Structure (calendar, machines, which events may happen) is drawn by hypothesis so that a failure
shrinks to a small plant; the bulk values of a timeline come from a seeded `random.Random` drawn per
machine, so an example stays cheap to generate. Every instant is a whole second in UTC (the export is
written in UTC, its source's time zone), while the calendar lives in Europe/Berlin, DST days included.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import yaml
from hypothesis import strategies as st

from .oracle import (
    DAY,
    UNMAPPED_CODE,
    CounterReading,
    StatePoint,
    intersect,
    length,
    union,
    utc_text,
)
from .oracle import CalendarSpec as CalendarSpec

TZ_NAME = "Europe/Berlin"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# the days before, on and after the 2026 DST changes in Europe/Berlin (29 March, 25 October)
DST_DAYS = [dt.date(2026, 3, d) for d in (27, 28, 29)] + [dt.date(2026, 10, d) for d in (24, 25)]
BACKSTEP_TOLERANCE = 10  # counter_backstep_tolerance's default (issue #13 section 6)


@dataclass
class MachineCase:
    line: str
    name: str
    ideal_cycle_time_s: float
    rollover: int | None
    microstop_threshold_s: float | None  # None: the default (120 s)
    states: list[StatePoint]
    counters: list[CounterReading]
    energy_kind: str | None  # power | meter | None
    energy: list[tuple[int, float]] = field(default_factory=list)
    energy_interval_s: int = 0
    energy_rollover: float | None = None

    @property
    def tag(self) -> str:
        return f"{self.line}.{self.name}"

    @property
    def threshold_s(self) -> float:
        return 120.0 if self.microstop_threshold_s is None else self.microstop_threshold_s

    def config(self) -> dict:
        node = {
            "name": self.name,
            "ideal_cycle_time_s": self.ideal_cycle_time_s,
            "state_tag": f"{self.tag}.State",
            "states": {
                1: "running",
                2: {"category": "planned_stop", "reason": "Changeover"},
                3: {"category": "unplanned_stop", "reason": "Jam"},
                4: {"category": "not_scheduled", "reason": "No orders"},
            },
            "total_count_tag": f"{self.tag}.Total",
            "reject_count_tag": f"{self.tag}.Reject",
        }
        if self.rollover:
            node["counter_rollover"] = self.rollover
        if self.microstop_threshold_s is not None:
            node["microstop_threshold_s"] = self.microstop_threshold_s
        if self.energy_kind == "power":
            node["power_kw_tag"] = f"{self.tag}.kW"
        elif self.energy_kind == "meter":
            node["energy_kwh_tag"] = f"{self.tag}.kWh"
            if self.energy_rollover:
                node["energy_rollover"] = self.energy_rollover
        return node

    def rows(self) -> list[tuple[int, str, object, int]]:
        """(ts, tag, value, AVEVA quality) of every point of the machine."""
        out = [(p.ts, f"{self.tag}.State", p.code, 0 if p.code is not None else 1) for p in self.states]
        for r in self.counters:
            bad = r.event == "bad"
            out.append((r.ts, f"{self.tag}.Total", None if bad else r.total, 1 if bad else 0))
            out.append((r.ts, f"{self.tag}.Reject", None if bad else r.reject, 1 if bad else 0))
        suffix = {"power": "kW", "meter": "kWh"}.get(self.energy_kind)
        out.extend((ts, f"{self.tag}.{suffix}", value, 0) for ts, value in self.energy)
        return out


@dataclass(repr=False)
class PlantCase:
    calendar: CalendarSpec
    days: list[dt.date]
    machines: list[MachineCase]
    span: tuple[int, int]

    def __repr__(self) -> str:
        points = sum(len(m.rows()) for m in self.machines)
        return f"PlantCase({len(self.machines)} machines, days {[str(d) for d in self.days]}, {points} points)"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis' falsifying example: short; note() has it all
        printer.text(repr(self))

    def config(self) -> dict:
        cal = self.calendar
        clock = lambda m: f"{m // 60 % 24:02d}:{m % 60:02d}"  # noqa: E731
        lines: dict[str, list[dict]] = {}
        for m in self.machines:
            lines.setdefault(m.line, []).append(m.config())
        return {
            "plant": {"site": "Site", "timezone": cal.tz_name},
            "calendar": {
                "day_start": clock(cal.day_start),
                "working_days": [WEEKDAYS[d] for d in sorted(cal.working_days)],
                "first_day": "2026-01-01",
                "shifts": [{"name": n, "start": clock(s), "end": clock(e)} for n, s, e in cal.shifts],
                "breaks": [{"name": n, "start": clock(s), "end": clock(e)} for n, s, e in cal.breaks],
            },
            "sources": [
                {"name": "historian", "format": "aveva_historian_csv", "folder": "historian", "timezone": "UTC"}
            ],
            "lines": [{"name": line, "area": "Area", "machines": ms} for line, ms in lines.items()],
        }

    def rows(self) -> list[str]:
        """Every point as one AVEVA export row (UTC wall clock), in time order."""
        points = sorted((p for m in self.machines for p in m.rows()), key=lambda p: (p[0], p[1]))
        return [aveva_line(utc_text(ts), tag, value, quality) for ts, tag, value, quality in points]

    def describe(self) -> str:
        """The plant in a form to read in a failure report: the YAML and each machine's timeline."""
        out = [yaml.safe_dump(self.config(), sort_keys=False), f"days: {[d.isoformat() for d in self.days]}"]
        for m in self.machines:
            out.append(f"{m.tag} states: " + ", ".join(f"{utc_text(p.ts)}={p.code}" for p in m.states))
            out.append(
                f"{m.tag} counters: "
                + ", ".join(f"{utc_text(r.ts)}={r.total}/{r.reject}({r.event})" for r in m.counters)
            )
            if m.energy_kind:
                shown = ", ".join(f"{utc_text(t)}={v}" for t, v in m.energy[:3])
                out.append(f"{m.tag} {m.energy_kind} every {m.energy_interval_s} s: {shown}, ... ({len(m.energy)})")
        return "\n".join(out)


def aveva_line(local: str, tag: str, value, quality: int = 0) -> str:
    """One AVEVA History export row (as tests/helpers/exports.py's aveva_row writes it)."""
    opc = {0: 192, 1: 0}[quality]
    text = "" if value is None else str(value)
    return f"{local}.000,{tag},{text},{text},{quality},{192 if quality == 0 else 0},{opc},Delta\n"


# --- the calendar --------------------------------------------------------------------------------------


@st.composite
def calendars(draw, full_day_shift: bool = False) -> CalendarSpec:
    """Shifts that do not overlap on the 24 h clock (some across midnight, some touching), breaks that
    may lie partly outside shifts or cross midnight, any day start (a DST gap's too)."""
    slots = 48  # half hours
    if full_day_shift:
        start = draw(st.integers(0, slots - 1)) * 30
        shifts = (("all_day", start, start),)
    else:
        n = draw(st.integers(1, 3))
        cuts = sorted(draw(st.lists(st.integers(0, slots - 1), min_size=n, max_size=n, unique=True)))
        shifts = []
        for i, cut in enumerate(cuts):
            arc = (cuts[(i + 1) % n] - cut) % slots or slots
            shorten = draw(st.integers(1 if arc == slots else 0, arc - 1))
            shifts.append((f"s{i}", cut * 30, (cut + arc - shorten) % slots * 30))
        shifts = tuple(shifts)
    breaks = tuple(
        (f"b{i}", start * 15, (start + span) % 96 * 15)
        for i, (start, span) in enumerate(draw(st.lists(st.tuples(st.integers(0, 95), st.integers(1, 4)), max_size=3)))
    )
    return CalendarSpec(
        tz_name=TZ_NAME,
        day_start=draw(st.sampled_from([0, 360]) | st.integers(0, 47).map(lambda s: s * 30)),
        working_days=frozenset(draw(st.sets(st.integers(0, 6), min_size=1)) | {0, 1, 2}),
        shifts=shifts,
        breaks=breaks,
    )


# --- machines ----------------------------------------------------------------------------------------


def _state_timeline(rng: random.Random, span: tuple[int, int], first_day_start: int, stopped: bool) -> list:
    lo, hi = span
    if stopped:  # jammed through the whole span: a machine that never ran
        return [StatePoint(lo, 3)]
    t = lo + rng.randrange(0, 1800, 30)
    if rng.random() < 0.2:  # no state before the first day began: unknown until the first point
        t = first_day_start + rng.randrange(0, 3 * 3600, 30)
    points, code = [], None
    while t < hi:
        if not (points and rng.random() < 0.1):  # sometimes the same state is written again
            code = rng.choices([1, 2, 3, 4, UNMAPPED_CODE, None], weights=[50, 8, 14, 8, 2, 2])[0]
        points.append(StatePoint(t, code))
        t += rng.randrange(30, 120, 30) if rng.random() < 0.2 else rng.randrange(300, 4 * 3600, 30)
    return points


def _counter_bounds(cal: CalendarSpec, days: list[dt.date], running: list, ict: float):
    """For a reading closing (t0, t1]: at most 0.9 x the running seconds of (t0, t1] inside the shift
    occurrence and production day the reading counts in, over the ideal cycle time. So no day and no
    shift is asked to show a performance above 0.9, whichever window a reading counts in."""
    occurrences = cal.shift_occurrences(days[0] - 3 * DAY, days[-1] + 2 * DAY)
    planned = union(iv for d in [days[0] - DAY, *days, days[-1] + DAY] for iv in cal.sets(d).planned)

    def bound(t0: int, t1: int) -> int:
        x = t1 - 0.5
        day = cal.day_window(cal.day_of(x))
        occ = [(s, e) for _, s, e in occurrences if s <= x < e]
        if not occ:
            return int(0.9 * (t1 - t0) / ict)
        seconds = length(intersect(intersect(running, [(t0, t1)]), intersect(occ, intersect([day], planned))))
        return int(0.9 * seconds / ict)

    return bound


def _counter_readings(
    rng: random.Random, span, bound, ict: float, rollover: int | None, jitter: bool, resets: bool
) -> list[CounterReading]:
    lo, hi = span
    modulo = rollover or 10**12
    total = rng.randrange(0, rollover or 10**6)
    reject = rng.randrange(0, rollover or 10**5)
    t = lo + rng.randrange(0, 1800)
    readings = [CounterReading(t, total, reject, event="first")]
    high = total  # what the counter showed before any jitter
    while True:
        dt_s = rng.randrange(60, 1800) if rng.random() < 0.95 else rng.randrange(3600, 5 * 3600)
        if t + dt_s >= hi:
            break
        if rng.random() < 0.03 and dt_s > 2:  # a bad-quality reading between two good ones
            readings.append(CounterReading(t + rng.randrange(1, dt_s), None, None, event="bad"))
        t0, t = t, t + dt_s
        p_max = bound(t0, t)
        # fewer than half the rollover: a wrap is then told apart from a double wrap and from a reset
        pieces = min(int(p_max * rng.uniform(0.5, 1.0)), modulo // 2 - 1)
        rejects = int(pieces * rng.uniform(0, 0.1))
        last = readings[-1] if readings[-1].event != "bad" else readings[-2]
        roll = modulo if rollover else None
        if jitter and rng.random() < 0.1 and high >= BACKSTEP_TOLERANCE and high + modulo // 2 < modulo:
            # the counter stalls and its reading steps back by at most the tolerance: counts nothing
            readings.append(CounterReading(t, high - rng.randint(1, BACKSTEP_TOLERANCE - 1), reject, 0, 0, "jitter"))
            continue
        if resets and rng.random() < 0.05 and last.event != "jitter":
            ok = all(
                before - value > BACKSTEP_TOLERANCE + 1 and (roll is None or value + roll - before > 2 * dt_s / ict + 1)
                for before, value in ((total, pieces), (reject, rejects))
            )
            if ok:  # a PLC reset: both counters restart from zero and show the pieces since
                total, reject, high = pieces, rejects, pieces
                readings.append(CounterReading(t, total, reject, pieces, rejects, "reset"))
                continue
        wrapped = total + pieces >= modulo or reject + rejects >= modulo
        total, reject = (total + pieces) % modulo, (reject + rejects) % modulo
        high = total
        readings.append(CounterReading(t, total, reject, pieces, rejects, "wrap" if wrapped else "count"))
    return readings


def _power(rng: random.Random, span, interval: int, gaps: bool) -> list[tuple[int, float]]:
    """Readings every `interval` s from before the span to after it; now and then one reading is
    missing (a gap of two intervals). Without `gaps`, the clock jitters by a few seconds; with `gaps`,
    it keeps time exactly (so that the typical interval is `interval` to the second) and the logger is
    off for hours now and then."""
    jitter_s = 0 if gaps else 5
    lo, hi = span
    slots = list(range(lo - interval, hi + 2 * interval, interval))
    out, k = [], 0
    while k < len(slots):
        inner = 0 < k < len(slots) - 1
        if inner and gaps and rng.random() < 0.03:
            k += rng.randrange(4, 30)  # the logger was off for hours
            continue
        if inner and rng.random() < 0.1 and out and out[-1][0] >= slots[k - 1] - 5:
            k += 1  # one reading missing, never two in a row
            continue
        out.append((slots[k] + rng.randint(-jitter_s, jitter_s), round(rng.uniform(0, 400), 1)))
        k += 1
    if out[-1][0] < hi:
        out.append((slots[-1], round(rng.uniform(0, 400), 1)))
    return out


def _meter(rng: random.Random, power: list[tuple[int, float]], rollover: float | None) -> list[tuple[int, float]]:
    value = rng.uniform(0, rollover or 1e6)
    out = [(power[0][0], round(value, 3))]
    for (t0, kw), (t1, _) in zip(power, power[1:], strict=False):
        value += kw * (t1 - t0) / 3600
        if rollover and value >= rollover:
            value -= rollover
        out.append((t1, round(value, 3)))
    return out


@st.composite
def plants(
    draw,
    *,
    jitter: bool = False,
    power_gaps: bool = False,
    full_day_shift: bool = False,
    stopped_machine: bool = False,
    mixed_cycle_times: bool = False,
) -> PlantCase:
    """A plant of 1-3 machines on 1-2 lines over 1-2 production days, with the points of a span from
    before the first day to after the last."""
    cal = draw(calendars(full_day_shift=full_day_shift))
    first = draw(st.sampled_from(DST_DAYS) | st.dates(dt.date(2026, 1, 5), dt.date(2026, 11, 20)))
    days = [first + k * DAY for k in range(draw(st.integers(1, 2)))]
    start, end = cal.day_window(days[0])[0], cal.day_window(days[-1])[1]
    span = (start - draw(st.integers(0, 12)) * 1800 - 600, end + 3600)
    n = draw(st.integers(2 if mixed_cycle_times else 1, 3))
    machines = []
    for i in range(n):
        line = "L1" if mixed_cycle_times or i == 0 else draw(st.sampled_from(["L1", "L2"]))
        ict = draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 4.0]))
        if mixed_cycle_times and i > 0:
            ict = machines[0].ideal_cycle_time_s * (i + 1)
        rollover = draw(st.sampled_from([None, 5000, 9999, 65536]))
        threshold = draw(st.sampled_from([None, 1, 300]))
        energy_kind = draw(st.sampled_from(["power", "power", "meter", None]))
        rng = random.Random(draw(st.integers(0, 2**32 - 1)))
        states = _state_timeline(rng, span, start, stopped_machine and i == 0)
        running = _running(states, span)
        bound = _counter_bounds(cal, days, running, ict)
        counters = _counter_readings(rng, span, bound, ict, rollover, jitter, resets=draw(st.booleans()))
        machine = MachineCase(line, f"M{i + 1}", ict, rollover, threshold, states, counters, energy_kind)
        if energy_kind:
            machine.energy_interval_s = draw(st.sampled_from([300, 600, 900]))
            power = _power(rng, span, machine.energy_interval_s, power_gaps)
            if energy_kind == "meter":
                machine.energy_rollover = draw(st.sampled_from([None, 1e6]))
                power = _meter(rng, power, machine.energy_rollover)
            machine.energy = power
        machines.append(machine)
    return PlantCase(cal, days, machines, span)


def _running(states: list[StatePoint], span) -> list:
    """The instants in the `running` state (whatever the day), for bounding counts."""
    out = []
    for i, p in enumerate(states):
        if p.code == 1:
            out.append((p.ts, states[i + 1].ts if i + 1 < len(states) else span[1] + 86_400))
    return union(out)


# --- how the rows arrive -------------------------------------------------------------------------------

BAD_ROWS = [
    ("2026-13-45 25:61:00.000,{tag},1,1,0,192,192,Delta\n", "a DateTime that is no timestamp"),
    ("{ts}.000,{tag},abc,abc,0,192,192,Delta\n", "a Value that is no number"),
    ("{ts}.000,{tag},1,1,7,192,192,Delta\n", "a Quality code not recognised"),
    ("{ts}.000,,1,1,0,192,192,Delta\n", "an empty TagName"),
]


@dataclass
class Export:
    name: str
    lines: list[str]  # data lines, header excluded
    bad: int  # how many of them are bad rows
    content: str = ""  # files with the same content: one of them lands, the others are duplicates


@dataclass
class Arrival:
    """Files in the order they are written, and after which of them a landing run happens."""

    exports: list[Export]
    land_after: list[int]  # indexes into exports; the last export is always followed by a landing


@st.composite
def arrivals(draw, rows: list[str], tags: list[str], bad_rows: bool = True) -> Arrival:
    """The rows split into 1-4 files, some rows in two files or twice in one, each file shuffled, with
    some bad rows, sometimes a file sent again under another name; landed in 1-3 runs."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 4))
    files: list[list[str]] = [[] for _ in range(n)]
    for row in rows:
        home = rng.randrange(n)
        files[home].append(row)
        if rng.random() < 0.1:
            files[rng.randrange(n)].append(row)  # overlap with another file, or repeated in the same
    bad = [0] * n
    if bad_rows:
        for _ in range(draw(st.integers(0, 4))):
            template, _what = rng.choice(BAD_ROWS)
            home = rng.randrange(n)
            files[home].append(template.format(tag=rng.choice(tags), ts="2026-06-01 00:00:00"))
            bad[home] += 1
    exports = []
    for i, lines in enumerate(files):
        rng.shuffle(lines)
        exports.append(Export(f"History_{i:02d}.csv", lines, bad[i], content=f"History_{i:02d}.csv"))
    rng.shuffle(exports)
    if draw(st.booleans()):
        original = exports[rng.randrange(n)]
        at = rng.randrange(len(exports) + 1)
        exports.insert(at, Export(f"Resent_{original.name}", original.lines, original.bad, content=original.name))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(exports) - 1), max_size=2))) | {len(exports) - 1})
    return Arrival(exports, cuts)
