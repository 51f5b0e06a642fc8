"""The demo machines' total/good/reject counters: each day's cheap totals spread over its running time,
PLC restarts, rollover, and the 30 s polls the historian stores on change."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from assets.demo import draws
from assets.demo.clock import HOUR_MS, MINUTE_MS, random_instant
from assets.demo.machine_days import DemoPlant
from assets.demo.streams import GOOD, MachineSim, Occupancy, Stream, category_intervals, integrate

COUNTER_SAMPLE_MS = 30_000  # the historian polls counters every 30 s and stores only changes
# A counter sample taken just before a stop, so that counters only ever change while running.
LAST_COUNT_BEFORE_STOP_MS = 200


class _Reset(NamedTuple):
    """A PLC restart: the machine's counters restart from 0 at ``at``; ``good`` and ``rejects`` are
    the machine's production since the epoch at that moment."""

    at: int
    good: int
    rejects: int


class Counters:
    """The counters of every machine of a plant whose daily totals are prepared up to ``last``,
    with the machines' PLC restarts since the epoch."""

    def __init__(self, plant: DemoPlant, last: int):
        self.plant = plant
        self._resets: list[list[_Reset]] = [self._restarts(mi, last) for mi in range(len(plant.machines))]

    def _spread(self, mi: int, day: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Good and reject counts made on ``day`` up to each ``t`` (inside the day): the day's totals
        spread over its running time at a rate that wanders a little from hour to hour."""
        segs = self.plant.day(mi, day)
        d0, d1 = self.plant.bounds(day)
        starts, ends = category_intervals(segs, self.plant.machines[mi][2], {"running"})
        # Each product's running time, counted at its own ideal rate (units per second of running).
        by_product = [
            (Occupancy(*_clipped(starts, ends, a, b)), 1.0 / self.plant.products.cycle_s(mi, product))
            for a, b, product in self.plant.products.machine_products(mi, day)
        ]
        n_hours = math.ceil((d1 - d0) / HOUR_MS)
        rng = draws.day_rng(self.plant.seed, self.plant.keys[mi], day, draws.WEIGHTS)
        speed = draws.hourly_walk(rng, n_hours, 1.0, 0.01, 0.97, 1.03)
        reject_rate = draws.hourly_walk(rng, n_hours, 1.0, 0.25, 0.4, 1.6)
        totals = self.plant.totals(mi)
        i = day - totals.first
        out = []
        for n, weight in ((totals.good[i], speed), (totals.rejects[i], reject_rate)):
            at = np.append(t, d1)
            done = sum(rate * integrate(at, occupancy, d0, weight) for occupancy, rate in by_product)
            share = done[:-1] / done[-1] if done[-1] > 0 else np.zeros(len(t))
            # share is exactly 1.0 once the day's running is over, so the day ends on its total.
            out.append(np.floor(n * share).astype(np.int64))
        return out[0], out[1]

    def production(self, mi: int, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Good and reject counts since the epoch at each ``t`` (sorted)."""
        t = np.asarray(t, dtype=np.int64)
        totals = self.plant.totals(mi)
        good, rejects = np.zeros(len(t), dtype=np.int64), np.zeros(len(t), dtype=np.int64)
        day, lo = totals.first, 0
        while lo < len(t):
            while self.plant.bounds(day)[1] <= t[lo]:
                day += 1
            hi = int(np.searchsorted(t, self.plant.bounds(day)[1], side="left"))
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
        machine = self.plant.machines[mi][2]
        if not machine.counter_tags:
            return []
        rollover = int(machine.counter_rollover) if machine.counter_rollover else None
        running_code = self.plant.codes[mi].running
        out: list[_Reset] = []
        for cycle in range(self.plant.cycle_of(self.plant.epoch), self.plant.cycle_of(last) + 1):
            found = self.plant.cycle_day("reset", cycle)
            if found is None or found[1] != mi or not self.plant.epoch <= found[0] <= last:
                continue
            day = found[0]
            running = [(s, e) for s, e, c in self.plant.day(mi, day) if c == running_code]
            # Keep away from the segment ends so the restart is visibly "while running".
            inner = [(s + MINUTE_MS, e - MINUTE_MS) for s, e in running if e - s > 3 * MINUTE_MS]
            at = random_instant(draws.day_rng(self.plant.seed, self.plant.keys[mi], day, draws.RESET), inner)
            if at is None:
                continue
            starts = np.array([s for s, _e in running], dtype=np.int64)
            ends = np.array([e for _s, e in running], dtype=np.int64)
            d0, d1 = self.plant.bounds(day)
            grid = np.arange(-(-d0 // COUNTER_SAMPLE_MS) * COUNTER_SAMPLE_MS, d1, COUNTER_SAMPLE_MS, dtype=np.int64)
            i = np.clip(np.searchsorted(starts, grid, side="right") - 1, 0, None)
            grid = grid[(grid >= starts[i]) & (grid < ends[i] - LAST_COUNT_BEFORE_STOP_MS) & (grid >= at)]
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
        at_epoch = self.plant.counter_at_epoch[mi]
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
            machine = self.plant.machines[mi][2]
            raise ValueError(
                f"demo: {machine.line}/{machine.name}'s counters would be negative: the demo starts too long "
                "before calendar.first_day"
            )
        return out

    def streams(self, mi: int, sim: MachineSim, t0: int, t_end: int) -> list[Stream]:
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
            inside = (i >= 0) & (grid < ends[np.clip(i, 0, None)] - LAST_COUNT_BEFORE_STOP_MS)
            grid = grid[inside]
            # The last counts before a stop are stored just before the state changes, with the final
            # value of the run, not 30 s into the stop: counters visibly change only while running.
            last_eval = ends[ends - LAST_COUNT_BEFORE_STOP_MS > starts]
        else:
            grid = grid[:0]
            last_eval = np.zeros(0, dtype=np.int64)
        times = np.concatenate(([t0], grid, last_eval - LAST_COUNT_BEFORE_STOP_MS))
        evaluate_at = np.concatenate(([t0], grid, last_eval))
        order = np.argsort(evaluate_at, kind="stable")
        times, evaluate_at = times[order], evaluate_at[order]
        unwrapped = self.counters(mi, evaluate_at)
        streams = []
        for kind, tag in tags.items():
            values = unwrapped[kind] % rollover if rollover else unwrapped[kind]
            keep = np.concatenate(([True], values[1:] != values[:-1]))
            stream = Stream(tag)
            stream.times = times[keep].tolist()
            stream.values = [str(v) for v in values[keep].tolist()]
            stream.quality = [GOOD] * len(stream.times)
            streams.append(stream)
        return streams


def _clipped(starts: np.ndarray, ends: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """The intervals' parts inside [a, b)."""
    s, e = np.maximum(starts, a), np.minimum(ends, b)
    keep = e > s
    return s[keep], e[keep]
