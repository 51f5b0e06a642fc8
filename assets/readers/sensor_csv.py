"""Data-logger CSV exports, wide: a timestamp column, then one column per channel.

Options (see options.py for defaults): delimiter, decimal_comma (`3,14`; a `.` before a decimal comma
is a thousands separator), encoding (utf-8 with or without BOM, utf-16, latin-1, ...),
timestamp_column (default: the first column), timestamp_format (strptime, e.g. `%d/%m/%Y %H:%M`;
default ISO 8601), tag_prefix (prepended to each channel name), channels / skip_columns (which columns
to read), interval_label, midnight_label, and where the header, units and data are:

* `header_line` (1-based physical line of the field names; default 1). Lines above it are a preamble
  (HOBOware's `Plot Title:` line: `header_line: 2`).
* `units_line` (optional): its cells are the columns' engineering units, kept in the tag catalog.
* `data_start_line` (default: the line after the header, or after the units line). Lines between the
  header and the data are skipped; quarantine and bronze keep every line's physical number.
* A Campbell Scientific TOA5 file (line 1 starts with `"TOA5"`: the station) is recognised without
  options: field names on line 2, units on line 3, processing (Smp, Avg, ...) on line 4, data from line 5.

Header cells are read as CSV: a quoted name keeps its commas (`"Date Time, GMT+01:00"`). A record
number is not a measurement and does not land: a first column named `#` (HOBOware; the time is then the
next column) and TOA5's RECORD, unless `channels` names them. A time column whose name states a fixed
offset (`Date Time, GMT+01:00`, as HOBOware writes it) is read in that offset instead of the source's
time zone: the logger's clock keeps no daylight-saving time. A logger's missing value (TOA5's `"NAN"`)
is quarantined as not finite, like any NaN; an empty cell is no value and no row.

* `interval_label: end` — the logger stamps a reading at the end of its interval. Points are stored at
  the interval's start (label minus `interval_minutes`; without it, the most common step between the
  first lines of the file), so that a reading counts for the period it was measured in.
* `midnight_label: true` — the logger labels the reading ending at midnight with the date that is
  ending (`01/01/2018 23:45` is followed by `01/01/2018 00:00`). A `00:00` line whose previous line is
  later on the same date is moved to the next day.

Every non-empty cell is one input row, a value (see ignition.py): the ledger's rows_in counts values, and
lines_in the data lines; text in a channel is rejected as not a number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.config import Source

from .csv_stream import FileRejected, header_fields, quoted_names, read_head_lines, split_line
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


@dataclass
class Layout:
    """Where a wide export's header, units and data are (1-based physical lines), and what it is."""

    header_line: int
    units_line: int | None
    data_start_line: int
    kind: str  # "toa5" (Campbell Scientific) or "csv"


def is_toa5(first_line: str) -> bool:
    """Whether a file's first line is a Campbell Scientific TOA5 station line (`"TOA5","station",...`)."""
    return first_line.lstrip("\ufeff").lstrip().lstrip('"').startswith("TOA5")


def file_layout(lines: list[str], options: dict) -> Layout:
    """The layout: the options where set, else TOA5's (header 2, units 3, processing 4, data 5) for a TOA5
    file, else a header on line 1 with the data on the line after it (or after the units line)."""
    toa5 = bool(lines) and is_toa5(lines[0])
    header_line = options["header_line"] or (2 if toa5 else 1)
    units_line = options["units_line"]
    if units_line is None and toa5 and options["header_line"] is None:
        units_line = 3
    data_start_line = options["data_start_line"]
    if data_start_line is None:
        if toa5 and options["header_line"] is None and options["units_line"] is None:
            data_start_line = 5  # line 4 says how each value was processed (Smp, Avg, Max ...)
        else:
            data_start_line = max(header_line, units_line or 0) + 1
    if units_line is not None and units_line == header_line:
        raise FileRejected(f"units_line {units_line} is the header line; set options.units_line to another line")
    if data_start_line <= max(header_line, units_line or 0):
        raise FileRejected(
            f"data_start_line {data_start_line} is not after the header (line {header_line})"
            + (f" and the units (line {units_line})" if units_line else "")
        )
    return Layout(header_line, units_line, data_start_line, "toa5" if toa5 else "csv")


# Record numbers are not measurements: HOBOware's leading `#` column and the RECORD column of a TOA5 file
# count the logger's lines. They are not read as channels unless `channels` names them.
RECORD_NUMBER_COLUMNS = {"csv": ("#",), "toa5": ("#", "record")}

# HOBOware states the clock of its times in the time column's name (`Date Time, GMT+01:00`): a fixed
# offset, whatever the daylight-saving time of the place.
_GMT_OFFSET = re.compile(r"\bGMT\s*([+-])\s*(\d{1,2}):?(\d{2})\b", re.IGNORECASE)


def header_offset(name: str) -> str | None:
    """The fixed UTC offset a time column's name states (`Date Time, GMT-05:00` -> `-05:00`), if any."""
    match = _GMT_OFFSET.search(name)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}:{minutes}"


def read_sensor_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a wide data-logger export into batches of points and rejected cells."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        lines = read_head_lines(head, encoding)
    layout = file_layout(lines, options)
    header = header_fields(lines, delimiter, layout.header_line)
    units = (
        split_line(lines[layout.units_line - 1], delimiter)
        if layout.units_line and layout.units_line <= len(lines)
        else []
    )
    lower = [h.lower() for h in header]
    wanted_ts = options["timestamp_column"]
    record_numbers = RECORD_NUMBER_COLUMNS[layout.kind]
    if wanted_ts is None:
        ts_index = 1 if lower[0] in record_numbers and len(header) > 1 else 0
    elif wanted_ts.lower() in lower:
        ts_index = lower.index(wanted_ts.lower())
    else:
        raise FileRejected(f"header lacks the timestamp column {wanted_ts!r}; found {quoted_names(header)}")
    skip = {s.lower() for s in options["skip_columns"]} | set(record_numbers)
    if options["channels"] is not None:
        missing = [c for c in options["channels"] if c.lower() not in lower]
        if missing:
            raise FileRejected(f"header lacks channel column(s) {quoted_names(missing)}; found {quoted_names(header)}")
        picked = [lower.index(c.lower()) for c in options["channels"]]
    else:
        picked = [i for i in range(len(header)) if i != ts_index and lower[i] not in skip]
    if not picked:
        raise FileRejected("no channel column to read after the timestamp column")
    if any(not header[i].strip() for i in picked):
        raise FileRejected("a channel column of the header has no name")
    tags = [(i, options["tag_prefix"] + header[i].strip()) for i in picked]
    tag_units = {tag: units[i][:32] for i, tag in tags if i < len(units) and units[i]}
    timezone = header_offset(header[ts_index]) or source.timezone

    rules = RowRules(
        timezone=timezone,
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

    batches = read_wide_csv(
        stream_opener,
        RowFinisher(rules),
        header,
        ts_index,
        tags,
        encoding,
        delimiter,
        adjust,
        header_line=layout.header_line,
        data_start_line=layout.data_start_line,
    )
    for batch in batches:
        if step is not None and batch.points.num_rows:
            shifted = pc.subtract(batch.points["ts"], pa.scalar(step.step, pa.duration("us")))
            batch = ParsedBatch(
                points=batch.points.set_column(1, "ts", shifted), rejects=batch.rejects, lines=batch.lines
            )
        batch.units = dict(tag_units)
        yield batch
