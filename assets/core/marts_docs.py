"""The analysts' reference of the marts, written from the published file's own descriptions.

`python -m assets.core.marts_docs data/lakehouse/marts.duckdb > docs/marts.md` regenerates it; a
test keeps docs/marts.md in step with what the marts hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from .marts import MARTS

INTRO = """# The marts: a reference for analysts

The pipeline publishes every mart as a table in `$LAKEHOUSE_ROOT/marts.duckdb`. The file is replaced
atomically on each publish, so open it read-only and keep it open as long as you like:

```bash
duckdb -readonly data/lakehouse/marts.duckdb
```

Conventions: times are in seconds (`*_s`), counts in units, energy in kWh; timestamps are
`timestamp with time zone` (UTC inside the file; set `SET TimeZone = 'Europe/Berlin'` to read them in
plant time); `day` is the production day, the plant-local date on which it starts. The same
descriptions are in the file (`select * from duckdb_columns()`).

## One rule for "no value"

A ratio is NULL where its denominator is 0, and only there:

- availability = run time / planned production time;
- performance = ideal time (total count x ideal cycle time) / run time: NULL where run time is 0;
- quality = good count / total count: NULL where the total count is 0;
- OEE = fully productive time (good count x ideal cycle time) / planned production time: NULL only where
  planned production time is 0. A machine stopped through its whole shift has availability 0 and OEE 0
  (its performance and quality are NULL: it ran no time and counted nothing);
- teep = fully productive time / calendar time (= OEE x utilization); utilization = planned production
  time / calendar time;
- kWh per good unit = kWh / good units (NULL without a good unit); MTBF and MTTR = time / failures
  (NULL without a failure).

Where availability, performance and quality are all defined, availability x performance x quality = OEE,
on every row of every mart and at every level.

## Roll-ups across machines that make different things

The machines of a line count different things (a filler's bottles, a packer's packs of six), so counts
are never added across machines. Line, site and period roll-ups add **time** and recompute the ratios:

- machine times (planned production, run, stops, ideal time, fully productive time) are summed over the
  machines (machine-seconds);
- performance = sum(total x ideal cycle) / sum(run); quality = sum(good x ideal cycle) / sum(total x ideal
  cycle); OEE = sum(good x ideal cycle) / sum(planned), so availability x performance x quality = OEE on
  every roll-up row too;
- a line's output (its good units, and the units of its kWh per good unit) is the count of its **output
  machine**: `output_machine` of the line in the plant YAML, by default its last machine. Line rows carry
  it as `output_total_count`, `output_good_count`, `output_reject_count`; a site's output is the sum of its
  lines' outputs. Line and site rows have no `good_count`/`total_count`: a sum over machines is no count of
  anything the line made. `energy_daily` and `energy_shift` use the same output for `good_count` and
  `kwh_per_good_unit` on line and site rows;
- a roll-up row's `calendar_time_s` is the window's own length: a line-day's is the day's 86,400 s
  (82,800 or 90,000 on the days the clocks change), a line-shift's the shift's length. The sum over the
  machines is `machine_calendar_time_s` (and `machine_scheduled_time_s` for scheduled time); teep and
  utilization of a roll-up divide by it.

To roll up further yourself (weeks, months, several lines), sum the times and the output counts and
recompute the ratios as above; never average percentages.
"""


def render_marts_reference(marts_file: Path) -> str:
    """Markdown: each mart with its description, then its columns with type and description."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        parts = [INTRO]
        for mart in MARTS:
            rows = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where table_name = ? and schema_name = 'main' order by column_index",
                [mart.name],
            ).fetchall()
            parts.append(f"## `{mart.name}`\n\n{mart.description}\n\n| column | type | meaning |\n|---|---|---|")
            for name, dtype, comment in rows:
                parts.append(f"| `{name}` | {dtype} | {(comment or '').replace('|', '/')} |")
            parts.append("")
        return "\n".join(parts).rstrip() + "\n"
    finally:
        con.close()


if __name__ == "__main__":
    sys.stdout.write(render_marts_reference(Path(sys.argv[1])))
