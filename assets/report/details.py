"""The daily report's details per line, read from the published marts: each machine's day against its
targets, the line's shifts, the machine-state timeline, the change against the previous day and the
four-week average, the flagged machine-days and the line's standby energy. A table the file lacks is
noted in the report's `missing`, as in data.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from assets.report.day_states import DayStates

LineKey = tuple[str, str, str]

MACHINE_COLUMNS = ("site", "area", "line", "machine", "day", "oee", "availability", "performance", "quality")
MACHINE_COLUMNS += ("run_time_s", "planned_stop_time_s", "unplanned_stop_time_s", "data_quality_ok")
MACHINE_COLUMNS += ("data_quality_reason",)
TARGET_COLUMNS = ("line", "machine", "oee_target", "availability_target", "performance_target", "quality_target")
SHIFT_COLUMNS = ("site", "area", "line", "day", "shift_name", "shift_start", "oee", "availability", "performance")
SHIFT_COLUMNS += ("quality", "output_good_count", "oee_target")
MACHINE_SHIFT_COLUMNS = ("site", "area", "line", "machine", "day", "shift_start", "shift_end")
EVENT_COLUMNS = ("site", "area", "line", "machine", "day", "start", "end", "category", "is_data_gap")
LINE_COLUMNS = ("site", "area", "line", "day", "planned_production_time_s", "fully_productive_time_s", "oee")
ENERGY_COLUMNS = ("level", "site", "area", "line", "day", "kwh_total", "kwh_running")
AVERAGE_DAYS = 28  # the four weeks before the day


@dataclass(frozen=True)
class MachineDay:
    """One machine's production day against its targets (oee_daily, dim_machine, downtime_pareto)."""

    machine: str
    values: dict[str, object]
    targets: dict[str, float | None]
    top_stop: str | None
    stop_s: float | None


@dataclass(frozen=True)
class ShiftRow:
    shift_name: str
    values: dict[str, object]


@dataclass(frozen=True)
class Span:
    """A stretch of a machine's day on the timeline, in seconds from the timeline's start."""

    start_s: float
    end_s: float
    category: str  # running, planned_stop, unplanned_stop, minor_stop, break, unknown, not_scheduled


@dataclass(frozen=True)
class Timeline:
    start: dt.datetime
    end: dt.datetime
    machines: dict[str, list[Span]]
    # drawn from the day's silver states (breaks and not-scheduled time told apart), or from the marts' stops
    from_states: bool = False


@dataclass(frozen=True)
class Comparison:
    """The line's OEE against the previous production day and the four weeks before the day (summed times)."""

    previous_day: dt.date | None
    previous_oee: float | None
    average_oee: float | None
    average_days: int


@dataclass(frozen=True)
class Flag:
    line: str
    machine: str
    reason: str


def machine_days(con, day: dt.date, usable) -> dict[LineKey, list[MachineDay]]:
    if not usable("oee_daily", MACHINE_COLUMNS):
        return {}
    targets: dict[tuple[str, str], dict[str, float | None]] = {}
    if usable("dim_machine", TARGET_COLUMNS):
        for row in con.sql(f"select {', '.join(TARGET_COLUMNS)} from dim_machine").fetchall():
            targets[(row[0], row[1])] = {
                k.removesuffix("_target"): v for k, v in zip(TARGET_COLUMNS[2:], row[2:], strict=True)
            }
    top: dict[tuple[str, str], str] = {}
    if usable("downtime_pareto", ("line", "machine", "period", "period_start", "reason", "category", "rank")):
        rows = con.sql(
            "select line, machine, reason, category from downtime_pareto where period = 'day' and period_start = ? "
            "and machine is not null and rank = 1 order by line, machine, reason",
            params=[day],
        ).fetchall()
        for line, machine, reason, category in rows:
            top.setdefault((line, machine), f"{reason} (minor)" if category == "minor_stop" else reason)
    relation = con.sql(
        f"select {', '.join(MACHINE_COLUMNS)} from oee_daily where day = ? order by site, area, line, machine",
        params=[day],
    )
    out: dict[LineKey, list[MachineDay]] = {}
    for values in relation.fetchall():
        record = dict(zip(MACHINE_COLUMNS, values, strict=True))
        key = (str(record["site"]), str(record["area"]), str(record["line"]))
        machine = str(record["machine"])
        stops = [record["planned_stop_time_s"], record["unplanned_stop_time_s"]]
        stop_s = None if any(s is None for s in stops) else float(sum(stops))
        out.setdefault(key, []).append(
            MachineDay(machine, record, targets.get((key[2], machine), {}), top.get((key[2], machine)), stop_s)
        )
    return out


def shifts(con, day: dt.date, usable) -> dict[LineKey, list[ShiftRow]]:
    if not usable("oee_line_shift", SHIFT_COLUMNS):
        return {}
    relation = con.sql(
        f"select {', '.join(SHIFT_COLUMNS)} from oee_line_shift where day = ? order by site, area, line, shift_start",
        params=[day],
    )
    out: dict[LineKey, list[ShiftRow]] = {}
    for values in relation.fetchall():
        record = dict(zip(SHIFT_COLUMNS, values, strict=True))
        key = (str(record["site"]), str(record["area"]), str(record["line"]))
        out.setdefault(key, []).append(ShiftRow(str(record["shift_name"]), record))
    return out


