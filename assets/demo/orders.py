"""The demo's work orders: one order per run of each line whose machines have no product tag (those learn
what they make from the orders export), written as the MES exports them, one file per production day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assets.demo.formats import write_orders_csv
from assets.demo.machine_days import DemoPlant
from assets.plant.config import Source

MINUTE_MS = 60_000
PLAN_STEP_MS = 15 * MINUTE_MS  # the planner schedules on the quarter hour
PLANNED_RATE = 0.85  # the share of the output machine's ideal rate an order is planned at


def order_lines(plant: DemoPlant) -> list[int]:
    """The lines the orders export serves: a catalog exists and no OEE machine of the line has a product tag."""
    if not plant.config.products:
        return []
    return [
        li
        for li, line in enumerate(plant.config.lines)
        if line.oee_machines and not any(m.product_tag for m in line.oee_machines)
    ]


def day_orders(plant: DemoPlant, day: int) -> list[dict[str, Any]]:
    """The production day's orders, one dict per order with the orders_csv header's keys.

    Actual start and end are the run's window (from the moment its line's last machine stopped for the
    changeover before it); the plan is the changeover's start on the quarter hour before it; the planned
    quantity is the planned hours at ``PLANNED_RATE`` of the line's output machine's ideal rate.
    """
    tz = plant.tz
    rows = []
    for li in order_lines(plant):
        line = plant.config.lines[li]
        output = next(m for m in line.oee_machines if m.name == line.output_machine)
        runs = plant.products.line_day(li, day).runs
        planned = [(r.start if r.switch is None else r.switch) // PLAN_STEP_MS * PLAN_STEP_MS for r in runs]
        planned_ends = planned[1:] + [runs[-1].end] if runs else []
        for k, (run, p_start, p_end) in enumerate(zip(runs, planned, planned_ends, strict=True), start=1):
            cycle_s = plant.config.ideal_cycle_time_s(output, run.product)
            qty = int(round((p_end - p_start) / 1000 / cycle_s * PLANNED_RATE, -1))
            rows.append(
                {
                    "order_id": f"{line.name}-{dt.date.fromordinal(day):%Y%m%d}-{k}",
                    "product": run.product,
                    "line": line.name,
                    "machine": None,  # every machine of the line
                    "planned_qty": qty,
                    "planned_start": _time(p_start, tz),
                    "planned_end": _time(p_end, tz),
                    "actual_start": _time(run.start, tz),
                    "actual_end": _time(run.end, tz),
                }
            )
    return rows


def write_order_files(folder: Path, plant: DemoPlant, source: Source, days: list[int]) -> list[Path]:
    """One export ``Orders_YYYYMMDD.csv`` per production day that has orders, in the source's time zone."""
    paths = []
    for day in days:
        rows = day_orders(plant, day)
        if rows:
            path = folder / f"Orders_{dt.date.fromordinal(day):%Y%m%d}.csv"
            paths.append(write_orders_csv(path, rows, source.timezone, source.options))
    return paths


def _time(ms: int, tz: ZoneInfo) -> dt.datetime:
    """The instant on the next whole second (the MES's resolution): a run's start stays after its line stopped."""
    return dt.datetime.fromtimestamp(-(-ms // 1000), dt.UTC).astimezone(tz)
