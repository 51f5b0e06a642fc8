"""Whether a production day's marts were published: the day watermark's marts row, or else the published
marts file holding the day; and which day is due by now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.marts.published import fetch_published_marts
from assets.plant.calendar import production_day_of, production_day_window
from assets.plant.config import PlantConfig
from assets.silver.watermarks import bronze_input_days, read_builds

__all__ = ["DayPublication", "day_publication", "due_day"]

_ONE_DAY = dt.timedelta(days=1)


def due_day(config: PlantConfig, now: dt.datetime) -> dt.date | None:
    """The newest production day whose marts are due by `now`: it ended at least automation.publish_within
    ago. None before calendar.first_day is due."""
    running = production_day_of(config, now - config.automation.publish_within)
    day = running - _ONE_DAY
    return day if day >= config.calendar.first_day else None


@dataclass(frozen=True)
class DayPublication:
    """A due day: its deadline, whether points feeding it have landed, and when its marts were published
    (None: not yet)."""

    day: dt.date
    deadline: dt.datetime
    has_data: bool
    published_at: dt.datetime | None


def day_publication(
    lakehouse_root: str, config: PlantConfig, day: dt.date, storage_options: dict[str, str] | None = None
) -> DayPublication:
    deadline = production_day_window(config, day)[1] + config.automation.publish_within
    has_data = day in bronze_input_days(lakehouse_root, config, storage_options)
    builds = read_builds(lakehouse_root, storage_options) or {}
    marts = builds[day].marts if day in builds else None
    # a lakehouse published before it kept the watermark has the day in its marts file only
    published = marts[1] if marts else _in_published_file(lakehouse_root, day, storage_options)
    return DayPublication(day, deadline, has_data, published)


def _in_published_file(lakehouse_root: str, day: dt.date, storage_options: dict[str, str] | None) -> dt.datetime | None:
    path: Path = fetch_published_marts(lakehouse_root, storage_options)
    if not path.exists():
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        (rows,) = con.execute("select count(*) from oee_daily where day = ?", [day]).fetchone()
    except duckdb.CatalogException:  # published before oee_daily existed
        return None
    finally:
        con.close()
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) if rows else None
