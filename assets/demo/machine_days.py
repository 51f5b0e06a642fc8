"""The demo machines' behaviour, day by day: calendar, changeovers, cleaning, the long repair, random
stops, and the cheap daily totals (counts and energy) that the counters and meters spread over a day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from assets.demo import draws
from assets.demo.clock import (
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    clip,
    local_ms,
    merge,
    paint,
    random_instant,
    scheduled_intervals,
)
from assets.demo.products import ProductPlan
from assets.demo.streams import codes_for
from assets.plant.config import PlantConfig
from assets.plant.machines import Machine

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


class DayTotals(NamedTuple):
    """Per machine and day since the epoch: the cheap totals and their sums before each day."""

    first: int  # ordinal of the first day in the arrays
    good: np.ndarray
    rejects: np.ndarray
    kwh: np.ndarray
    good_before: np.ndarray  # production since the epoch at each day's start (negative before it)
    rejects_before: np.ndarray
    kwh_before: np.ndarray
    cycle_s: np.ndarray  # the day's ideal seconds per unit, over the products its shifts make


class DemoPlant:
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
        self.codes = [codes_for(m) for _li, _k, m in self.machines]
        self.keys = [draws.name_key(f"{m.line}/{m.name}") for _li, _k, m in self.machines]
        self.line_keys = [draws.name_key(line.name) for line in config.lines]
        self.epoch = config.calendar.first_day.toordinal()
        self.anchor = CYCLE_ANCHOR.toordinal()
        # What makes machines differ: stop rates, rated power, the counters' and meter's readings at the epoch.
        self.stop_rates, self.run_kw, self.counter_at_epoch, self.kwh_at_epoch = [], [], [], []
        for mi, (_li, _k, machine) in enumerate(self.machines):
            rng = draws.day_rng(seed, self.keys[mi], 0, draws.MACHINE)
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
        self._totals: list[DayTotals] = []
        self.products = ProductPlan(self)

    # ---- calendar

    def bounds(self, day: int) -> tuple[int, int]:
        """UTC ms of the production day's start and end."""
        if day not in self._bounds:
            clock = self.config.calendar.day_start
            date = dt.date.fromordinal(day)
            self._bounds[day] = (
                local_ms(self.tz, date, clock),
                local_ms(self.tz, date + dt.timedelta(days=1), clock),
            )
        return self._bounds[day]

    def scheduled(self, day: int) -> list[tuple[int, int]]:
        """The day's shift time minus breaks, clipped to the production day."""
        if day not in self._sched:
            a, b = self.bounds(day)
            self._sched[day] = scheduled_intervals(self.config, self.tz, dt.date.fromordinal(day), 1, a, b)
        return self._sched[day]

    def scheduled_ms(self, day: int) -> int:
        return sum(e - s for s, e in self.scheduled(day))

    def cycle_day(self, kind: str, cycle: int) -> tuple[int, int] | None:
        """(day, machine index) of the cycle's PLC restart ("reset") or long repair ("breakdown")."""
        if (kind, cycle) in self._cycles:
            return self._cycles[(kind, cycle)]
        begin = self.anchor + cycle * CYCLE_DAYS
        if kind == "reset":
            candidates = [mi for mi, (_li, _k, m) in enumerate(self.machines) if m.counter_tags]
            offset, needed, purpose = RESET_FROM_DAY, 1, draws.H_RESET_MACHINE
        else:
            line = len(self.config.lines) - 1 if len(self.config.lines) < 2 else 1
            candidates = [mi for mi, (li, _k, _m) in enumerate(self.machines) if li == line]
            offset, needed, purpose = BREAKDOWN_FROM_DAY, 8 * HOUR_MS, draws.H_BREAKDOWN_MACHINE
        found = None
        if candidates:
            day = next((d for d in range(begin + offset, begin + CYCLE_DAYS) if self.scheduled_ms(d) >= needed), None)
            if day is not None:
                pick = draws.hashed_uniform(self.seed, 0, purpose, np.array([cycle]))[0]
                found = (day, candidates[int(pick * len(candidates))])
        self._cycles[(kind, cycle)] = found
        return found

    def cycle_of(self, day: int) -> int:
        return (day - self.anchor) // CYCLE_DAYS

    def _breakdown_machine(self, day: int) -> int | None:
        found = self.cycle_day("breakdown", self.cycle_of(day))
        return found[1] if found is not None and found[0] == day else None

    def _repair_ms(self, mi: int, day: int) -> tuple[np.random.Generator, int]:
        """The long repair's generator and length (drawn first, so the day totals need draw nothing else)."""
        rng = draws.day_rng(self.seed, self.keys[mi], day, draws.BREAKDOWN)
        return rng, int(rng.uniform(2.5, 4.0) * HOUR_MS)

    # ---- state timeline

    def _line_changeovers(self, li: int, day: int) -> list[list[tuple[int, int]]]:
        """Changeovers are a line decision: every machine of the line stops within a minute or so."""
        return self.products.line_day(li, day).changeovers

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
            segs = paint(segs, s, e, c.running)
        carries: list[tuple[int, int, str, tuple[str, ...]]] = []
        # The next day's own stops were drawn without knowing of this day's, so what carries over
        # paints over them as well as over running.
        stops_next = (c.running, c.jam, c.starved)

        def plan(a: int, b: int, code: str, over: tuple[str, ...], over_next: tuple[str, ...]) -> None:
            nonlocal segs
            segs = paint(segs, a, min(b, d1), code, over=over)
            if b > d1:
                carries.append((d1, b, code, over_next))

        for a, b in self._line_changeovers(li, day)[k]:
            plan(a, b, c.changeover, (c.running,), stops_next)
        rng = draws.day_rng(self.seed, key, day, draws.CLEANING)
        if day_sched and rng.random() < 0.3:
            t = random_instant(rng, day_sched)
            plan(t, t + int(rng.uniform(15, 35) * MINUTE_MS), c.cleaning, (c.running,), stops_next)
        if self._breakdown_machine(day) == mi:
            rng, repair = self._repair_ms(mi, day)
            # Start in the first half of the scheduled day so that most of the repair is production time.
            first_half = clip(day_sched, day_sched[0][0], day_sched[0][0] + 10 * HOUR_MS)
            t = random_instant(rng, first_half)
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
        upcoming = _stop_draws(draws.day_rng(self.seed, self.keys[mi], day, draws.STOPS), HOUR_MS / rates.sum())
        out, stops, carries = [], [], []
        for s, e, code in segments:
            if code != codes.running:
                out.append((s, e, code))
                continue
            t = s
            while t < e:
                gap, kind, u = next(upcoming)
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
            segs = paint(segs, a, min(b, d1), code, over=over)
        machine, running = self.machines[mi][2], self.codes[mi].running
        totals = self.totals(mi)
        i = day - totals.first
        count = totals.good[i] + totals.rejects[i]
        needed_ms = count * totals.cycle_s[i] * SECOND_MS / PERFORMANCE_MAX
        pieces = self.products.machine_products(mi, day)

        def run_ms() -> int:
            return sum(e - s for s, e, c in segs if c == running)

        def units_at_ideal() -> float:
            # What the running time makes at each product's ideal rate: the count needs PERFORMANCE_MAX of it.
            total = 0.0
            for a, b, product in pieces:
                run = sum(min(e, b) - max(s, a) for s, e, c in segs if c == running and min(e, b) > max(s, a))
                total += run / SECOND_MS / self.products.cycle_s(mi, product)
            return total

        for a, b, code in reversed(stops):
            if units_at_ideal() * PERFORMANCE_MAX >= count:
                break
            segs = paint(segs, a, b, running, over=code)
        if needed_ms > 0 and run_ms() == 0:
            raise ValueError(
                f"demo: {machine.line}/{machine.name} has counts but no run time on {dt.date.fromordinal(day)}"
            )
        merged = merge(segs)
        self._final[(mi, day)] = merged
        return merged

    # ---- cheap daily totals

    def prepare(self, first: int, last: int) -> None:
        """Compute the daily totals of every machine for the days from the epoch (or ``first``, if
        earlier) to ``last`` (the counters' PLC restarts follow from them, see ``counters.Counters``)."""
        lo, hi = min(first - 1, self.epoch), max(last, self.epoch) + 1
        days = np.arange(lo, hi + 1)
        sched = np.array([self.scheduled_ms(d) for d in days.tolist()], dtype=np.float64)
        length = np.array([np.subtract(*self.bounds(d)[::-1]) for d in days.tolist()], dtype=np.float64)
        repairs = np.zeros((len(self.machines), len(days)))
        for cycle in range(self.cycle_of(lo), self.cycle_of(hi) + 1):
            found = self.cycle_day("breakdown", cycle)
            if found is not None and lo <= found[0] <= hi:
                repairs[found[1], found[0] - lo] = self._repair_ms(found[1], found[0])[1]
        planned = np.where(sched >= 2 * HOUR_MS, _PLANNED_PER_DAY_MS, np.where(sched > 0, 7.5 * MINUTE_MS, 0))
        epoch_i = self.epoch - lo
        self._totals = []
        for mi in range(len(self.machines)):
            # The share of running time the random stops take, from their rates and mean lengths (s).
            rates = np.array(self.stop_rates[mi]) / 3600.0
            mean_stop_s = float((rates * np.array([60.0, 540.0, 330.0])).sum() / rates.sum())
            loss = mean_stop_s / (1.0 / rates.sum() + mean_stop_s)
            run_ms = np.clip(sched - repairs[mi] - planned, 0, None) * (1.0 - loss)
            performance = 0.87 + 0.06 * draws.hashed_uniform(self.seed, self.keys[mi], draws.H_PERFORMANCE, days)
            reject_share = 0.008 + 0.012 * draws.hashed_uniform(self.seed, self.keys[mi], draws.H_REJECTS, days)
            cycle_s = np.array([self._day_cycle_s(mi, d) for d in days.tolist()])
            total = np.round(performance * run_ms / SECOND_MS / cycle_s).astype(np.int64)
            rejects = np.round(total * reject_share).astype(np.int64)
            good = total - rejects
            kw = self.run_kw[mi]
            kwh = kw * (run_ms + 0.30 * (sched - run_ms) + 0.05 * (length - sched)) / HOUR_MS

            def before(x: np.ndarray) -> np.ndarray:
                cum = np.concatenate(([0], np.cumsum(x)))[:-1]
                return cum - cum[epoch_i]

            totals = DayTotals(lo, good, rejects, kwh, before(good), before(rejects), before(kwh), cycle_s)
            self._totals.append(totals)

    def _day_cycle_s(self, mi: int, day: int) -> float:
        """The machine's ideal seconds per unit over the day's shift time, each product weighted by the
        shift time it runs (what the day's cheap count is made at)."""
        units_per_ms, shift_ms = 0.0, 0
        for a, b, product in self.products.machine_products(mi, day):
            ms = sum(e - s for s, e in clip(self.scheduled(day), a, b))
            units_per_ms += ms / self.products.cycle_s(mi, product)
            shift_ms += ms
        return shift_ms / units_per_ms if units_per_ms else self.products.cycle_s(mi, None)

    def totals(self, mi: int) -> DayTotals:
        return self._totals[mi]


def _stop_draws(rng: np.random.Generator, mean_gap_ms: float) -> Iterator[tuple[float, float, float]]:
    """(gap to the next stop in ms, which kind of stop, where in its length range), drawn in blocks."""
    while True:
        gaps = rng.exponential(mean_gap_ms, 256).tolist()
        kinds = rng.random(256).tolist()
        lengths = rng.random(256).tolist()
        yield from zip(gaps, kinds, lengths, strict=True)
