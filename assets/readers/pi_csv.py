"""AVEVA PI archive exports (PI SMT / DataLink / piconfig): one row per event.

Columns tag, timestamp, value, found by the configured names or the usual headers (case-insensitive):
Tag / TagName / Name / PI Point / Point, Timestamp / Time / TimeStamp / DateTime / Date, Value. Optional
status columns: Status or Quality (Good, Questionable, Substituted, Bad, or OPC codes), and the PI
attributes Questionable and Substituted (True marks the event uncertain).

Timestamps: the source's timestamp_format alone where it is set; otherwise ISO 8601 (an offset is
honoured) or PI's own `02-Mar-26 06:00:00` with optional fractions; without an offset, local time of
the source. Values: numbers; PI system digital states written as text
(`Bad Input`, `I/O Timeout`, `No Data`, ... see `PI_SYSTEM_STATES`, extend with option `bad_states`)
are bad points with the state text and no number; any other text (a digital-state tag such as
`Running`) is a good text point.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from assets.plant.config import Source

from .csv_rows import find_column, read_tall_csv
from .csv_stream import FileRejected, read_header
from .parsed import ParsedBatch
from .quality import map_text, opc_quality
from .rows import RowFinisher, RowRules, source_times

# PI's own absolute time form (`02-Mar-26 06:00:00`, day before a month name: never day-month ambiguous),
# read after ISO 8601 when the source sets no timestamp_format.
PI_TIME_FORMATS = (
    "%d-%b-%y %H:%M:%S",
    "%d-%b-%y %H:%M:%S.%f",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M:%S.%f",
    "%d-%b-%y %H:%M",
    "%d-%b-%Y %H:%M",
)

PI_SYSTEM_STATES = frozenset(
    s.lower()
    for s in (
        "Access Denied",
        "Arc Off-line",
        "Bad",
        "Bad Data",
        "Bad Input",
        "Bad Output",
        "Bad Quality",
        "Bad Total",
        "Calc Crash",
        "Calc Failed",
        "Calc Off",
        "Calc Overflw",
        "Calc Timeout",
        "Comm Fail",
        "Configure",
        "Equip Fail",
        "Error",
        "Failed",
        "I/O Timeout",
        "Intf Shut",
        "Invalid Data",
        "Invalid Float",
        "No Alarm",
        "No Data",
        "No Result",
        "No Sample",
        "Out of Serv",
        "Over Range",
        "Overflow_st",
        "Pt Created",
        "Scan Off",
        "Scan Timeout",
        "Set to Bad",
        "Shutdown",
        "Trace",
        "Under Range",
        "Unit Down",
        "Wrong Type",
    )
)

TAG_NAMES = ("Tag", "TagName", "Tag Name", "Name", "PI Point", "Point", "PIPoint")
TIME_NAMES = ("Timestamp", "Time", "TimeStamp", "Time Stamp", "DateTime", "Date")
VALUE_NAMES = ("Value", "Values", "Val")
STATUS_NAMES = ("Status", "Quality")


def read_pi_csv(stream_opener, source: Source, options: dict) -> Iterator[ParsedBatch]:
    """Parse a PI archive export into batches of points and rejected rows."""
    encoding, delimiter = options["encoding"], options["delimiter"]
    with stream_opener() as head:
        header = read_header(head, encoding, delimiter)
    found = {
        "tag": find_column(header, options["tag_column"], TAG_NAMES, "tag_column"),
        "timestamp": find_column(header, options["timestamp_column"], TIME_NAMES, "timestamp_column"),
        "value": find_column(header, options["value_column"], VALUE_NAMES, "value_column"),
    }
    missing = [
        f"{role} ({options[role + '_column'] or '/'.join(names[:3])})"
        for role, names in (("tag", TAG_NAMES), ("timestamp", TIME_NAMES), ("value", VALUE_NAMES))
        if found[role] is None
    ]
    if missing:
        raise FileRejected(f"header lacks column(s) {', '.join(missing)}; found {', '.join(header[:12])}")
    status = find_column(header, options["status_column"], STATUS_NAMES, "status_column")
    if options["status_column"] and status is None:
        raise FileRejected(f"header lacks the status column {options['status_column']}; found {', '.join(header[:12])}")
    flags = [i for i, h in enumerate(header) if h.strip().lower() in ("questionable", "substituted")]
    label = header[status].strip() if status is not None else "Status"

    def quality_of(table: pa.Table) -> tuple[pa.Array, pa.Array]:
        n = table.num_rows
        if status is not None:
            quality, reason = map_text(table[f"c{status}"], lambda t: opc_quality(t, label))
        else:
            quality, reason = pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
        for i in flags:
            flagged = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(table[f"c{i}"])), pa.array(["true", "1", "yes"]))
            upgrade = pc.and_(flagged, pc.not_equal(pc.fill_null(quality, "good"), "bad"))
            quality = pc.if_else(upgrade, "uncertain", quality)
        return quality, reason

    rules = RowRules(
        timezone=source.timezone,
        native_formats=PI_TIME_FORMATS,
        **source_times(options),
        bad_states=PI_SYSTEM_STATES | {s.lower() for s in options["bad_states"]},
        tag_label=header[found["tag"]].strip(),
        time_label=header[found["timestamp"]].strip(),
        value_label=header[found["value"]].strip(),
    )
    yield from read_tall_csv(stream_opener, RowFinisher(rules), header, found, quality_of, encoding, delimiter)
