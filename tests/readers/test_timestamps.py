"""Timestamps are never guessed (issue #13, section 1), landed end to end: reader, landing, bronze.

* A source's `timestamp_format` alone reads its wall-clock times: `7/1/17 0:00` with `%m/%d/%y %H:%M`
  is 1 July 2017, never the year 7; a text that does not match is quarantined with the format named.
* Without a format only ISO 8601 (and a format's own well-defined form: epoch numbers, PI's
  `02-Mar-26`, a typed Parquet timestamp) is read; anything else asks for a timestamp_format.
* A time outside [earliest_timestamp, now + latest_timestamp_ahead_s] (default: a year before
  calendar.first_day, and a day ahead) or an offset beyond ±14:00 is quarantined as out of range, and
  years 1 and 9999 never crash a reader.

Every expected instant is worked out by hand in the comment beside it: Berlin is UTC+1 in winter (CET)
and UTC+2 in summer (CEST, 29 March to 25 October 2026); New York is UTC-5 in winter.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import itertools
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from assets.bronze.landing import Lakehouse, land_new_files
from assets.plant import timestamps
from assets.plant.config import PlantConfigError, parse_plant_config
from assets.readers import stage_source_file
from assets.readers.archives import open_single
from tests.helpers.exports import HEADER
from tests.helpers.plant import one_machine_config

# The clock is fixed: "now" is 2026-03-10 12:00 UTC, so the latest plausible time (a day ahead) is
# 2026-03-11 12:00:00 UTC. The plant's calendar.first_day is 2026-01-01, so the earliest is 2025-01-01.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
RANGE_NOTE = (
    "accepted 2025-01-01 00:00:00 to 2026-03-11 12:00:00 UTC (source options earliest_timestamp, "
    "latest_timestamp_ahead_s)"
)
SET_FORMAT = "; set timestamp_format for this source"
_cases = itertools.count()


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Fix the one clock the plausibility bound reads (nothing else of the stack is replaced)."""
    monkeypatch.setattr(timestamps, "utc_now", lambda: NOW)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def out_of_range(shown: str) -> str:
    return f"timestamp out of range ({shown}): {RANGE_NOTE}"


