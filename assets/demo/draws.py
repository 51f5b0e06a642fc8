"""The demo's random numbers: a generator per (seed, machine, day, purpose) and hashed numbers per day.

Every draw is a function of the seed, a stable key of the machine (or line) and the day, never of the
period written, so that a longer demo repeats a shorter one's rows exactly.
"""

from __future__ import annotations

import zlib

import numpy as np

# What a day's generator is for: each purpose has its own stream, so a cheap path can draw one
# thing (the repair's length) without drawing all the others first.
CHANGEOVER, CLEANING, BREAKDOWN, STOPS, WEIGHTS, ENERGY, QUALITY, RESET, MACHINE = range(1, 10)
# Purposes of the hashed numbers, drawn for every day since the epoch.
H_PERFORMANCE, H_REJECTS, H_RESET_MACHINE, H_BREAKDOWN_MACHINE = range(20, 24)
_MASK64 = (1 << 64) - 1


def name_key(name: str) -> int:
    """A stable number for a name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def day_rng(seed: int, key: int, day: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, key, day, purpose])


def hashed_uniform(seed: int, key: int, purpose: int, days: np.ndarray) -> np.ndarray:
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


def hourly_walk(rng: np.random.Generator, n: int, centre: float, step: float, lo: float, hi: float) -> np.ndarray:
    """A slowly wandering hourly factor (AR(1) around ``centre``), kept inside [lo, hi]."""
    noise = rng.normal(0.0, step, n)
    out = np.empty(n)
    x = 0.0
    for i in range(n):
        x = 0.7 * x + noise[i]
        out[i] = x
    return np.clip(centre + out, lo, hi)
