"""Fast synthetic AVEVA Historian CSV exports, generated and written by DuckDB.

The demo generator simulates a plant for realism; this one is for volume: a 1 GB export takes seconds.
The rows have the demo's shape (local wall-clock DateTime without offset, Value and vValue, Quality,
QualityDetail, OPCQuality, wwRetrievalMode), sorted by time then tag. Every value is a function of
(tag, time) only, so an overlapping re-export repeats the same rows exactly: pure duplicates.

Signals: a state code per machine sampled every minute (mostly running, some jams, changeovers and
breakdowns in ten-minute blocks); total and reject counters every 30 s that count at the ideal rate and
wrap at 65536; a cumulative kWh meter every minute; condition-monitoring sensors at `sensor_period_ms`.
About one row in a thousand has bad quality.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from .plant import BenchTag

HEADER_COLUMNS = ("DateTime", "TagName", "Value", "vValue", "Quality", "QualityDetail", "OPCQuality", "wwRetrievalMode")
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
PERIOD_MS = {"state": 60_000, "total": 30_000, "reject": 30_000, "kwh": 60_000}

_EXPORT_SQL = """
copy (
    with ticks as (
        select t.tag, t.tag_rank, t.kind, t.machine, t.cycle_s, r.range as ms
        from tags as t
        join (select range from range($t0_ms, $t1_ms, $base_ms)) as r
            on r.range % t.period_ms = 0
    ),
    valued as (
        select
            ms, tag_rank, tag,
            case kind
                when 'state' then
                    case hash(machine, ms // 600000) % 40 when 0 then 3 when 1 then 2 when 2 then 5 else 1 end::varchar
                when 'total' then ((ms - $epoch_ms) // cast(cycle_s * 1000 as bigint) % 65536)::varchar
                when 'reject' then ((ms - $epoch_ms) // cast(cycle_s * 50000 as bigint) % 65536)::varchar
                when 'kwh' then round((ms - $epoch_ms) / 3.6e6 * (5 + machine % 7), 3)::varchar
                else round(50 + 10 * sin(ms / 6.0e5 + tag_rank) + (hash(tag_rank, ms) % 1000) / 500.0, 3)::varchar
            end as v,
            hash(tag_rank, ms, 'q') % 1000 = 0 as bad
        from ticks
    ),
    final as (
        select
            strftime(timezone($tz, make_timestamp(ms * 1000)::timestamptz), '%Y-%m-%d %H:%M:%S.%g') as "DateTime",
            tag as "TagName",
            v as "Value",
            v as "vValue",
            case when bad then 1 else 0 end as "Quality",
            case when bad then 249 else 192 end as "QualityDetail",
            case when bad then 0 else 192 end as "OPCQuality",
            'Delta' as "wwRetrievalMode"
        from valued
        order by ms, tag_rank
    )
    select * from final
) to '{out}' (format csv, header true)
"""


def tags_table(tags: list[BenchTag], sensor_period_ms: int) -> pa.Table:
    return pa.table(
        {
            "tag": [t.tag for t in tags],
            "tag_rank": list(range(len(tags))),
            "kind": [t.kind for t in tags],
            "machine": [t.machine for t in tags],
            "cycle_s": [t.cycle_s for t in tags],
            "period_ms": [PERIOD_MS.get(t.kind, sensor_period_ms) for t in tags],
        }
    )


def write_export(
    path: Path,
    tags: list[BenchTag],
    start: dt.datetime,
    end: dt.datetime,
    sensor_period_ms: int = 1000,
    timezone: str = "Europe/Berlin",
) -> int:
    """Write the export of [start, end) (UTC) to `path` and return its data rows."""
    periods = [PERIOD_MS.get(t.kind, sensor_period_ms) for t in tags]
    base_ms = _gcd(periods)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        con.execute("SET enable_progress_bar = false").fetchall()
        con.register("tags", tags_table(tags, sensor_period_ms))
        # COPY ... TO takes no bind parameter for its target; the path is ours.
        rows = con.execute(
            _EXPORT_SQL.replace("{out}", str(path).replace("'", "''")),
            {
                "t0_ms": _ms(start),
                "t1_ms": _ms(end),
                "base_ms": base_ms,
                "epoch_ms": _ms(EPOCH),
                "tz": timezone,
            },
        ).fetchall()
    finally:
        con.close()
    return int(rows[0][0]) if rows else 0


def rows_per_day(tags: list[BenchTag], sensor_period_ms: int) -> int:
    return sum(86_400_000 // PERIOD_MS.get(t.kind, sensor_period_ms) for t in tags)


def _ms(when: dt.datetime) -> int:
    return int(round(when.timestamp() * 1000))


def _gcd(values: list[int]) -> int:
    import math

    out = 0
    for v in values:
        out = math.gcd(out, v)
    return out or 1000