def land(tmp_path, fmt: str, content, options=None, name="export.csv", tz="Europe/Berlin", first_day="2026-01-01"):
    """Land one file of one source into a fresh lakehouse: (points, {line: reason}).

    points: sorted (line, tag, ts, value) from bronze; the reasons from bronze__quarantine. Also checks
    that every input row is a point or a quarantined row.
    """
    case = tmp_path / f"case{next(_cases)}"
    config = one_machine_config(timezone=tz)
    config["calendar"]["first_day"] = first_day
    config["sources"] = [{"name": "src", "format": fmt, "folder": "src", "timezone": tz, "options": options or {}}]
    plant = parse_plant_config(config)
    path = case / "landing" / "src" / name
    path.parent.mkdir(parents=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    lakehouse = Lakehouse(str(case / "lake"))
    (report,) = land_new_files(lakehouse, plant, case / "landing").files
    assert report.status == "landed", report.message
    points = _query(lakehouse, "bronze_historian__points", "select source_line, tag, ts, value from t order by 1, 2")
    rejects = dict(_query(lakehouse, "bronze__quarantine", "select line, reason from t order by line"))
    assert report.rows_in == len(points) + len(rejects) == report.rows_new + report.rows_quarantined
    return points, rejects


def _query(lakehouse: Lakehouse, name: str, sql: str) -> list[tuple]:
    try:
        dataset = DeltaTable(lakehouse.uri(name)).to_pyarrow_dataset()
    except Exception:  # noqa: BLE001 - a table nothing was written to
        return []
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("t", dataset)
        return con.execute(sql).fetchall()
    finally:
        con.close()


def aveva(local: str, tag: str = "A", value: float = 1.0) -> str:
    return f"{local},{tag},{value},{value},0,192,192,Delta\n"


def staged_whole(tmp_path, text: str, tz: str = "Europe/Berlin", **options) -> bool:
    """Whether the AVEVA whole-file stager (the DuckDB fast path) takes this file."""
    from assets.plant.config import Source

    path = tmp_path / f"probe{next(_cases)}.csv"
    path.write_text(text, encoding="utf-8")
    source = Source(name="src", format="aveva_historian_csv", folder="src", timezone=tz, options=options)
    return stage_source_file(source, open_single(path), tmp_path / f"probe{next(_cases)}.parquet") is not None


# ---- a timestamp_format alone reads the times -------------------------------------------------------


def test_two_digit_years_month_first_as_a_tetouan_logger_writes_them(tmp_path):
    text = (
        "DateTime,Zone 1 Power Consumption\n"
        "1/1/17 0:00,34055.69\n"  # 2: 2017-01-01 00:00 CET = 2016-12-31 23:00 UTC
        "7/1/17 0:00,26484.22\n"  # 3: 1 July 2017 (not the year 7): 00:00 CEST = 2017-06-30 22:00 UTC
        "12/31/17 23:50,31160.46\n"  # 4: 23:50 CET = 22:50 UTC
        "13/1/17 0:00,1\n"  # 5: no month 13
        "2017-07-01 00:10:00,2\n"  # 6: ISO, but the source names its form
    )
    fmt = "%m/%d/%y %H:%M"
    points, rejects = land(tmp_path, "sensor_csv", text, {"timestamp_format": fmt, "earliest_timestamp": "2016-01-01"})
    assert points == [
        (2, "Zone 1 Power Consumption", utc(2016, 12, 31, 23, 0), 34055.69),
        (3, "Zone 1 Power Consumption", utc(2017, 6, 30, 22, 0), 26484.22),
        (4, "Zone 1 Power Consumption", utc(2017, 12, 31, 22, 50), 31160.46),
    ]
    assert rejects == {
        5: "timestamp does not match %m/%d/%y %H:%M (13/1/17 0:00)",
        6: "timestamp does not match %m/%d/%y %H:%M (2017-07-01 00:10:00)",
    }


def test_two_digit_years_year_first_as_hoboware_writes_them(tmp_path):
    text = (
        "Date Time,Temp\n"
        "24/07/20 21:00:00,21.5\n"  # 2: 2024-07-20 21:00 CEST = 19:00 UTC (not the year 24)
        "24/12/01 08:00:00,4.0\n"  # 3: 2024-12-01 08:00 CET = 07:00 UTC
        # 4: the same digits read day-first would be 2020-07-24: outside the range, so even a wrong
        # order that parses cannot land silently
        "20/07/24 21:00:00,9.0\n"
    )
    options = {"timestamp_format": "%y/%m/%d %H:%M:%S", "earliest_timestamp": "2024-01-01"}
    points, rejects = land(tmp_path, "sensor_csv", text, options)
    assert points == [(2, "Temp", utc(2024, 7, 20, 19, 0), 21.5), (3, "Temp", utc(2024, 12, 1, 7, 0), 4.0)]
    assert rejects == {
        4: "timestamp out of range (20/07/24 21:00:00): accepted 2024-01-01 00:00:00 to 2026-03-11 12:00:00 UTC "
        "(source options earliest_timestamp, latest_timestamp_ahead_s)"
    }


def test_am_and_pm(tmp_path):
    text = (
        "[Data]\n"
        "Tagname,TimeStamp,Value,DataQuality\n"  # line 2
        "T,3/2/2026 6:00:00 PM,1,Good\n"  # 3: 18:00 CET = 17:00 UTC (not 06:00)
        "T,3/2/2026 6:00:00 AM,2,Good\n"  # 4: 06:00 CET = 05:00 UTC
        "T,3/2/2026 12:00:00 AM,3,Good\n"  # 5: midnight, 00:00 CET = 2026-03-01 23:00 UTC
        "T,3/2/2026 12:30:00 PM,4,Good\n"  # 6: half past noon, 12:30 CET = 11:30 UTC
        "T,3/2/2026 18:00:00 PM,5,Good\n"  # 7: no 18 o'clock on a 12-hour clock
        "T,3/2/2026 18:00:00,6,Good\n"  # 8: no AM/PM
    )
    fmt = "%m/%d/%Y %I:%M:%S %p"
    points, rejects = land(tmp_path, "proficy_csv", text, {"timestamp_format": fmt})
    assert points == [
        (3, "T", utc(2026, 3, 2, 17, 0), 1.0),
        (4, "T", utc(2026, 3, 2, 5, 0), 2.0),
        (5, "T", utc(2026, 3, 1, 23, 0), 3.0),
        (6, "T", utc(2026, 3, 2, 11, 30), 4.0),
    ]
    assert rejects == {
        7: f"timestamp does not match {fmt} (3/2/2026 18:00:00 PM)",
        8: f"timestamp does not match {fmt} (3/2/2026 18:00:00)",
    }


@pytest.mark.parametrize("fmt", ["%d-%b-%y %H:%M:%S", None], ids=["format", "pi-own-form"])
def test_month_names_as_pi_writes_them(tmp_path, fmt):
    text = (
        "Tag,Timestamp,Value\n"
        "T,02-Mar-26 06:00:00,1\n"  # 2: 06:00 CET = 05:00 UTC
        "T,28-Feb-26 23:59:59,2\n"  # 3: 23:59:59 CET = 22:59:59 UTC
        "T,02-mar-26 07:00:00,3\n"  # 4: month names in any case: 06:00 UTC
        "T,2026-03-02T05:00:04Z,4\n"  # 5: an explicit offset is an instant, whatever the format
        "T,02-03-26 06:00:00,5\n"  # 6: a month number is not PI's form
    )
    points, rejects = land(tmp_path, "pi_csv", text, {"timestamp_format": fmt} if fmt else {})
    assert points == [
        (2, "T", utc(2026, 3, 2, 5, 0), 1.0),
        (3, "T", utc(2026, 2, 28, 22, 59, 59), 2.0),
        (4, "T", utc(2026, 3, 2, 6, 0), 3.0),
        (5, "T", utc(2026, 3, 2, 5, 0, 4), 4.0),
    ]
    if fmt:
        assert rejects == {6: "timestamp does not match %d-%b-%y %H:%M:%S (02-03-26 06:00:00)"}
    else:
        assert rejects == {6: f"timestamp is not ISO-8601 (02-03-26 06:00:00){SET_FORMAT}"}


@pytest.mark.parametrize(
    ("fmt", "expected", "rejects"),
    [
        # day first: 03/02 is 3 February, 06:00 CET = 05:00 UTC; 13/02 is 13 February
        ("%d/%m/%Y %H:%M:%S", [(2, utc(2026, 2, 3, 5, 0)), (3, utc(2026, 2, 13, 5, 0))], {}),
        # month first: 03/02 is 2 March, 05:00 UTC; there is no month 13
        (
            "%m/%d/%Y %H:%M:%S",
            [(2, utc(2026, 3, 2, 5, 0))],
            {3: "timestamp does not match %m/%d/%Y %H:%M:%S (13/02/2026 06:00:00)"},
        ),
        # no format: which one is meant is not decided for the engineer
        (
            None,
            [],
            {
                2: f"timestamp is not ISO-8601 (03/02/2026 06:00:00){SET_FORMAT}",
                3: f"timestamp is not ISO-8601 (13/02/2026 06:00:00){SET_FORMAT}",
            },
        ),
    ],
    ids=["day-first", "month-first", "no-format"],
)
def test_day_first_and_month_first_dates(tmp_path, fmt, expected, rejects):
    text = "Path,Value,Quality,Timestamp\nT,1,192,03/02/2026 06:00:00\nT,2,192,13/02/2026 06:00:00\n"
    points, got = land(tmp_path, "ignition_tall_csv", text, {"timestamp_format": fmt} if fmt else {})
    assert [(line, ts) for line, _tag, ts, _value in points] == expected
    assert got == rejects


def test_fractional_seconds(tmp_path):
    text = (
        "Zeit;Druck\n"
        "02.03.2026 06:00:00.5;1\n"  # 2: 05:00:00.500000 UTC
        "02.03.2026 06:00:01.250;2\n"  # 3: 05:00:01.250000 UTC
        "02.03.2026 06:00:02.123456;3\n"  # 4: 05:00:02.123456 UTC
        "02.03.2026 06:00:03;4\n"  # 5: the format asks for a fraction
    )
    options = {"delimiter": ";", "timestamp_format": "%d.%m.%Y %H:%M:%S.%f"}
    points, rejects = land(tmp_path, "sensor_csv", text, options)
    assert points == [
        (2, "Druck", utc(2026, 3, 2, 5, 0, 0, 500_000), 1.0),
        (3, "Druck", utc(2026, 3, 2, 5, 0, 1, 250_000), 2.0),
        (4, "Druck", utc(2026, 3, 2, 5, 0, 2, 123_456), 3.0),
    ]
    assert rejects == {5: "timestamp does not match %d.%m.%Y %H:%M:%S.%f (02.03.2026 06:00:03)"}


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz"], ids=["whole-file-stager", "streaming"])
def test_aveva_reads_by_its_format_alone_on_both_paths(tmp_path, name):
    fmt = "%d.%m.%Y %H:%M:%S.%f"
    text = HEADER + (
        aveva("02.03.2026 06:00:00.000", value=1)  # 2: 05:00 UTC
        + aveva("02.03.2026 06:00:01.5", value=2)  # 3: 05:00:01.5 UTC
        + aveva("2026-03-02 06:00:02.000", value=3)  # 4: ISO without offset: not the format
        + aveva("2026-03-02T05:00:03Z", value=4)  # 5: an explicit offset: 05:00:03 UTC
        + aveva("3/2/2026 6:00:04 AM", value=5)  # 6
    )
    if name == "export.csv":
        assert staged_whole(tmp_path, text, timestamp_format=fmt)
    points, rejects = land(tmp_path, "aveva_historian_csv", text, {"timestamp_format": fmt}, name=name)
    assert points == [
        (2, "A", utc(2026, 3, 2, 5, 0), 1.0),
        (3, "A", utc(2026, 3, 2, 5, 0, 1, 500_000), 2.0),
        (5, "A", utc(2026, 3, 2, 5, 0, 3), 4.0),
    ]
    assert rejects == {
        4: f"timestamp does not match {fmt} (2026-03-02 06:00:02.000)",
        6: f"timestamp does not match {fmt} (3/2/2026 6:00:04 AM)",
    }


# ---- without a format: ISO 8601 only ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz"], ids=["whole-file-stager", "streaming"])
def test_without_a_format_only_iso_8601_is_read(tmp_path, name):
    text = HEADER + (
        aveva("2026-03-02 06:00:00")  # 2: 05:00 UTC
        + aveva("2026-03-02T06:00:01")  # 3: 'T': 05:00:01 UTC
        + aveva("2026-03-02 06:00:02.25")  # 4: fraction: 05:00:02.25 UTC
        + aveva("2026-03-02 06:01")  # 5: no seconds: 05:01 UTC
        + aveva("2026-03-03")  # 6: a date: midnight CET = 2026-03-02 23:00 UTC
        + aveva("2026-03-02T05:00:05Z")  # 7: UTC
        + aveva("2026-03-02 07:00:06+01:00")  # 8: 06:00:06 UTC
        + aveva("2026-03-02T00:00:07-0500")  # 9: 05:00:07 UTC
        + aveva("02.03.2026 06:00:08")  # 10
        + aveva("3/2/2026 6:00:09 AM")  # 11
        + aveva("2026-3-2 6:00:10")  # 12: no leading zeros: not ISO 8601
        + aveva("2026-02-30 06:00:11")  # 13: ISO's form, but no such day
        + aveva("2026-03-02T06:00:12+01:75")  # 14: no such offset
    )
    if name == "export.csv":
        assert staged_whole(tmp_path, text)
    points, rejects = land(tmp_path, "aveva_historian_csv", text, name=name)
    assert [(line, ts) for line, _tag, ts, _value in points] == [
        (2, utc(2026, 3, 2, 5, 0, 0)),
        (3, utc(2026, 3, 2, 5, 0, 1)),
        (4, utc(2026, 3, 2, 5, 0, 2, 250_000)),
        (5, utc(2026, 3, 2, 5, 1)),
        (6, utc(2026, 3, 2, 23, 0)),
        (7, utc(2026, 3, 2, 5, 0, 5)),
        (8, utc(2026, 3, 2, 6, 0, 6)),
        (9, utc(2026, 3, 2, 5, 0, 7)),
    ]
    assert rejects == {
        10: f"timestamp is not ISO-8601 (02.03.2026 06:00:08){SET_FORMAT}",
        11: f"timestamp is not ISO-8601 (3/2/2026 6:00:09 AM){SET_FORMAT}",
        12: f"timestamp is not ISO-8601 (2026-3-2 6:00:10){SET_FORMAT}",
        13: "timestamp is not a valid ISO-8601 time (2026-02-30 06:00:11)",
        14: f"timestamp is not ISO-8601 (2026-03-02T06:00:12+01:75){SET_FORMAT}",
    }


def test_epoch_numbers_are_a_formats_own_form_and_are_checked_too(tmp_path):
    text = (
        "t_stamp,Speed\n"
        "1772427600000,1\n"  # 2: 1772427600 s after 1970 = 2026-03-02 05:00:00 UTC (20514 days + 5 h)
        "2026-03-02 06:00:01,2\n"  # 3: ISO, 05:00:01 UTC
        "0,3\n"  # 4: 1970: a logger without its clock set
        "garbage,4\n"  # 5
    )
    points, rejects = land(tmp_path, "ignition_wide_csv", text)
    assert points == [(2, "Speed", utc(2026, 3, 2, 5, 0), 1.0), (3, "Speed", utc(2026, 3, 2, 5, 0, 1), 2.0)]
    assert rejects == {4: out_of_range("0"), 5: f"timestamp is not ISO-8601 (garbage){SET_FORMAT}"}


# ---- plausible range, offsets, years 1 and 9999 ----------------------------------------------------


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz"], ids=["whole-file-stager", "streaming"])
def test_the_range_is_checked_on_the_utc_instant_at_both_ends(tmp_path, name):
    text = HEADER + (
        aveva("2024-12-31T23:59:59Z")  # 2: a second before 2025-01-01 00:00 UTC: out
        + aveva("2025-01-01T00:00:00Z")  # 3: the earliest: in
        + aveva("2025-01-01 00:30:00")  # 4: 00:30 CET = 2024-12-31 23:30 UTC: out
        + aveva("2025-01-01 01:00:00", tag="B")  # 5: 01:00 CET = 2025-01-01 00:00 UTC: in
        + aveva("2026-03-11 13:00:00")  # 6: 13:00 CET = 12:00 UTC, now + 1 day: in
        + aveva("2026-03-11 13:00:01")  # 7: a second later: out
        + aveva("2026-03-11T12:00:01Z")  # 8: out
    )
    if name == "export.csv":
        assert staged_whole(tmp_path, text)
    points, rejects = land(tmp_path, "aveva_historian_csv", text, name=name)
    assert [(line, ts) for line, _tag, ts, _value in points] == [
        (3, utc(2025, 1, 1)),
        (5, utc(2025, 1, 1)),
        (6, utc(2026, 3, 11, 12, 0)),
    ]
    assert rejects == {
        2: out_of_range("2024-12-31T23:59:59Z"),
        4: out_of_range("2025-01-01 00:30:00"),
        7: out_of_range("2026-03-11 13:00:01"),
        8: out_of_range("2026-03-11T12:00:01Z"),
    }


def test_the_range_is_set_per_source(tmp_path):
    options = {"earliest_timestamp": "2026-03-02T05:00:00Z", "latest_timestamp_ahead_s": 0}
    text = (
        "ts,v\n"
        "2026-03-02 05:59:59,1\n"  # 2: 04:59:59 UTC, before the earliest: out
        "2026-03-02 06:00:00,2\n"  # 3: 05:00 UTC: in
        "2026-03-10 13:00:00,3\n"  # 4: 12:00 UTC, now: in
        "2026-03-10 13:00:01,4\n"  # 5: a second after now (no time ahead allowed): out
    )
    points, rejects = land(tmp_path, "sensor_csv", text, options)
    assert [(line, ts) for line, _tag, ts, _value in points] == [(3, utc(2026, 3, 2, 5)), (4, utc(2026, 3, 10, 12))]
    note = "accepted 2026-03-02 05:00:00 to 2026-03-10 12:00:00 UTC (source options earliest_timestamp, "
    note += "latest_timestamp_ahead_s)"
    assert rejects == {
        2: f"timestamp out of range (2026-03-02 05:59:59): {note}",
        5: f"timestamp out of range (2026-03-10 13:00:01): {note}",
    }


OFFSET_BEYOND = "its UTC offset is beyond ±14:00"


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz"], ids=["whole-file-stager", "streaming"])
def test_offsets_beyond_14_hours_are_out_of_range(tmp_path, name):
    text = HEADER + (
        aveva("2026-03-02T20:00:00+14:00")  # 2: Kiritimati: 06:00 UTC
        + aveva("2026-03-01T20:00:01-12:00")  # 3: 2026-03-02 08:00:01 UTC
        + aveva("2026-03-02T20:00:02+14:30")  # 4
        + aveva("2026-03-02T20:00:03+1500")  # 5
        + aveva("2026-03-01T20:00:04-15")  # 6
    )
    if name == "export.csv":
        assert staged_whole(tmp_path, text)
    points, rejects = land(tmp_path, "aveva_historian_csv", text, name=name)
    assert [(line, ts) for line, _tag, ts, _value in points] == [(2, utc(2026, 3, 2, 6)), (3, utc(2026, 3, 2, 8, 0, 1))]
    assert rejects == {
        4: f"timestamp out of range (2026-03-02T20:00:02+14:30): {OFFSET_BEYOND}",
        5: f"timestamp out of range (2026-03-02T20:00:03+1500): {OFFSET_BEYOND}",
        6: f"timestamp out of range (2026-03-01T20:00:04-15): {OFFSET_BEYOND}",
    }


def _parquet(times: pa.Array) -> bytes:
    table = pa.table({"tag": ["T"] * len(times), "ts": times, "value": [float(i + 1) for i in range(len(times))]})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


FIRST = "0001-01-01 00:00:00"
LAST = "9999-12-31 23:59:59"
# (format, options, file name, content): line 2 is 2026-03-02 06:00:00 local (05:00 UTC in Berlin, 11:00
# UTC in New York), then the year 1 and the year 9999. In New York, 9999-12-31 23:59:59 is
# 10000-01-01 04:59:59 UTC, beyond what a datetime holds.
EXTREMES = [
    ("aveva_historian_csv", {}, "export.csv", HEADER + aveva("2026-03-02 06:00:00") + aveva(FIRST) + aveva(LAST)),
    ("aveva_historian_csv", {}, "export.csv.gz", HEADER + aveva("2026-03-02 06:00:00") + aveva(FIRST) + aveva(LAST)),
    ("sensor_csv", {}, "export.csv", f"ts,T\n2026-03-02 06:00:00,1\n{FIRST},2\n{LAST},3\n"),
    ("pi_csv", {}, "export.csv", f"Tag,Timestamp,Value\nT,02-Mar-26 06:00:00,1\nT,{FIRST},2\nT,{LAST},3\n"),
    (
        "ignition_wide_csv",
        {"timestamp_format": "%Y-%m-%d %H:%M:%S"},
        "export.csv",
        f"t_stamp,T\n2026-03-02 06:00:00,1\n{FIRST},2\n{LAST},3\n",
    ),
    (
        "proficy_csv",
        {},
        "export.csv",
        f"Tagname,TimeStamp,Value,DataQuality\nT,2026-03-02 06:00:00,1,Good\nT,{FIRST},2,Good\nT,{LAST},3,Good\n",
    ),
    (
        "sensor_jsonl",
        {},
        "export.jsonl",
        "".join(
            json.dumps({"ts": ts, "device": "D", "metrics": {"T": i + 1}}) + "\n"
            for i, ts in enumerate(["2026-03-02T06:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59"])
        ),
    ),
]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(
    ("fmt", "options", "name", "content"),
    EXTREMES,
    ids=[f"{fmt}-{'streaming' if name.endswith('.gz') else name.rsplit('.', 1)[-1]}" for fmt, _o, name, _c in EXTREMES],
)
def test_years_1_and_9999_are_quarantined_and_the_other_rows_land(tmp_path, tz, fmt, options, name, content):
    points, rejects = land(tmp_path, fmt, content, options, name=name, tz=tz)
    first = 1 if fmt == "sensor_jsonl" else 2  # a JSON-lines file has no header line
    # 06:00 CET = 05:00 UTC; 06:00 EST = 11:00 UTC
    assert [(line, ts) for line, _tag, ts, _value in points] == [
        (first, utc(2026, 3, 2, 5 if tz == "Europe/Berlin" else 11))
    ]
    shown = ("0001-01-01T00:00:00", "9999-12-31T23:59:59") if fmt == "sensor_jsonl" else (FIRST, LAST)
    assert rejects == {first + 1: out_of_range(shown[0]), first + 2: out_of_range(shown[1])}


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_typed_parquet_timestamps_of_years_1_and_9999(tmp_path, tz):
    naive = pa.array(
        [dt.datetime(2026, 3, 2, 6), dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)], pa.timestamp("us")
    )
    points, rejects = land(tmp_path, "sensor_parquet", _parquet(naive), name="export.parquet", tz=tz)
    # 06:00 local: 05:00 UTC in Berlin, 11:00 UTC in New York
    assert [(line, ts) for line, _tag, ts, _value in points] == [
        (1, utc(2026, 3, 2, 5 if tz == "Europe/Berlin" else 11))
    ]
    assert rejects == {2: out_of_range(FIRST), 3: out_of_range(LAST)}

    aware = pa.array([utc(2026, 3, 2, 5), utc(1, 1, 1), utc(9999, 12, 31, 23, 59, 59)], pa.timestamp("us", tz="UTC"))
    points, rejects = land(tmp_path, "sensor_parquet", _parquet(aware), name="export.parquet", tz=tz)
    assert [(line, ts) for line, _tag, ts, _value in points] == [(1, utc(2026, 3, 2, 5))]
    assert rejects == {2: out_of_range(FIRST), 3: out_of_range(LAST)}


