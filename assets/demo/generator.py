"""A deterministic demo bottling plant that writes AVEVA/Wonderware Historian CSV exports.

The demo exists so that the whole pipeline (landing CSVs -> Delta tables -> OEE marts) can run
without a real plant. The files must therefore look like what a historian really exports, warts
included: store-on-change rows, counters that wrap and get reset, bad- and doubtful-quality rows,
plant-local timestamps without offset (so the autumn DST hour repeats), and one overlapping re-export.

Everything about the plant (machines, tags, state codes, cycle times, shifts, breaks, working days)
comes from the validated ``PlantConfig``. Every point is a function of the seed, the tag and the
time, never of ``start`` or ``days``: each production day of each machine draws from its own
generator, seeded from (seed, a stable hash of the machine's name, the day, the purpose), so a
30-day demo written over a 14-day one repeats the common days' rows exactly. What spans days is
built from days' own draws: a stop still on at a day's end carries into the next day, cumulative
counters and energy meters start each day at the sum of the earlier days' cheap totals since
``calendar.first_day``, and the PLC restart and the long repair fall on days that date rules pick.

Internally every instant is an integer of UTC milliseconds since the epoch; timestamps become
local wall-clock text only when the rows are written.

This module picks the source and the export ranges; the plant lives beside it: ``machine_days``
(the machines' states day by day and the cheap daily totals), ``counters`` and ``energy`` (the
counter and meter tags), ``simulation`` (the span of days, with the bad and doubtful rows),
``export_files`` (the files per source), on ``clock``, ``draws`` and ``streams``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assets.demo.clock import first_noon_at_or_after
from assets.demo.export_files import date_back, write_aveva_files, write_format_files
from assets.demo.formats import FORMATS, source_options_for
from assets.demo.machine_days import DemoPlant
from assets.demo.orders import write_order_files
from assets.demo.simulation import simulate
from assets.plant.config import PlantConfig, Source

SOURCE_FORMAT = "aveva_historian_csv"
ORDERS_FORMAT = "orders_csv"


def write_demo_exports(
    landing_root: Path,
    config: PlantConfig,
    start: dt.date,
    days: int = 14,
    seed: int = 7,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the demo plant's historian exports under landing_root/<source.folder>/ and return the paths written.

    One file ``History_YYYYMMDD.csv`` per production day (``calendar.day_start`` to the next day's
    ``day_start``, plant-local), plus, when ``days >= 4``, one overlapping re-export
    ``History_YYYYMMDD_reexport.csv`` from 12:00 of the 3rd production day to 12:00 of the 4th.
    The daily files come first in the returned list, in date order, then the re-export.

    The rows of a production day are the same whatever ``start`` and ``days`` are: only ``seed``
    (a different plant) changes them.

    ``fmt`` writes the same plant in another export format (see ``demo_source``): the files take that
    format's extension and go to the folder of the config's source of that format, else to
    landing_root/<fmt>/. What the format cannot carry is written as that system exports it (see
    ``formats.py``). The default, and ``aveva_historian_csv``, write the AVEVA files as before. Only the
    default also writes the orders export (``Orders_YYYYMMDD.csv`` per production day, after the historian's
    files) where the config has an ``orders_csv`` source: the products of the lines without a product tag.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    source = _historian_source(config) if fmt is None else demo_source(config, fmt, options)
    tz = ZoneInfo(source.timezone)
    plant = DemoPlant(config, tz, seed)

    first = start.toordinal()
    # One day either side of the written ones: what is in force at the first day's start, and
    # whether a run goes on past the last day's end, come from the days around them.
    sims = simulate(plant, first - 1, first + days)
    day_bounds = [plant.bounds(first + i)[0] for i in range(days)] + [plant.bounds(first + days - 1)[1]]

    streams = sorted((s for sim in sims for s in sim.streams), key=lambda s: s.tag)
    exports = [
        (f"History_{(start + dt.timedelta(days=i)):%Y%m%d}.csv", day_bounds[i], day_bounds[i + 1]) for i in range(days)
    ]
    if days >= 4:
        # An engineer exported an overlapping range a second time: same rows, own initial values.
        third = start + dt.timedelta(days=2)
        a = first_noon_at_or_after(tz, third, day_bounds[2])
        b = first_noon_at_or_after(tz, third + dt.timedelta(days=1), day_bounds[3])
        exports.append((f"History_{third:%Y%m%d}_reexport.csv", a, b))

    folder = Path(landing_root) / source.folder
    folder.mkdir(parents=True, exist_ok=True)
    if source.format != SOURCE_FORMAT:
        paths = write_format_files(folder, source, streams, exports)
    else:
        paths = write_aveva_files(folder, tz, streams, exports)
    orders = next((s for s in config.sources if s.format == ORDERS_FORMAT), None)
    if orders is not None and fmt is None:
        # The MES's orders export, one file per production day: the products of the lines without a product tag.
        orders_folder = Path(landing_root) / orders.folder
        # the folder even for a weekend without orders: a source's missing folder stops every run
        orders_folder.mkdir(parents=True, exist_ok=True)
        paths += write_order_files(orders_folder, plant, orders, list(range(first, first + days)))
    date_back(paths)
    return paths


def demo_source(config: PlantConfig, fmt: str, options: dict[str, Any] | None = None) -> Source:
    """Where and how the demo writes format ``fmt``: the config's source of that format if it has one
    (its folder, time zone and options), else folder ``<fmt>`` in the plant's time zone with ``options``
    (default: the options the format's reader needs for the demo's files)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    for source in config.sources:
        if source.format == fmt:
            return source
    chosen = source_options_for(fmt) if options is None else dict(options)
    return Source(name=fmt, format=fmt, folder=fmt, timezone=config.timezone, options=chosen)


# --------------------------------------------------------------------------------------- calendar


def _historian_source(config: PlantConfig) -> Source:
    for source in config.sources:
        if source.format == SOURCE_FORMAT:
            return source
    raise ValueError(f"the plant config has no source with format {SOURCE_FORMAT!r}")
