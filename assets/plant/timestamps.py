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
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Every timestamp the lakehouse stores: microseconds, UTC.
UTC_TS = pa.timestamp("us", tz="UTC")


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


# ---- which texts are times, and which times are plausible --------------------------------------------
#
# Never guess: a source's `timestamp_format` alone reads its wall-clock texts; without one, only ISO 8601
# (a format's own well-defined form besides, such as epoch numbers or PI's `02-Mar-26 06:00:00`). A
# text with an explicit UTC offset in the ISO form is an instant whatever the format: it cannot be read
# two ways, and it is how an export marks the repeated autumn hour. A time outside
# [earliest_timestamp, now + latest_timestamp_ahead_s] or an offset beyond ±14:00 is out of range. The
# rules are written once, as the DuckDB macros of sql/bronze/row_rules.sql (bronze_local_ts,
# bronze_time_reason, bronze_out_of_range, ...), which every reader calls with the parameters below.

# yyyy-mm-dd, then optionally [T or space]hh:mm[:ss[.fraction]] and an offset (Z, UTC, +hh, +hhmm, +hh:mm)
ISO_8601_PATTERN = (
    "[0-9]{4}-[0-9]{2}-[0-9]{2}"
    "([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(\\s*(Z|z|UTC|[+-][0-9]{2}(:?[0-5][0-9])?))?)?"
)
# The largest UTC offset any zone uses (Pacific/Kiritimati, +14:00); a larger one is a broken clock.
MAX_UTC_OFFSET_S = 14 * 3600
DEFAULT_LATEST_AHEAD_S = 86_400
# The earliest time of a source read without a plant config: the default calendar.first_day
# (2025-01-01, see core/plant.py) minus a year, the default of a plant's sources.
FALLBACK_EARLIEST = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def utc_now() -> dt.datetime:
    """The clock of the plausibility bound `now + latest_timestamp_ahead_s`: the one place tests fix it."""
    return dt.datetime.now(dt.UTC)


def earliest_default(first_day: dt.date) -> str:
    """A plant source's default `earliest_timestamp`: a year before calendar.first_day (ISO date)."""
    try:
        return first_day.replace(year=first_day.year - 1).isoformat()
    except ValueError:  # 29 February
        return first_day.replace(year=first_day.year - 1, day=28).isoformat()


def parse_earliest(value: Any) -> dt.datetime | None:
    """`earliest_timestamp` as an aware UTC datetime: a date (midnight UTC) or an ISO date-time (naive
    is UTC). None if the value is not one (options.py names the key)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


@dataclass(frozen=True)
class TimestampBounds:
    """The span of plausible instants of a source: [earliest, latest] in UTC, both included."""

    earliest: dt.datetime
    latest: dt.datetime

    @classmethod
    def from_options(cls, options: dict | None) -> TimestampBounds:
        """From a source's options `earliest_timestamp` and `latest_timestamp_ahead_s`; the clock is read now."""
        options = options or {}
        earliest = parse_earliest(options.get("earliest_timestamp")) or FALLBACK_EARLIEST
        ahead = options.get("latest_timestamp_ahead_s")
        ahead = DEFAULT_LATEST_AHEAD_S if ahead is None else ahead
        return cls(earliest=earliest, latest=utc_now() + dt.timedelta(seconds=ahead))

    def sql_params(self, timezone: str) -> dict[str, Any]:
        """The bind parameters of the range check (sql/bronze/row_rules.sql) for a source in `timezone`.

        Wall-clock times are compared with the bounds as wall-clock times of the zone (the conversion is
        monotonic outside a clock change), so a time far out of range is never converted (year 1 or 9999
        would overflow a conversion to UTC)."""
        tz = _zone(timezone)
        earliest_utc = self.earliest.astimezone(dt.UTC).replace(tzinfo=None)
        latest_utc = self.latest.astimezone(dt.UTC).replace(tzinfo=None)
        return {
            "earliest_utc": earliest_utc,
            "latest_utc": latest_utc,
            "earliest_local": self.earliest.astimezone(tz).replace(tzinfo=None),
            "latest_local": self.latest.astimezone(tz).replace(tzinfo=None),
            "max_offset_s": MAX_UTC_OFFSET_S,
            "range_note": (
                f"accepted {earliest_utc:%Y-%m-%d %H:%M:%S} to {latest_utc:%Y-%m-%d %H:%M:%S} UTC "
                "(source options earliest_timestamp, latest_timestamp_ahead_s)"
            ),
            "offset_note": "its UTC offset is beyond ±14:00",
        }


def time_params(time_format: str | None, native_formats: tuple[str, ...], label: str) -> dict[str, Any]:
    """The bind parameters of the text-time macros of sql/bronze/row_rules.sql."""
    return {
        "iso_pattern": ISO_8601_PATTERN,
        "has_format": time_format is not None,
        "time_format": time_format or "%Y-%m-%d %H:%M:%S",
        "has_native": bool(native_formats) and time_format is None,
        "native_formats": list(native_formats) or ["%Y-%m-%d %H:%M:%S"],
        "label": label,
    }


_FIXED_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


def _zone(timezone: str) -> dt.tzinfo:
    """An IANA zone, or a fixed offset `+01:00` (a logger whose header states its clock's GMT offset)."""
    fixed = _FIXED_OFFSET.fullmatch(timezone)
    if fixed is None:
        return ZoneInfo(timezone)
    sign, hours, minutes = fixed.groups()
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return dt.timezone(-offset if sign == "-" else offset)
