"""What the demo lines make: a product schedule per line and production day, with the changeovers between.

A line makes two or three products a working day (one on a day with under two hours of shifts), each of
the catalog's products at its own rate. Between two runs the whole line stops for a changeover (each
machine within a minute and a half of the others), and the day's first run starts with one when its
product differs from what the line made last (the last run of the latest earlier day that had one).

Everything here is drawn from the line-day's own generator (seed, line, day), so a day's schedule is the
same whatever days are written; the previous day's last product is that day's own draw too.

A line run is also the line's work order (``OrderRun``): from the moment its last machine stops for the
changeover before it (or the day's first shift start) to the next such moment, or to the end of the day's
shifts. Each machine's product switches when it stops for the changeover, so every count of the old
product comes before the switch and every count of the new product after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from assets.demo import draws
from assets.demo.clock import HOUR_MS, MINUTE_MS, SECOND_MS

if TYPE_CHECKING:
    from assets.demo.machine_days import DemoPlant

# How far back a line's last product is looked for (a long weekend, a week of holidays).
LOOKBACK_DAYS = 14
# A product switch starts within this many seconds on each machine of the line.
MACHINE_JITTER_S = (1.0, 90.0)
CHANGEOVER_MIN = (20.0, 45.0)


class OrderRun(NamedTuple):
    """One run of the line: its product and its window (UTC ms), and the line's changeover before it."""

    product: str | None
    start: int  # the last machine's changeover start before it, or the first shift start
    end: int  # the next run's start, or the end of the day's shifts
    switch: int | None  # where the line's changeover before it began (None: the run continues the last product)


class LineDay(NamedTuple):
    runs: list[OrderRun]
    changeovers: list[list[tuple[int, int]]]  # per machine of the line: (stop, end) of each changeover
    switches: list[list[tuple[int, str | None]]]  # per machine: (instant, new product) of each product switch
    before: str | None  # the product in force when the day began


class ProductPlan:
    """The product schedule of every line of a ``DemoPlant``, cached per line and day."""

    def __init__(self, plant: DemoPlant):
        self.plant = plant
        self.ids: list[str] = [p.id for p in plant.config.products]
        self._own: dict[tuple[int, int], tuple[list, list, list, list]] = {}
        self._days: dict[tuple[int, int], LineDay] = {}
        self._pieces: dict[tuple[int, int], list[tuple[int, int, str | None]]] = {}

    def _own_draws(self, li: int, day: int) -> tuple[list, list, list, list]:
        """(products, switch instants, changeover lengths, per-machine jitters) of the day's own draws."""
        if (li, day) in self._own:
            return self._own[(li, day)]
        plant = self.plant
        sched = plant.scheduled(day)
        total = sum(e - s for s, e in sched)
        rng = draws.day_rng(plant.seed, plant.line_keys[li], day, draws.CHANGEOVER)
        n_machines = len(plant.config.lines[li].oee_machines)
        n_runs = 0 if total <= 0 else 1 if total < 2 * HOUR_MS else int(rng.choice([2, 3, 3]))
        products: list[str | None] = []
        for _ in range(n_runs):
            choices = [p for p in self.ids if not products or p != products[-1]] or [None]
            products.append(choices[int(rng.integers(0, len(choices)))] if self.ids else None)
        # Runs share the day about evenly, each switch a little off its even place: hours apart.
        switches = [_instant_at(sched, (k + rng.uniform(-0.08, 0.08)) / n_runs) for k in range(1, n_runs)]
        # One changeover more than switches: the day's first, used when the product differs from the last.
        lengths = [int(rng.uniform(*CHANGEOVER_MIN) * MINUTE_MS) for _ in range(n_runs)]
        jitters = [
            [
                (int(rng.uniform(*MACHINE_JITTER_S) * SECOND_MS), int(rng.uniform(-60, 60) * SECOND_MS))
                for _ in range(n_machines)
            ]
            for _ in range(n_runs)
        ]
        result = (products, switches, lengths, jitters)
        self._own[(li, day)] = result
        return result

    def last_product(self, li: int, day: int) -> str | None:
        """What the line made last before ``day``: the last run of the latest earlier day with runs."""
        for earlier in range(day - 1, day - 1 - LOOKBACK_DAYS, -1):
            products = self._own_draws(li, earlier)[0]
            if products:
                return products[-1]
        return None

    def line_day(self, li: int, day: int) -> LineDay:
        if (li, day) in self._days:
            return self._days[(li, day)]
        products, switches, lengths, jitters = self._own_draws(li, day)
        n_machines = len(self.plant.config.lines[li].oee_machines)
        sched = self.plant.scheduled(day)
        before = self.last_product(li, day)
        changeovers: list[list[tuple[int, int]]] = [[] for _ in range(n_machines)]
        machine_switches: list[list[tuple[int, str | None]]] = [[] for _ in range(n_machines)]
        runs: list[OrderRun] = []
        if products:
            starts: list[tuple[int, int | None]] = []  # (run start, line switch) per run
            instants = [(sched[0][0], 0)] if products[0] != before else []
            instants += [(t, k) for k, t in enumerate(switches, start=1)]
            first_start: tuple[int, int | None] = (sched[0][0], None)
            for t, k in instants:
                stops = []
                for m in range(n_machines):
                    stop, end_jitter = jitters[k][m]
                    a, b = t + stop, t + lengths[k] + end_jitter
                    changeovers[m].append((a, b))
                    machine_switches[m].append((a, products[k]))
                    stops.append(a)
                starts.append((max(stops), t))
            if products[0] == before:
                starts.insert(0, first_start)
            ends = [s for s, _t in starts[1:]] + [sched[-1][1]]
            runs = [OrderRun(p, s, e, t) for p, (s, t), e in zip(products, starts, ends, strict=True)]
        result = LineDay(runs, changeovers, machine_switches, before)
        self._days[(li, day)] = result
        return result

    def machine_products(self, mi: int, day: int) -> list[tuple[int, int, str | None]]:
        """(start, end, product) pieces covering the machine's production day: what it makes at each instant
        (switching when it stops for a changeover)."""
        if (mi, day) in self._pieces:
            return self._pieces[(mi, day)]
        li, k, _machine = self.plant.machines[mi]
        d0, d1 = self.plant.bounds(day)
        plan = self.line_day(li, day)
        pieces: list[tuple[int, int, str | None]] = []
        at, product = d0, plan.before
        for t, new in plan.switches[k]:
            t = min(max(t, d0), d1)
            if t > at:
                pieces.append((at, t, product))
            at, product = t, new
        if d1 > at:
            pieces.append((at, d1, product))
        self._pieces[(mi, day)] = pieces
        return pieces

    def cycle_s(self, mi: int, product: str | None) -> float:
        machine = self.plant.machines[mi][2]
        return self.plant.config.ideal_cycle_time_s(machine, product)


def _instant_at(intervals: list[tuple[int, int]], fraction: float) -> int:
    """The instant that far through the union of the intervals."""
    total = sum(e - s for s, e in intervals)
    x = int(total * min(max(fraction, 0.0), 1.0))
    for s, e in intervals:
        if x < e - s:
            return s + x
        x -= e - s
    return intervals[-1][1] - 1
