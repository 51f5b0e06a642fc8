"""Plant-local wall-clock timestamps to UTC, without guessing silently.

Historians export local time without an offset. Twice a year that is not enough to know the instant:
in the spring-forward gap a local time does not exist, and in the fall-back hour it exists twice.
A nonexistent time is rejected with a reason starting `nonexistent local time`. An ambiguous one is
resolved the way the export was written, per tag and in file order:

* the tag's points inside the repeated hour are held back until the tag's clock goes backwards inside
  the hour; the points before that step are summer time (the first pass), the step and everything after
  it inside the hour winter time (the second pass);
* if the tag leaves the hour (a later, unambiguous point) or the file ends without such a step, the
  held points could belong to either pass: they are rejected with a reason starting
  `ambiguous local time`. A tag sampled regularly through the night always shows the step; a tag with a
  single point in the hour, or points only in one pass, cannot be placed and is not guessed.

Only the points of the repeated hour are ever held, so a reader stays streaming: `DeferredAmbiguity`
keeps them per tag and hands them back as soon as they are decided, and at the end of the file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

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


NONEXISTENT = "nonexistent local time"
AMBIGUOUS = "ambiguous local time"


def nonexistent_reason(local: dt.datetime | None, timezone: str) -> str:
    """The reject reason of a wall-clock time in the spring-forward gap."""
    return f"{NONEXISTENT} {local} in {timezone} (daylight-saving gap)"


def ambiguous_reason(local: dt.datetime, timezone: str) -> str:
    """The reject reason of a repeated-hour time that the tag's row order cannot place."""
    return (
        f"{AMBIGUOUS} {local} in {timezone}: the tag's rows do not show whether it is summer or winter time "
        "(no step back inside the repeated hour)"
    )


@dataclass
class _HourState:
    last: dt.datetime
    second_pass: bool = False
    held: list[tuple[Any, Any, Any, dt.datetime]] = field(default_factory=list)


class DeferredAmbiguity:
    """Resolves repeated-hour times per tag from row order, holding undecided rows (see module docstring).

    Each call returns the rows decided by it as `(payload, utc)` pairs; `utc` is None for a row that is
    ambiguous for good (the caller rejects it with `ambiguous_reason`).
    """

    def __init__(self) -> None:
        self._open: dict[str, _HourState] = {}

    @property
    def open_tags(self) -> set[str]:
        """Tags with rows in the repeated hour still held or whose pass is being tracked."""
        return set(self._open)

    def ambiguous(self, tag: str, local: dt.datetime, summer: Any, winter: Any, payload: Any) -> list[tuple[Any, Any]]:
        """A point of `tag` at a repeated-hour wall-clock time, in file order."""
        state = self._open.get(tag)
        if state is not None and state.last.date() != local.date():
            # A repeated hour of another night: whatever was held from the earlier one cannot be placed.
            decided = self._close(tag)
            return decided + self.ambiguous(tag, local, summer, winter, payload)
        if state is None:
            self._open[tag] = _HourState(last=local, held=[(payload, summer, winter, local)])
            return []
        if state.second_pass:
            state.last = local
            return [(payload, winter)]
        if local <= state.last:
            state.second_pass = True
            state.last = local
            decided = [(p, s) for p, s, _w, _l in state.held]
            state.held = []
            return [*decided, (payload, winter)]
        state.last = local
        state.held.append((payload, summer, winter, local))
        return []

    def unambiguous(self, tag: str, local: dt.datetime) -> list[tuple[Any, Any]]:
        """A point of `tag` at an ordinary wall-clock time; after the hour it closes the tag's hour."""
        state = self._open.get(tag)
        if state is None or local <= state.last:
            return []
        return self._close(tag)

    def flush(self) -> list[tuple[Any, Any]]:
        """At the end of the file: every row still held is ambiguous."""
        decided: list[tuple[Any, Any]] = []
        for tag in list(self._open):
            decided.extend(self._close(tag))
        return decided

    def _close(self, tag: str) -> list[tuple[Any, Any]]:
        state = self._open.pop(tag)
        return [(p, None) for p, _s, _w, _l in state.held]


def wall_clock_candidates(local_ts: pa.Array, timezone: str) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """For naive local times: (summer reading in UTC, winter reading in UTC, nonexistent mask, ambiguous mask).

    Outside the repeated hour both readings are the same instant.
    """
    local_ts = local_ts.cast(pa.timestamp("us"))
    earliest = pc.assume_timezone(local_ts, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
    latest = pc.assume_timezone(local_ts, timezone=timezone, ambiguous="latest", nonexistent="earliest")
    nonexistent = pc.fill_null(pc.not_equal(pc.local_timestamp(earliest), local_ts), False)
    ambiguous = pc.fill_null(pc.not_equal(earliest, latest), False)
    return earliest.cast(UTC_TS), latest.cast(UTC_TS), nonexistent, ambiguous
