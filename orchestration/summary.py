"""The short per-line OEE and energy tables the CLI prints at the end of a run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb

from assets.marts.inputs import SQL_DIR, register_oee_ratios

SUMMARY_SQL_DIR = SQL_DIR / "summary"


def _rows(marts_file: Path, query_file: str, days: Sequence[dt.date]) -> list[tuple]:
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        register_oee_ratios(con)
        query = (SUMMARY_SQL_DIR / query_file).read_text(encoding="utf-8")
        return con.execute(query, {"days": list(days)}).fetchall()
    finally:
        con.close()


def _pct(value) -> str:
    # A second guard behind the audit: a ratio outside 0..1 is never printed as a percentage.
    if value is None or not 0 <= value <= 1 + 1e-9:
        return "   n/a"
    return f"{100 * value:5.1f}%"


def line_oee_table(marts_file: Path, days: Sequence[dt.date]) -> str:
    """OEE per line over the days, rolled up through ideal time; a plant without a machine with OEE says so."""
    rows = _rows(marts_file, "line_oee.sql", days)
    first, last = min(days), max(days)
    lines = [f"OEE per line, production days {first} .. {last}"]
    if not rows:
        lines.append("  no OEE: no machine has a state tag and counters (energy and sensor figures only)")
        return "\n".join(lines)
    lines.append(
        f"{'line':<8}{'days':>5}{'planned h':>11}{'avail.':>9}{'perf.':>9}{'quality':>9}{'OEE':>9}{'good units':>13}"
    )
    for line, n_days, planned_h, availability, performance, quality, oee, good_units in rows:
        lines.append(
            f"{line:<8}{n_days:>5}{planned_h or 0:>11.1f}{_pct(availability):>9}{_pct(performance):>9}"
            f"{_pct(quality):>9}{_pct(oee):>9}{round(good_units or 0):>13,}"
        )
    return "\n".join(lines)


def line_energy_table(marts_file: Path, days: Sequence[dt.date]) -> str:
    """kWh per line over the days (every machine and monitoring asset of the line), or '' without energy."""
    rows = _rows(marts_file, "line_energy.sql", days)
    rows = [r for r in rows if r[2]]
    if not rows:
        return ""
    first, last = min(days), max(days)
    lines = [
        f"Energy per line, production days {first} .. {last}",
        f"{'line':<8}{'days':>5}{'kWh':>13}{'outside shifts':>16}{'days flagged':>14}",
    ]
    for line, n_days, kwh, kwh_outside, flagged in rows:
        lines.append(f"{line:<8}{n_days:>5}{kwh:>13,.1f}{kwh_outside or 0:>16,.1f}{flagged:>14}")
    return "\n".join(lines)
