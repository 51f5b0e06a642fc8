"""The plant's calendar and targets as tables for the marts: the site (its time zone), each shift of the plant
YAML with its breaks and the OEE targets of the site, lines and machines, registered beside the machines as
`plant__site`, `plant__shift` and `plant__target`."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from assets.plant.config import WEEKDAYS, PlantConfig
from assets.plant.targets import TARGET_KEYS

_DAY_MIN = 24 * 60


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _arc(start: dt.time, end: dt.time) -> set[int]:
    """The wall-clock minutes from start to end (across midnight; end = start is the whole day)."""
    first = _minutes(start)
    length = (_minutes(end) - first) % _DAY_MIN or _DAY_MIN
    return {(first + k) % _DAY_MIN for k in range(length)}


def plant_site(config: PlantConfig) -> pa.Table:
    """One row: the site, its IANA time zone and the production day's start."""
    return pa.table(
        {
            "site": pa.array([config.site], pa.string()),
            "timezone": pa.array([config.timezone], pa.string()),
            "day_start": pa.array([config.calendar.day_start.strftime("%H:%M")], pa.string()),
        }
    )


def plant_shift(config: PlantConfig) -> pa.Table:
    """Each shift of the plant YAML with the breaks that fall in it (a break belongs to the shift whose
    wall-clock span holds it; shifts never overlap, so a break is in one shift at most, or split between
    two adjoining ones by the minute). Lengths are nominal wall-clock lengths: a clock change makes the
    occurrence an hour longer or shorter (oee_shift has the real ones)."""
    calendar = config.calendar
    days = [WEEKDAYS[d] for d in sorted(calendar.working_days)]
    rows = []
    for order, shift in enumerate(calendar.shifts, start=1):
        span = _arc(shift.start, shift.end)
        overlaps = [len(span & _arc(b.start, b.end)) for b in calendar.breaks]
        rows.append(
            (
                shift.name,
                order,
                shift.start.strftime("%H:%M"),
                shift.end.strftime("%H:%M"),
                len(span) * 60.0,
                sum(1 for m in overlaps if m),
                sum(overlaps) * 60.0,
                (len(span) - sum(overlaps)) * 60.0,
                days,
            )
        )
    names = (
        ("shift_name", pa.string()),
        ("shift_order", pa.int64()),
        # "HH:MM" as in the plant YAML: Delta (gold) has no time-of-day type
        ("start", pa.string()),
        ("end", pa.string()),
        ("shift_s", pa.float64()),
        ("breaks", pa.int64()),
        ("break_s", pa.float64()),
        ("planned_s", pa.float64()),
        ("working_days", pa.list_(pa.string())),
    )
    return pa.table({n: pa.array([r[i] for r in rows], kind) for i, (n, kind) in enumerate(names)})


def plant_target(config: PlantConfig) -> pa.Table:
    """The targets of the plant YAML, one row per site, line or machine that sets one (`level` says which;
    line and machine are NULL above their level). A mart joins its level's row: no row, no target (NULL)."""
    rows: list[tuple] = []
    site = config.plant.targets
    if any(getattr(site, k) is not None for k in TARGET_KEYS):
        rows.append(("site", None, None, *(getattr(site, k) for k in TARGET_KEYS), None))
    for line in config.lines:
        if any(getattr(line.targets, k) is not None for k in TARGET_KEYS):
            rows.append(("line", line.name, None, *(getattr(line.targets, k) for k in TARGET_KEYS), None))
        for machine in line.machines:
            t = machine.targets
            if any(getattr(t, k) is not None for k in (*TARGET_KEYS, "rate")):
                rows.append(("machine", line.name, machine.name, *(getattr(t, k) for k in TARGET_KEYS), t.rate))
    names = ["level", "line", "machine", *(f"{k}_target" for k in TARGET_KEYS), "target_rate"]
    kinds = [pa.string()] * 3 + [pa.float64()] * 5
    columns = {n: pa.array([r[i] for r in rows], kind) for i, (n, kind) in enumerate(zip(names, kinds, strict=True))}
    return pa.table({"site": pa.array([config.site] * len(rows), pa.string()), **columns})


def plant_product(config: PlantConfig) -> pa.Table:
    """Each OEE machine's ideal cycle time per product of the catalog, and for the product 'unknown' (the
    machine's own): a mart joins a count or a run to it by (line, machine, product)."""
    rows = config.product_cycle_rows()
    names = ["line", "machine", "product", "product_name", "ideal_cycle_time_s"]
    kinds = [pa.string()] * 4 + [pa.float64()]
    return pa.table(
        {n: pa.array([r[i] for r in rows], kind) for i, (n, kind) in enumerate(zip(names, kinds, strict=True))}
    )


def plant_changeover_target(config: PlantConfig) -> pa.Table:
    """The changeover target of every pair of catalog products (the pair's, else the default)."""
    ids = [p.id for p in config.products]
    pairs = [(a, b, config.changeovers.target_s(a, b)) for a in ids for b in ids if a != b]
    return pa.table(
        {
            "from_product": pa.array([p[0] for p in pairs], pa.string()),
            "to_product": pa.array([p[1] for p in pairs], pa.string()),
            "target_s": pa.array([p[2] for p in pairs], pa.float64()),
        }
    )


def plant_changeover_rule(config: PlantConfig) -> pa.Table:
    """One row: how a changeover ends (`until` count or rate, with `rate_fraction`) and the target of a
    change between products that no pair of the plant YAML names (a product 'unknown' among them)."""
    rule = config.changeovers
    return pa.table(
        {
            "until": pa.array([rule.until], pa.string()),
            "rate_fraction": pa.array([rule.rate_fraction], pa.float64()),
            "default_target_s": pa.array([rule.default_target_s], pa.float64()),
        }
    )
