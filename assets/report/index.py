"""The reports folder as a reader walks it: index.html lists every daily report, newest first, and each
report links to the one before and after it. A report is written once but its neighbours change, so after
each write every report's navigation (between the <!--nav--> markers) is brought up to date."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import tempfile
from pathlib import Path

REPORT_RE = re.compile(r"^daily_report_(\d{4}-\d{2}-\d{2})\.html$")
NAV_RE = re.compile(r"<!--nav-->.*?<!--/nav-->", re.S)
INDEX = "index.html"


def report_filename(day: dt.date) -> str:
    return f"daily_report_{day.isoformat()}.html"


def report_days(out_dir: Path) -> list[dt.date]:
    days = []
    for path in Path(out_dir).iterdir():
        match = REPORT_RE.match(path.name)
        if match:
            days.append(dt.date.fromisoformat(match.group(1)))
    return sorted(days)


def nav_html(day: dt.date, days: list[dt.date]) -> str:
    """The links of one report: the index, the report of the production day before and after (if any)."""
    before = [d for d in days if d < day]
    after = [d for d in days if d > day]
    links = [f'<a href="{INDEX}">All reports</a>']
    if before:
        links.append(
            f'<a href="{report_filename(before[-1])}" rel="prev">&larr; Previous: {before[-1].isoformat()}</a>'
        )
    if after:
        links.append(f'<a href="{report_filename(after[0])}" rel="next">Next: {after[0].isoformat()} &rarr;</a>')
    return f'<!--nav--><nav class="reports">{"".join(links)}</nav><!--/nav-->'


def index_html(days: list[dt.date]) -> str:
    items = "".join(
        f'<li><a href="{report_filename(d)}">{html.escape(d.strftime("%A"))} {d.isoformat()}</a></li>'
        for d in reversed(days)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Daily reports</title>'
        "<style>body { font-family: sans-serif; margin: 24px; } li { margin: 4px 0; }</style></head><body>"
        f"<h1>Daily reports</h1><p>{len(days)} production day{'s' if len(days) != 1 else ''}, newest first.</p>"
        f"<ul>{items}</ul></body></html>\n"
    )


def refresh_reports(out_dir: Path) -> Path:
    """Rewrite index.html and every report's previous/next links from the reports in out_dir."""
    out_dir = Path(out_dir)
    days = report_days(out_dir)
    for day in days:
        path = out_dir / report_filename(day)
        page = path.read_text(encoding="utf-8")
        updated = NAV_RE.sub(lambda _m, day=day: nav_html(day, days), page, count=1)
        if updated != page:
            atomic_write(path, updated.encode("utf-8"))
    index = out_dir / INDEX
    atomic_write(index, index_html(days).encode("utf-8"))
    return index


def atomic_write(target: Path, data: bytes) -> None:
    """Write target atomically: a reader sees the old or the new file, never half of one."""
    out_dir = target.parent
    handle = tempfile.NamedTemporaryFile(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
