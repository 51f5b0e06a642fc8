"""The daily report's production of a line, read from the published marts: its output hour by hour against
target (production_hourly), the day's orders with their completion (oee_order) and the day's changeovers
against their targets (changeovers). A table the file lacks is noted in the report's `missing`, as in
data.py; the page then shows "no data" for that part."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from assets.report.formats import finite

LineKey = tuple[str, str, str]

HOURLY_TABLE = "production_hourly"
ORDER_TABLE = "oee_order"
CHANGEOVER_TABLE = "changeovers"

HOURLY_COLUMNS = ("level", "site", "area", "line", "day", "shift_name", "hour_start", "hour_end", "local_hour")
HOURLY_COLUMNS += ("products", "good_count", "target_count", "cumulative_good", "cumulative_target", "gap")
ORDER_COLUMNS = ("site", "area", "line", "machine", "is_output_machine", "order_id", "product", "product_name")
ORDER_COLUMNS += ("status", "planned_qty", "planned_start", "planned_end", "actual_start", "actual_end")
ORDER_COLUMNS += ("good_count", "completion", "oee", "estimated_end")
CHANGEOVER_COLUMNS = ("site", "area", "line", "machine", "from_product", "to_product", "start", "end", "day")
CHANGEOVER_COLUMNS += ("duration_s", "target_s", "over_target_s")


@dataclass(frozen=True)
class HourRow:
    """One hour of the line's output machine (production_hourly, level 'line'); cumulative since shift start."""

    shift_name: str | None
    local_hour: dt.datetime  # the plant's wall clock
    products: str | None
    good_count: int | None
    target_count: float | None
    cumulative_good: float | None
    cumulative_target: float | None
    gap: float | None

    @property
    def gap_units(self) -> int | None:
        """The gap in whole units (the page's numbers and the shift's gap text round alike)."""
        gap = finite(self.gap)
        return None if gap is None else round(gap)

    @property
    def empty(self) -> bool:
        return not (finite(self.good_count) or finite(self.target_count))


@dataclass(frozen=True)
class ShiftGap:
    """Where a shift's output stood against its target at its last hour with a gap."""

    shift_name: str | None
    gap: int  # cumulative good - cumulative target, rounded to whole units
    since: dt.datetime | None  # the first hour of the last unbroken run behind (or ahead) of target

    @property
    def text(self) -> str:
        if self.gap == 0:
            return "on target"
        side = "behind" if self.gap < 0 else "ahead"
        since = f" since {self.since:%H:%M}" if self.since is not None else ""
        return f"{abs(self.gap):,} {side}{since}"


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    product: str | None
    product_name: str | None
    status: str | None
    planned_qty: float | None
    good_count: int | None
    completion: float | None
    oee: float | None
    estimated_end: dt.datetime | None


@dataclass(frozen=True)
class ChangeoverRow:
    machine: str
    from_product: str | None
    to_product: str | None
    start: dt.datetime | None
    duration_s: float | None
    target_s: float | None
    over_target_s: float | None
    end: dt.datetime | None  # NULL while the changeover is under way (no count of the new product yet)

    @property
    def over_target(self) -> bool:
        over = finite(self.over_target_s)
        return over is not None and over > 0


@dataclass
class Production:
    """A line's production on the day; the lists are empty where the mart has no rows for it."""

    hours: list[HourRow]
    orders: list[OrderRow]
    changeovers: list[ChangeoverRow]

    @property
    def gaps(self) -> list[ShiftGap]:
        return shift_gaps(self.hours)

    @property
    def shown_hours(self) -> list[HourRow]:
        """The hours from the first to the last with a good unit or a target: not the empty night before the
        first shift or after the last."""
        filled = [i for i, h in enumerate(self.hours) if not h.empty]
        return self.hours[filled[0] : filled[-1] + 1] if filled else []


def shift_gaps(hours: list[HourRow]) -> list[ShiftGap]:
    """Per shift (in the order the hours run), the last hour's gap and since when the line has been on that
    side of its target: the cumulative figures start again at each shift, so a gap never spans shifts."""
    out: list[ShiftGap] = []
    shifts: dict[str | None, list[HourRow]] = {}
    for hour in hours:
        shifts.setdefault(hour.shift_name, []).append(hour)
    for name, rows in shifts.items():
        known = [(h.local_hour, h.gap_units) for h in rows if h.gap_units is not None]
        if not known:
            continue
        last = known[-1][1]
        since = None
        if last != 0:
            for local_hour, gap in reversed(known):
                if (gap < 0) != (last < 0) or gap == 0:
                    break
                since = local_hour
        out.append(ShiftGap(name, last, since))
    return out


