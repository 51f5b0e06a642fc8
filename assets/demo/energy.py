"""The demo machines' cumulative energy meters: power by state, stored every minute."""

from __future__ import annotations

import math

import numpy as np

from assets.demo import draws
from assets.demo.clock import HOUR_MS
from assets.demo.machine_days import DemoPlant
from assets.demo.streams import GOOD, MachineSim, Occupancy, Stream, category_intervals, integrate

ENERGY_SAMPLE_MS = 60_000  # the energy meter is stored every minute


def energy_stream(plant: DemoPlant, mi: int, sim: MachineSim, first: int, last: int) -> Stream:
    """Cumulative kWh: power by state (running, ~30 % when stopped, ~5 % standby when not
    scheduled), drifting a little per hour and scaled so that each day adds its cheap total;
    stored every minute, always changing through standby."""
    machine = sim.machine
    totals = plant.totals(mi)
    t0 = plant.bounds(first)[0]
    times_parts, kwh_parts = [], []
    for day in range(first, last + 1):
        d0, d1 = plant.bounds(day)
        grid = np.arange(-(-d0 // ENERGY_SAMPLE_MS) * ENERGY_SAMPLE_MS, d1, ENERGY_SAMPLE_MS, dtype=np.int64)
        times = np.unique(np.concatenate(([d0], grid))) if day == first else grid
        n_hours = math.ceil((d1 - d0) / HOUR_MS)
        drift = draws.hourly_walk(
            draws.day_rng(plant.seed, plant.keys[mi], day, draws.ENERGY), n_hours, 1.0, 0.02, 0.92, 1.08
        )
        segs = plant.day(mi, day)
        at = np.append(times, d1)
        used = np.zeros(len(at))
        for categories, share in (
            ({"running"}, 1.0),
            ({"planned_stop", "unplanned_stop"}, 0.30),
            ({"not_scheduled"}, 0.05),
        ):
            occupancy = Occupancy(*category_intervals(segs, machine, categories))
            used += integrate(at, occupancy, d0, share * drift)
        i = day - totals.first
        times_parts.append(times)
        kwh_parts.append(plant.kwh_at_epoch[mi] + totals.kwh_before[i] + totals.kwh[i] * used[:-1] / used[-1])
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
    stream = Stream(machine.energy_kwh_tag)
    stream.times = times[keep].tolist()
    stream.values = [f"{v / 1000:.3f}" for v in milli[keep].tolist()]
    stream.quality = [GOOD] * len(stream.times)
    assert stream.times[0] == t0
    return stream
