"""Data-logger CSV exports, wide: a timestamp column, then one column per channel.

Options (see options.py for defaults): delimiter, decimal_comma (`3,14`; a `.` before a decimal comma
is a thousands separator), encoding (utf-8 with or without BOM, utf-16, latin-1, ...),
timestamp_column (default: the first column), timestamp_format (strptime, e.g. `%d/%m/%Y %H:%M`;
default ISO 8601), tag_prefix (prepended to each channel name), channels / skip_columns (which columns
to read), interval_label and midnight_label.

* `interval_label: end` — the logger stamps a reading at the end of its interval. Points are stored at
  the interval's start (label minus `interval_minutes`; without it, the most common step between the
  first lines of the file), so that a reading counts for the period it was measured in.
* `midnight_label: true` — the logger labels the reading ending at midnight with the date that is
  ending (`01/01/2018 23:45` is followed by `01/01/2018 00:00`). A `00:00` line whose previous line is
  later on the same date is moved to the next day.

Every non-empty cell is one input row (see ignition.py); text in a channel is rejected as not a number.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.plant import Source
from .csv_stream import FileRejected, read_header
from .ignition import read_wide_csv
from .parsed import ParsedBatch
from .rows import RowFinisher, RowRules, source_times

DAY_US = 86_400_000_000


class MidnightFix:
    """Moves a `00:00` label that follows a later time of the same date to the next day (across batches)."""

    def __init__(self) -> None:
        self.last: int | None = None
        self.moved = 0

    def __call__(self, times: pa.Table) -> pa.Table:
        local = times["local_ts"].cast(pa.timestamp("us"))
        if len(local) == 0:
            return times
        values = local.cast(pa.int64()).to_numpy(zero_copy_only=False).astype("float64")  # NaN for null
        prev = np.concatenate(([np.nan if self.last is None else self.last], values[:-1]))
        midnight = np.mod(values, DAY_US) == 0
        same_day_later = (np.floor_divide(prev, DAY_US) * DAY_US == values) & (prev > values)
        fix = midnight & same_day_later
        valid = ~np.isnan(values)
        if valid.any():
            self.last = int(values[valid][-1] + (DAY_US if fix[valid][-1] else 0))
        if not fix.any():
            return times
        self.moved += int(fix.sum())
        ints = local.cast(pa.int64()).to_numpy(zero_copy_only=False)
        fixed = pa.array(np.where(fix, ints + DAY_US, ints), pa.int64(), mask=~valid).cast(pa.timestamp("us"))
        return times.set_column(times.column_names.index("local_ts"), "local_ts", fixed)


class IntervalStep:
    """The interval of end-labelled readings: configured, or the most common step of the first lines."""

    def __init__(self, minutes: float | None) -> None:
        self.step = None if minutes is None else dt.timedelta(minutes=minutes)

    def learn(self, times: pa.Table) -> None:
        if self.step is not None:
            return
        instants = pc.coalesce(times["utc_ts"], times["local_ts"].cast(pa.timestamp("us", tz="UTC")))
        ints = instants.drop_null().cast(pa.int64()).to_numpy(zero_copy_only=False)[:1000]
        steps = [int(d) for d in np.diff(ints) if d > 0]
        if not steps:
            raise FileRejected(
                "interval_label is end but the interval cannot be inferred from the first lines; "
                "set options.interval_minutes"
            )
        self.step = dt.timedelta(microseconds=Counter(steps).most_common(1)[0][0])


def read_sensor_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a wide data-logger export into batches of points and rejected cells."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    lower = [h.lower() for h in header]
    wanted_ts = options["timestamp_column"]
    if wanted_ts is None:
        ts_index = 0
    elif wanted_ts.lower() in lower:
        ts_index = lower.index(wanted_ts.lower())
    else:
        raise FileRejected(f"header lacks the timestamp column {wanted_ts}; found {', '.join(header[:12])}")
    skip = {s.lower() for s in options["skip_columns"]}
    if options["channels"] is not None:
        missing = [c for c in options["channels"] if c.lower() not in lower]
        if missing:
            raise FileRejected(f"header lacks channel column(s) {', '.join(missing)}; found {', '.join(header[:12])}")
        picked = [lower.index(c.lower()) for c in options["channels"]]
    else:
        picked = [i for i in range(len(header)) if i != ts_index and lower[i] not in skip]
    if not picked:
        raise FileRejected("no channel column to read after the timestamp column")
    if any(not header[i].strip() for i in picked):
        raise FileRejected("a channel column of the header has no name")
    tags = [(i, options["tag_prefix"] + header[i].strip()) for i in picked]

    rules = RowRules(
        timezone=source.timezone,
        **source_times(options),
        text_values=False,
        decimal_comma=options["decimal_comma"],
        time_label=header[ts_index].strip() or "timestamp",
    )
    midnight = MidnightFix() if options["midnight_label"] else None
    step = IntervalStep(options["interval_minutes"]) if options["interval_label"] == "end" else None

    def adjust(times: pa.Table) -> pa.Table:
        if midnight is not None:
            times = midnight(times)
        if step is not None:
            step.learn(times)
        return times

    for batch in read_wide_csv(stream_opener, RowFinisher(rules), header, ts_index, tags, encoding, delimiter, adjust):
        if step is not None and batch.points.num_rows:
            shifted = pc.subtract(batch.points["ts"], pa.scalar(step.step, pa.duration("us")))
            batch = ParsedBatch(points=batch.points.set_column(1, "ts", shifted), rejects=batch.rejects)
        yield batch