def load(con, day: dt.date, usable) -> dict[LineKey, Production]:
    """Each line's production on `day`; lines without a row in any of the three marts are left out."""
    out: dict[LineKey, Production] = {}

    def entry(key: LineKey) -> Production:
        return out.setdefault(key, Production([], [], []))

    bounds = None
    if usable(HOURLY_TABLE, HOURLY_COLUMNS):
        rows = con.sql(
            # the plant's wall clock: the session's time zone is the plant's (data.py); local_hour is a label
            f"select site, area, line, shift_name, hour_start::timestamp, products, good_count, target_count, "
            f"cumulative_good, cumulative_target, gap from {HOURLY_TABLE} where level = 'line' and day = ? "
            f"order by site, area, line, hour_start",
            params=[day],
        ).fetchall()
        for r in rows:
            entry(_key(r)).hours.append(HourRow(*r[3:]))
        # the production day's hours tile it: it starts at its first hour and ends a wall-clock day later
        bounds = con.sql(
            f"select min(hour_start), (min(hour_start)::timestamp + interval 1 day)::timestamptz from {HOURLY_TABLE} "
            f"where day = ?",
            params=[day],
        ).fetchall()[0]
    if usable(ORDER_TABLE, ORDER_COLUMNS):
        for key, row in _orders(con, day, bounds):
            entry(key).orders.append(row)
    if usable(CHANGEOVER_TABLE, CHANGEOVER_COLUMNS):
        rows = con.sql(
            f"select site, area, line, machine, from_product, to_product, start, duration_s, target_s, "
            f'over_target_s, "end" from {CHANGEOVER_TABLE} where day = ? order by site, area, line, start, machine',
            params=[day],
        ).fetchall()
        for r in rows:
            entry(_key(r)).changeovers.append(ChangeoverRow(str(r[3]), *r[4:]))
    return out


def _orders(con, day: dt.date, bounds) -> list[tuple[LineKey, OrderRow]]:
    # The production day's bounds are those of its hours where production_hourly has them (a plant's day may
    # start at 06:00, and is 23 or 25 h long when the clocks change); else the calendar day on the plant's
    # clock (the session's time zone, set in data.py).
    if bounds is None or bounds[0] is None:
        day_window = "select ?::timestamptz as day_start, (? + interval 1 day)::timestamptz as day_end"
        params: list[object] = [day, day]
    else:
        day_window, params = "select ?::timestamptz as day_start, ?::timestamptz as day_end", list(bounds)
    # An order's window: actual start (else planned) to actual end; a running order's stays open.
    rows = con.sql(
        f"""
        with windows as (
            select *,
                coalesce(actual_start, planned_start) as window_start,
                case when actual_end is not null then actual_end
                     when actual_start is not null then 'infinity'::timestamptz
                     else planned_end end as window_end
            from {ORDER_TABLE}
            where is_output_machine
        ),
        day_window as ({day_window})
        select site, area, line, order_id, product, product_name, status, planned_qty, good_count, completion,
            oee, estimated_end
        from windows, day_window
        where window_start < day_end and coalesce(window_end, window_start) > day_start
        order by site, area, line, window_start, order_id
        """,
        params=params,
    ).fetchall()
    return [(_key(r), OrderRow(str(r[3]), *r[4:])) for r in rows]


def _key(row) -> LineKey:
    return ("" if row[0] is None else str(row[0]), "" if row[1] is None else str(row[1]), str(row[2]))


def completion(value: object) -> str:
    """An order's good units over its planned quantity: above 100 % is an order made beyond its plan, a
    negative or undefined share is never shown as a percentage."""
    number = finite(value)
    if number is None:
        return "no data"
    return "n/a (negative)" if number < 0 else f"{number * 100:.1f} %"


def clock(value: object) -> str:
    """A time of day on the plant's clock (the marts' session time zone), "no data" where missing."""
    return f"{value:%H:%M}" if isinstance(value, dt.datetime) else "no data"


def stamp(value: object) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, dt.datetime) else "no data"