def timelines(con, day: dt.date, usable, states: DayStates | None = None) -> dict[LineKey, Timeline]:
    """Each machine's day from its first shift's start to its last shift's end, in pieces that do not
    overlap: outside the shifts it is not scheduled; inside them, with the day's silver states, each
    stretch is its state's category (an unplanned stop shorter than the threshold a minor stop, time
    without a valid state unknown) and the planned breaks are breaks. Without them (the marts alone) a stop
    of downtime_events is its category and the rest of the shift time is running."""
    if not (usable("oee_shift", MACHINE_SHIFT_COLUMNS) and usable("downtime_events", EVENT_COLUMNS)):
        return {}
    shift_rows = con.sql(
        "select site, area, line, machine, shift_start, shift_end from oee_shift where day = ? "
        "order by site, area, line, machine, shift_start",
        params=[day],
    ).fetchall()
    events = con.sql(
        'select site, area, line, machine, start, "end", category, is_data_gap from downtime_events '
        "where day = ? and start is not null order by start",
        params=[day],
    ).fetchall()
    by_line: dict[LineKey, dict[str, list[tuple[dt.datetime, dt.datetime]]]] = {}
    for site, area, line, machine, start, end in shift_rows:
        by_line.setdefault((site, area, line), {}).setdefault(machine, []).append((start, end))
    out: dict[LineKey, Timeline] = {}
    for key, machines in by_line.items():
        first = min(s for spans in machines.values() for s, _ in spans)
        last = max(e for spans in machines.values() for _, e in spans)
        total = (last - first).total_seconds()

        def at(t: dt.datetime, first=first, total=total) -> float:
            return min(total, max(0.0, (t - first).total_seconds()))

        drawn: dict[str, list[Span]] = {}
        for machine, spans in machines.items():
            # painted in order, a later piece over an earlier one
            layers = [Span(0.0, total, "not_scheduled")]
            if states is None:
                layers += [Span(at(s), at(e), "running") for s, e in spans]
                for site, area, line, m, start, end, category, gap in events:
                    if (site, area, line, m) == (*key, machine):
                        stop_end = end if end is not None else last
                        layers.append(Span(at(start), at(stop_end), "unknown" if gap else str(category)))
            else:
                # a shift's stretch no state covers is unknown; a state is drawn only inside the shifts
                layers += [Span(at(s), at(e), "unknown") for s, e in spans]
                for piece in states.pieces:
                    if (piece.line, piece.machine) == (key[2], machine):
                        for s, e in spans:
                            layers.append(Span(at(max(piece.start, s)), at(min(piece.end, e)), piece.category))
                for b_start, b_end in states.breaks:
                    for s, e in spans:
                        layers.append(Span(at(max(b_start, s)), at(min(b_end, e)), "break"))
            drawn[machine] = flatten(layers)
        out[key] = Timeline(first, last, drawn, from_states=states is not None)
    return out


def flatten(layers: list[Span]) -> list[Span]:
    """The pieces as seen when painted in order: non-overlapping, in time order, neighbours of one category
    joined."""
    edges = sorted({p.start_s for p in layers} | {p.end_s for p in layers})
    out: list[Span] = []
    for a, b in zip(edges, edges[1:], strict=False):
        on_top = [p for p in layers if p.start_s <= a and p.end_s >= b and p.end_s > p.start_s]
        if not on_top or b <= a:
            continue
        category = on_top[-1].category
        if out and out[-1].category == category and out[-1].end_s == a:
            out[-1] = Span(out[-1].start_s, b, category)
        else:
            out.append(Span(a, b, category))
    return out


def comparisons(con, day: dt.date, usable) -> dict[LineKey, Comparison]:
    if not usable("oee_line_daily", LINE_COLUMNS):
        return {}
    rows = con.sql(
        """
        with before as (select * from oee_line_daily where day < ?)
        select site, area, line,
            max(day) as previous_day,
            arg_max(oee, day) as previous_oee,
            sum(fully_productive_time_s) filter (where day >= ?)
                / nullif(sum(planned_production_time_s) filter (where day >= ?), 0) as average_oee,
            count(*) filter (where day >= ?) as average_days
        from before
        group by site, area, line
        """,
        params=[day, *([day - dt.timedelta(days=AVERAGE_DAYS)] * 3)],
    ).fetchall()
    return {(r[0], r[1], r[2]): Comparison(r[3], r[4], r[5], int(r[6] or 0)) for r in rows}


def flags(con, day: dt.date, usable) -> list[Flag]:
    if not usable("oee_daily", MACHINE_COLUMNS):
        return []
    rows = con.sql(
        "select line, machine, data_quality_reason from oee_daily where day = ? and not data_quality_ok "
        "order by line, machine",
        params=[day],
    ).fetchall()
    return [Flag(str(line), str(machine), str(reason or "not stated")) for line, machine, reason in rows]


def standby_kwh(con, day: dt.date, usable) -> dict[LineKey, float | None]:
    """The line's energy while its machines were not running (stops, breaks, outside the shifts)."""
    if not usable("energy_daily", ENERGY_COLUMNS):
        return {}
    rows = con.sql(
        "select site, area, line, kwh_total - kwh_running from energy_daily where level = 'line' and day = ?",
        params=[day],
    ).fetchall()
    return {(r[0], r[1], r[2]): r[3] for r in rows}
