"""The marts' side of the doctor: built production days whose marts are out of date, and copies of the marts
file left by a publish that did not finish."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from assets.marts.publish import stale_days
from assets.marts.published import MARTS_FILE, marts_path
from assets.silver import watermarks
from assets.storage.lakehouse import Lakehouse

from .problems import Problem

_BUILDING = re.compile(rf"^\.{re.escape(MARTS_FILE)}\.building-(\d+)(\.wal)?$")


def check_marts_up_to_date(lakehouse: Lakehouse, config, now: dt.datetime | None = None) -> list[Problem]:
    """Every built production day's marts are as new as the silver and bronze they come from, by the
    day watermark (assets/silver/watermarks.py); a day still running is not a problem yet."""
    return [
        Problem(
            "marts", MARTS_FILE, f"production day {stale.day} is out of date: {stale.reason}", "stale_day", stale.day
        )
        for stale in watermarks.ended(
            config, stale_days(lakehouse.root, config, lakehouse.storage_options), now or dt.datetime.now(dt.UTC)
        )
    ]


def building_files(lakehouse: Lakehouse) -> list[Path]:
    """Copies of the marts file left by a publish that did not finish (its process is gone)."""
    folder = marts_path(lakehouse.root).parent
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        m = _BUILDING.match(path.name)
        if m and not _alive(int(m.group(1))):
            found.append(path)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_building_files(lakehouse: Lakehouse) -> list[Problem]:
    return [
        Problem("marts", path.name, "copy left by a marts publish that did not finish", "building", path)
        for path in building_files(lakehouse)
    ]
