"""What the demo's simulation produces per machine: its state codes, its timeline of (start, end, code)
segments, and the rows the historian stored per tag (with their quality)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from assets.demo.clock import HOUR_MS, SECOND_MS
from assets.plant.machines import Machine

GOOD, BAD, DOUBTFUL = 0, 1, 2


@dataclass(frozen=True)
class Codes:
    """The state codes a machine's simulation needs, picked from ``machine.states`` by meaning."""

    running: str
    not_scheduled: str
    jam: str
    starved: str
    breakdown: str
    changeover: str
    cleaning: str


@dataclass
class Stream:
    """The rows the historian stored for one tag: times (UTC ms), value text (None = lost), quality."""

    tag: str
    times: list[int] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)
    text: bool = False  # a string tag (a product id): AVEVA exports it in vValue with an empty Value

    def value_at(self, t: int) -> tuple[str | None, int]:
        """The value and quality in force at ``t`` (the last stored row at or before it)."""
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            raise ValueError(f"{self.tag}: no value stored at or before {t}")
        return self.values[i], self.quality[i]


@dataclass
class MachineSim:
    machine: Machine
    codes: Codes
    segments: list[tuple[int, int, str]]  # contiguous (start, end, code) covering the simulated days
    streams: list[Stream] = field(default_factory=list)

    def intervals(self, categories: set[str]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end arrays of the segments whose state code falls in one of ``categories``."""
        return category_intervals(self.segments, self.machine, categories)

    def running_intervals(self) -> list[tuple[int, int]]:
        return [(s, e) for s, e, c in self.segments if c == self.codes.running]


def category_intervals(
    segments: list[tuple[int, int, str]], machine: Machine, categories: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    states = machine.states
    chosen = [(s, e) for s, e, c in segments if states[c].category in categories]
    if not chosen:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.array(chosen, dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def codes_for(machine: Machine) -> Codes:
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
    return Codes(
        running=running,
        not_scheduled=not_scheduled,
        jam=jam,
        starved=find("unplanned_stop", "Starved") or jam,
        breakdown=find("unplanned_stop", "Breakdown") or unplanned,
        changeover=changeover,
        cleaning=find("planned_stop", "Cleaning") or changeover,
    )


class Occupancy:
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


def integrate(t: np.ndarray, occupancy: Occupancy, t0: int, rate_per_s: np.ndarray) -> np.ndarray:
    """Integral from t0 to each t of an hourly piecewise-constant rate, counted only inside the intervals."""
    n = len(rate_per_s)
    bounds = t0 + np.arange(n + 1, dtype=np.int64) * HOUR_MS
    occ_bounds = occupancy(bounds)
    per_hour = rate_per_s * np.diff(occ_bounds) / SECOND_MS
    cumulative = np.concatenate(([0.0], np.cumsum(per_hour)))
    hour = np.clip((np.asarray(t) - t0) // HOUR_MS, 0, n - 1)
    return cumulative[hour] + rate_per_s[hour] * (occupancy(t) - occ_bounds[hour]) / SECOND_MS


def state_stream(sim: MachineSim, t0: int) -> Stream:
    """The state tag stores a row at the period start and at every transition."""
    stream = Stream(sim.machine.state_tag)
    previous = None
    for s, _e, code in sim.segments:
        if code != previous:
            stream.times.append(max(s, t0))
            stream.values.append(code)
            stream.quality.append(GOOD)
            previous = code
    return stream


def product_stream(sim: MachineSim, pieces: list[tuple[int, int, str | None]], t0: int) -> Stream:
    """The product tag: the product id in force from the period start, a row at every switch."""
    stream = Stream(sim.machine.product_tag, text=True)
    previous = None
    for s, _e, product in pieces:
        if product is not None and product != previous:
            stream.times.append(max(s, t0))
            stream.values.append(product)
            stream.quality.append(GOOD)
            previous = product
    return stream
