"""Plant-local wall-clock timestamps to UTC, without guessing silently.

Historians export local time without an offset. Twice a year that is not enough to know the instant:
in the spring-forward gap a local time does not exist, and in the fall-back hour it exists twice.
A nonexistent time is rejected with a reason. An ambiguous one is resolved the way the export was
written: per tag, in file order, the first pass through the repeated hour is summer time and once the
tag's clock goes backwards inside the hour, the rest is winter time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .schemas import UTC_TS


class AmbiguityResolver:
    """Remembers, per tag, whether the export has already gone back through the repeated hour."""

    def __init__(self) -> None:
        self._last_local: dict[str, dt.datetime] = {}
        self._second_pass: set[str] = set()

    def second_pass(self, tag: str, local: dt.datetime) -> bool:
        last = self._last_local.get(tag)
        if last is not None and local <= last:
            self._second_pass.add(tag)
        self._last_local[tag] = local
        return tag in self._second_pass


def localize(
    local_ts: pa.Array,
    tags: pa.Array,
    timezone: str,
    resolver: AmbiguityResolver,
) -> tuple[pa.Array, pa.Array]:
    """Convert naive local timestamps to UTC.

    Returns (utc timestamps, nonexistent mask): the mask marks local times that fall into the
    spring-forward gap; their UTC value is meaningless and the caller must reject those rows.
    """
    local_ts = local_ts.cast(pa.timestamp("us"))
    earliest = pc.assume_timezone(local_ts, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
    latest = pc.assume_timezone(local_ts, timezone=timezone, ambiguous="latest", nonexistent="earliest")
    # A local time in the gap does not survive the round trip back to wall-clock time.
    roundtrip = pc.local_timestamp(earliest)
    nonexistent = pc.fill_null(pc.not_equal(roundtrip, local_ts), False)

    ambiguous = pc.fill_null(pc.not_equal(earliest, latest), False)
    result = earliest
    if pc.any(ambiguous).as_py():
        idx = np.flatnonzero(ambiguous.to_numpy(zero_copy_only=False))
        chosen = earliest.to_numpy(zero_copy_only=False).copy()
        late = latest.to_numpy(zero_copy_only=False)
        tag_values = tags.take(pa.array(idx)).to_pylist()
        local_values = local_ts.take(pa.array(idx)).to_pylist()
        for i, tag, local in zip(idx, tag_values, local_values, strict=True):
            if resolver.second_pass(tag, local):
                chosen[i] = late[i]
        result = pa.array(chosen, type=earliest.type)
    return result.cast(UTC_TS), nonexistent
