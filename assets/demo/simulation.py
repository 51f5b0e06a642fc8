"""The demo plant simulated over a span of days: every machine's timeline and tag streams, with the
historian's bad and doubtful rows."""

from __future__ import annotations

import bisect

from assets.demo import draws
from assets.demo.clock import SECOND_MS, clip, merge, random_instant
from assets.demo.counters import Counters
from assets.demo.energy import energy_stream
from assets.demo.machine_days import DemoPlant
from assets.demo.streams import BAD, DOUBTFUL, GOOD, MachineSim, product_stream, state_stream


def simulate(plant: DemoPlant, first: int, last: int) -> list[MachineSim]:
    """Every machine's timeline and tag streams over the days ``first`` to ``last``."""
    plant.prepare(first, last)
    counters = Counters(plant, last)
    t0, t_end = plant.bounds(first)[0], plant.bounds(last)[1]
    sims = []
    for mi, (_li, _k, machine) in enumerate(plant.machines):
        segments = merge([s for day in range(first, last + 1) for s in plant.day(mi, day)])
        sim = MachineSim(machine=machine, codes=plant.codes[mi], segments=segments)
        sim.streams.append(state_stream(sim, t0))
        sim.streams.extend(counters.streams(mi, sim, t0, t_end))
        if machine.product_tag and plant.config.products:
            pieces = [p for day in range(first, last + 1) for p in plant.products.machine_products(mi, day)]
            sim.streams.append(product_stream(sim, pieces, t0))
        if machine.energy_kwh_tag:
            sim.streams.append(energy_stream(plant, mi, sim, first, last))
        sims.append(sim)
    for day in range(first, last + 1):
        _add_quality_problems(plant, sims, day)
    return sims


def _add_quality_problems(plant: DemoPlant, sims: list[MachineSim], day: int) -> None:
    """A few bad rows (value lost, then restored when communication returns) and doubtful rows.

    Only state and counter tags: those are the ones whose gaps hurt OEE and that a reader must
    handle. Each stays inside its production day, so the value in force when a day starts is
    never a bad or doubtful row of another day.
    """
    d0, d1 = plant.bounds(day)
    rng = draws.day_rng(plant.seed, 0, day, draws.QUALITY)
    n_bad = int(rng.integers(0, 2)) + int(rng.random() < 0.25)
    n_doubtful = int(rng.random() < 0.5)
    for _ in range(n_bad):
        sim = sims[int(rng.integers(0, len(sims)))]
        streams = [s for s in sim.streams if s.tag != sim.machine.energy_kwh_tag]
        stream = streams[int(rng.integers(0, len(streams)))]
        t_bad = random_instant(rng, clip(sim.running_intervals(), d0, d1))
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
