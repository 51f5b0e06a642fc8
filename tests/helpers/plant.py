"""Plant configurations the tests start from: one line with one machine, and calendars to give it."""

from __future__ import annotations

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
THREE_SHIFTS = [
    {"name": "early", "start": "06:00", "end": "14:00"},
    {"name": "late", "start": "14:00", "end": "22:00"},
    {"name": "night", "start": "22:00", "end": "06:00"},
]


def one_machine_config(
    shifts=None,
    breaks=None,
    day_start="06:00",
    working_days=("mon", "tue", "wed", "thu", "fri"),
    rollover=None,
    timezone="Europe/Berlin",
) -> dict:
    """A plant with one line and one machine (FILLER), ideal cycle time 1.0 s."""
    machine = {
        "name": "FILLER",
        "ideal_cycle_time_s": 1.0,
        "state_tag": "L1.FILLER.State",
        "states": {
            1: "running",
            2: {"category": "planned_stop", "reason": "Changeover"},
            3: {"category": "unplanned_stop", "reason": "Jam"},
            4: {"category": "not_scheduled", "reason": "No orders"},
        },
        "total_count_tag": "L1.FILLER.Total",
        "reject_count_tag": "L1.FILLER.Reject",
        "energy_kwh_tag": "L1.FILLER.kWh",
    }
    if rollover:
        machine["counter_rollover"] = rollover
    return {
        "plant": {"site": "Hamburg", "timezone": timezone},
        "calendar": {
            "day_start": day_start,
            "working_days": list(working_days),
            "first_day": "2026-01-01",
            "shifts": shifts or [{"name": "early", "start": "06:00", "end": "14:00"}],
            "breaks": breaks or [],
        },
        "sources": [{"name": "historian", "format": "aveva_historian_csv", "folder": "historian"}],
        "lines": [{"name": "L1", "area": "Bottling", "machines": [machine]}],
    }
