"""What each machine was doing, stretch by stretch, on one production day, and the day's planned breaks: read
from silver (silver__machine_states, silver__plant_calendar) for the report's machine-state timeline. The
marts hold the stops alone; the timeline also shows running, not-scheduled time inside shifts and breaks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from assets.storage import delta_read
from assets.storage.schemas import SILVER_MACHINE_STATES, SILVER_PLANT_CALENDAR


@dataclass(frozen=True)
class StatePiece:
    line: str
    machine: str
    start: dt.datetime
    end: dt.datetime
    category: str  # running, planned_stop, unplanned_stop, minor_stop, unknown (no valid state), not_scheduled


@dataclass(frozen=True)
class DayStates:
    pieces: list[StatePiece]
    breaks: list[tuple[dt.datetime, dt.datetime]]


def _category(category: str, reason: str | None, minor: bool) -> str:
    # the marts' rule (downtime_events): a stop of reason 'unknown' is time without a valid state
    if reason == "unknown" and category in ("planned_stop", "unplanned_stop"):
        return "unknown"
    return "minor_stop" if category == "unplanned_stop" and minor else category


def read_day_states(lakehouse_root: str, day: dt.date, storage_options: dict[str, str] | None = None) -> DayStates:
    """The day's state pieces and break windows (none where a table is not there yet: it reads as empty)."""
    partitions = delta_read.date_partitions("day", [day])
    rows = delta_read.query_table(
        lakehouse_root,
        SILVER_MACHINE_STATES,
        'select line, machine, start, "end", category, reason, is_minor_stop from silver__machine_states '
        "where day = ? order by line, machine, start",
        [day],
        partitions,
        storage_options,
    )
    windows = delta_read.query_table(
        lakehouse_root,
        SILVER_PLANT_CALENDAR,
        "select start, \"end\" from silver__plant_calendar where day = ? and kind = 'break' order by start",
        [day],
        partitions,
        storage_options,
    )
    pieces = [
        StatePiece(
            r["line"],
            r["machine"],
            r["start"],
            r["end"],
            _category(r["category"], r["reason"], bool(r["is_minor_stop"])),
        )
        for r in rows
    ]
    return DayStates(pieces, [(w["start"], w["end"]) for w in windows])