# ---- configuration ----------------------------------------------------------------------------------


def test_the_earliest_time_defaults_to_a_year_before_the_first_production_day():
    config = one_machine_config()
    config["calendar"]["first_day"] = "2024-02-29"
    (source,) = parse_plant_config(config).sources
    assert source.options["earliest_timestamp"] == "2023-02-28"  # no 29 February in 2023
    assert source.options["latest_timestamp_ahead_s"] == 86_400

    config["sources"][0]["options"] = {"earliest_timestamp": "2016-06-01"}
    (source,) = parse_plant_config(config).sources
    assert source.options["earliest_timestamp"] == "2016-06-01"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"earliest_timestamp": "last year"}, "sources[historian].options.earliest_timestamp: must be a date"),
        ({"earliest_timestamp": "0001-01-01"}, "sources[historian].options.earliest_timestamp: must be 1900-01-01 or"),
        ({"latest_timestamp_ahead_s": -1}, "sources[historian].options.latest_timestamp_ahead_s: must be a number"),
        ({"latest_timestamp_ahead_s": 10**9}, "sources[historian].options.latest_timestamp_ahead_s: must be a number"),
        ({"timestamp_format": "%d.%m.%Y %H:%M %z"}, "sources[historian].options.timestamp_format: must not contain %z"),
    ],
)
def test_range_options_are_checked_with_their_path(options, message):
    config = one_machine_config()
    config["sources"][0]["options"] = options
    with pytest.raises(PlantConfigError, match=message.replace("[", "\\[").replace("]", "\\]")):
        parse_plant_config(config)
