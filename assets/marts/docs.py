"""The analysts' reference of the marts, written from the published file's own descriptions (which come
from sql/marts/<mart>.yml) and each mart's grain and audit checks.

`python -m assets.marts.docs data/lakehouse/marts.duckdb > docs/marts.md` regenerates it; a
test keeps docs/marts.md in step with what the marts hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from assets.marts.ops import OPS_TABLES, SCHEMA
from assets.marts.registry import all_marts

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

## Stops, failures and the Pareto count planned production time

`downtime_events` keeps every stop whole, and splits its seconds into exactly one of `in_planned_time_s`,
`in_breaks_s`, `outside_shifts_s` and `not_modelled_yet_s` (they add up to `duration_s`). `downtime_pareto`
ranks only the seconds in planned production time, and leaves out a stop with none. In `reliability_daily`
and `reliability_monthly` a failure is an unplanned stop, neither a minor stop nor a data gap, with time in
planned production time; its failure time is that time alone. A jam shown through every break is therefore
no failure per break, and a machine with no state at night outside the shifts is not the top stop.
MTBF = run time / failures, MTTR = failure time / failures.

## Counters: jitter is not a reset

A counter reading counts the pieces made since the reading before it, in the window it closes. Each
increment is measured from the counter's high since its last reset or wrap: a reading at most
`counter_backstep_tolerance` (plant YAML, per machine, default 10) below the high is jitter and counts
nothing until the counter passes its high again; a reading further below is a wrap at `counter_rollover`
or a reset, told apart by the rate it would imply. A negative or fractional reading is a bad reading,
counted nowhere. `data_quality_daily` counts each counter's resets, wraps, back-steps and bad readings per
day.

## Energy is never extrapolated

A power (kW) reading stands until the tag's next reading, but at most the max gap (`energy_max_gap_s` of
the machine or of `modelling` in the plant YAML, else three typical reading intervals: the lower median
spacing of the tag's readings); beyond it the energy is unknown, not invented. The last reading of a
series, which no later reading closes yet, stands for one typical interval. An interval-energy reading
covers its interval. A meter step is spread evenly between its two readings; a step across more than the
max gap is known in total but not where it fell, and is flagged. Unknown seconds are in
`data_quality_daily.energy_unknown_s`, and an `energy_daily` row that rests on them has
`data_quality_ok = false` with the reason.

## Data-quality flags

`oee_daily.data_quality_ok` is false, with the reasons in `data_quality_reason`, where a machine-day has
no valid state for more than 1 % of planned time (at least a minute), no counter reading for 30 min while
running, more than 5 % bad counter readings, a counter that reset more than once, a counter reading that
is negative or fractional, or a performance above 1.01 (the ideal cycle time or the counts are wrong: a
plant engineer must see it, not a 102 % performance). With a products catalog in the plant YAML, more than
1 % of run time on product 'unknown' flags the day too (`data_quality_daily.unknown_product_run_s` on the
machine's state tag). A line's flag is false when any machine's is.

## Products: performance at each product's rate

Each counted unit takes the ideal cycle time of the product running on the machine when it was counted
(`silver__production_runs`: the machine's product tag, else the order covering the time; the plant YAML's
`products`, a machine's override first). Ideal time is the sum of those, fully productive time that of the
good units, quality fully productive over ideal time (good / total on one product), and OEE fully productive
over planned time; `ideal_cycle_time_s` on an OEE row is ideal time over total count. Where no product is
known ('unknown') the machine's own ideal cycle time applies and nothing is dropped. A plant without a
catalog keeps its numbers. `oee_product_daily` splits each machine-day by product: every second and every
count goes to the product running at the time.

## Write, audit, publish

A publish builds the marts in a copy beside the published file and audits the days it rebuilt, and the
shifts that start in them (`sql/audit/marts_audit.sql`), before the copy replaces the file: run <= planned
<= scheduled <= calendar time; availability, quality and OEE in 0..1 (OEE up to the performance where that
is above 1); performance in 0..1.5; times and counts >= 0; every second of a machine-day in exactly one
category; the machine states tiling the day; line and site times equal to the sums over their machines,
and their output counts to those of their output machines. A
day that fails is not published: the file and the gold tables keep the previous numbers, and the run fails
naming the day, the machine, the check and the values.
"""

OPS_INTRO = """## The `ops` schema: how the data arrived

Beside the marts, each publish writes three tables in the schema `ops` from bronze as it is then: what
landed, what was quarantined and which tags exist. The CLI answers the same questions live
(`iiot-lakehouse tags`, `iiot-lakehouse quarantine`, `iiot-lakehouse status`).

```sql
select tag, points, bad_share from ops.tag_catalog where not mapped order by points desc;
select source_file, reason, rows_quarantined, first_line, first_raw from ops.quarantine_summary;
select source_file, status, rows_landed, rows_quarantined, landed_at from ops.file_ledger limit 10;
```
"""


def render_marts_reference(marts_file: Path) -> str:
    """Markdown: each mart with its description, then its columns with type and description."""
    con = duckdb.connect(str(marts_file), read_only=True)
    try:
        parts = [INTRO]
        for mart in all_marts():
            rows = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where table_name = ? and schema_name = 'main' order by column_index",
                [mart.name],
            ).fetchall()
            audited = f" Audited before publishing: {', '.join(f'`{c}`' for c in mart.checks)}." if mart.checks else ""
            parts.append(
                f"## `{mart.name}`\n\n{mart.description}\n\nGrain: {mart.grain}{audited}\n\n"
                "| column | type | meaning |\n|---|---|---|"
            )
            for name, dtype, comment in rows:
                parts.append(f"| `{name}` | {dtype} | {(comment or '').replace('|', '/')} |")
            parts.append("")
            if mart.examples:
                parts.append("Examples:\n")
                for title, sql in mart.examples:
                    parts.append(f"{title}\n\n```sql\n{sql}\n```\n")
        parts.append(OPS_INTRO)
        for name, _spec, _view, description, _docs in OPS_TABLES:
            rows = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where table_name = ? and schema_name = ? order by column_index",
                [name, SCHEMA],
            ).fetchall()
            parts.append(f"### `{SCHEMA}.{name}`\n\n{description}\n\n| column | type | meaning |\n|---|---|---|")
            for column, dtype, comment in rows:
                parts.append(f"| `{column}` | {dtype} | {(comment or '').replace('|', '/')} |")
            parts.append("")
        return "\n".join(parts).rstrip() + "\n"
    finally:
        con.close()


if __name__ == "__main__":
    sys.stdout.write(render_marts_reference(Path(sys.argv[1])))
