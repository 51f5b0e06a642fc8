"""Readers of every export format: exact points (tag, UTC time, value, quality, line) and reject reasons."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.plant.config import Source
from assets.plant.source_formats import SourceOptionsError, validate_source_options
from assets.readers import FileRejected, read_source_file
from assets.readers.archives import iter_members, open_single

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def read(tmp_path: Path, fmt: str, content, name: str = "export.csv", tz: str = "Europe/Berlin", **options):
    """Write `content` (text or bytes) and read it; (points as tuples sorted by line, {line: reason})."""
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    if name.endswith(".gz"):
        content = gzip.compress(content)
    path.write_bytes(content)
    return read_path(path, fmt, tz, **options)


def read_path(path: Path, fmt: str, tz: str = "Europe/Berlin", **options):
    source = Source(name="src", format=fmt, folder="x", timezone=tz, options=options)
    points, rejects = [], []
    for batch in read_source_file(source, open_single(path)):
        points += batch.points.to_pylist()
        rejects += batch.rejects.to_pylist()
    points = sorted(
        ((p["tag"], p["ts"], p["value"], p["value_text"], p["quality"], p["source_line"]) for p in points),
        key=lambda p: (p[5], p[0]),
    )
    return points, {r["line"]: r["reason"] for r in rejects}, len(rejects)


# ---- pi_csv ---------------------------------------------------------------------------------------


def test_pi_csv_timestamps_digital_states_and_bad_rows(tmp_path):
    text = (
        "Tag,Timestamp,Value\n"
        "L1.FILLER.Total,02-Mar-26 06:00:00,1500\n"  # 2: PI form, Berlin winter time
        "L1.FILLER.Total,02-Mar-26 06:00:01.250,1501.5\n"  # 3: fractional seconds
        "L1.FILLER.Total,2026-03-02T05:00:02Z,1502\n"  # 4: ISO with Z
        "L1.FILLER.Total,02-Mar-26 06:00:03,I/O Timeout\n"  # 5: system state -> bad point
        "L1.FILLER.State,02-Mar-26 06:00:04,Running\n"  # 6: digital state tag -> good text
        "L1.FILLER.Total,02-Mar-26 06:00:05,Bad Input\n"  # 7: system state
        "L1.FILLER.Total,yesterday,5\n"  # 8: bad timestamp
        "L1.FILLER.Total,02-Mar-26 06:00:06,1e309\n"  # 9: not finite
        ",02-Mar-26 06:00:07,5\n"  # 10: no tag
        "L1.FILLER.Total,29-Mar-26 02:30:00,7\n"  # 11: spring gap
        "L1.FILLER.Total,02-Mar-26 06:00:08\n"  # 12: ragged
    )
    points, reasons, n_rejects = read(tmp_path, "pi_csv", text)
    assert points == [
        ("L1.FILLER.Total", utc(2026, 3, 2, 5, 0, 0), 1500.0, None, "good", 2),
        ("L1.FILLER.Total", utc(2026, 3, 2, 5, 0, 1, 250000), 1501.5, None, "good", 3),
        ("L1.FILLER.Total", utc(2026, 3, 2, 5, 0, 2), 1502.0, None, "good", 4),
        ("L1.FILLER.Total", utc(2026, 3, 2, 5, 0, 3), None, "I/O Timeout", "bad", 5),
        ("L1.FILLER.State", utc(2026, 3, 2, 5, 0, 4), None, "Running", "good", 6),
        ("L1.FILLER.Total", utc(2026, 3, 2, 5, 0, 5), None, "Bad Input", "bad", 7),
    ]
    assert reasons == {
        8: "timestamp is not ISO-8601 (yesterday); set timestamp_format for this source",
        9: "Value is not finite: 1e309",
        10: "Tag is empty",
        11: "nonexistent local time 2026-03-29 02:30:00 in Europe/Berlin (daylight-saving gap)",
        12: "expected 3 fields, found 2",
    }
    assert len(points) + n_rejects == 11


def test_pi_csv_datalink_headers_and_status_columns(tmp_path):
    text = (
        "PI Point;Time;Value;Questionable;Substituted;Status\n"
        "FIC101.PV;2026-03-02 06:00:00;12,5;False;False;Good\n"  # delimiter ; and a decimal comma is text
        "FIC101.PV;2026-03-02 06:00:01;12.5;True;False;Good\n"
        "FIC101.PV;2026-03-02 06:00:02;12.5;False;True;\n"
        "FIC101.PV;2026-03-02 06:00:03;12.5;False;False;Bad\n"
    )
    points, reasons, _ = read(tmp_path, "pi_csv", text, delimiter=";")
    assert [(p[2], p[3], p[4], p[5]) for p in points] == [
        (None, "12,5", "good", 2),
        (12.5, None, "uncertain", 3),
        (12.5, None, "uncertain", 4),
        (12.5, None, "bad", 5),
    ]
    assert reasons == {}


def test_pi_csv_without_the_needed_columns_is_refused(tmp_path):
    with pytest.raises(FileRejected, match="header lacks column"):
        read(tmp_path, "pi_csv", "Foo,Bar\n1,2\n")


# ---- pi_webapi_json -------------------------------------------------------------------------------


def test_pi_webapi_json_values_states_and_quality(tmp_path):
    doc = {
        "Items": [
            {
                "Name": "FIC101.PV",
                "Path": "\\\\PISRV\\FIC101.PV",
                "Items": [
                    {
                        "Timestamp": "2026-03-02T05:00:00Z",
                        "Value": 12.3,
                        "UnitsAbbreviation": "kW",
                        "Good": True,
                        "Questionable": False,
                        "Substituted": False,
                    },
                    {
                        "Timestamp": "2026-03-02T05:01:00Z",
                        "Value": 12.4,
                        "Good": True,
                        "Questionable": True,
                        "Substituted": False,
                    },
                    {
                        "Timestamp": "2026-03-02T05:02:00Z",
                        "Value": 12.5,
                        "Good": True,
                        "Questionable": False,
                        "Substituted": True,
                    },
                    {
                        "Timestamp": "2026-03-02T05:03:00Z",
                        "Value": {"Name": "I/O Timeout", "Value": 246, "IsSystem": True},
                        "Good": False,
                    },
                    {"Timestamp": "2026-03-02T05:04:00Z", "Value": "NaN", "Good": True},
                    {"Timestamp": "not a time", "Value": 1, "Good": True},
                ],
            },
            {
                "Name": "FILLER.State",
                "Items": [
                    {
                        "Timestamp": "2026-03-02T06:00:00+01:00",
                        "Value": {"Name": "Running", "Value": 1, "IsSystem": False},
                        "Good": True,
                    },
                    {"Timestamp": "2026-03-02T05:01:00Z", "Value": 3.0, "Good": False},
                ],
            },
        ]
    }
    points, reasons, n = read(tmp_path, "pi_webapi_json", json.dumps(doc), name="values.json")
    assert points == [
        ("FIC101.PV", utc(2026, 3, 2, 5, 0), 12.3, None, "good", 1),
        ("FIC101.PV", utc(2026, 3, 2, 5, 1), 12.4, None, "uncertain", 2),
        ("FIC101.PV", utc(2026, 3, 2, 5, 2), 12.5, None, "uncertain", 3),
        ("FIC101.PV", utc(2026, 3, 2, 5, 3), None, "I/O Timeout", "bad", 4),
        ("FILLER.State", utc(2026, 3, 2, 5, 0), None, "Running", "good", 7),
        ("FILLER.State", utc(2026, 3, 2, 5, 1), 3.0, None, "bad", 8),
    ]
    assert reasons == {
        5: "Value is not finite: NaN",
        6: "timestamp is not ISO-8601 (not a time); set timestamp_format for this source",
    }
    points, _, _ = read(tmp_path, "pi_webapi_json", json.dumps(doc), name="values.json", tag_field="Path")
    assert points[0][0] == "\\\\PISRV\\FIC101.PV"


def test_pi_webapi_json_refuses_other_documents_and_oversize(tmp_path):
    with pytest.raises(FileRejected, match="not a PI Web API response"):
        read(tmp_path, "pi_webapi_json", '{"Links": {}}', name="a.json")
    with pytest.raises(FileRejected, match="not JSON"):
        read(tmp_path, "pi_webapi_json", '{"Items": [', name="b.json")
    big = json.dumps({"Items": [{"Name": "T", "Items": [{"Timestamp": "2026-03-02T05:00:00Z", "Value": 1}] * 30000}]})
    with pytest.raises(FileRejected, match="larger than 0 MB"):
        read(tmp_path, "pi_webapi_json", big, name="c.json", max_json_mb=0.5)


# ---- ignition -------------------------------------------------------------------------------------


def test_ignition_wide_counts_cells_and_rejects_cells_of_a_bad_line(tmp_path):
    text = (
        "t_stamp,[default]L1/Filler/Speed,[default]L1/Filler/State\n"
        "2026-03-02 06:00:00,100.5,1\n"  # 2
        "2026-03-02 06:00:01,,2\n"  # 3: empty cell is no value
        "1772427602000,101,\n"  # 4: epoch milliseconds (05:00:02 UTC)
        "garbage,102,3\n"  # 5: both cells rejected
        "2026-03-02 06:00:03,abc,\n"  # 6: not a number? text is a text point in Ignition
        "2026-03-02 06:00:04,,\n"  # 7: no cell, no row
    )
    points, reasons, n = read(tmp_path, "ignition_wide_csv", text)
    assert points == [
        ("[default]L1/Filler/Speed", utc(2026, 3, 2, 5, 0, 0), 100.5, None, "good", 2),
        ("[default]L1/Filler/State", utc(2026, 3, 2, 5, 0, 0), 1.0, None, "good", 2),
        ("[default]L1/Filler/State", utc(2026, 3, 2, 5, 0, 1), 2.0, None, "good", 3),
        ("[default]L1/Filler/Speed", utc(2026, 3, 2, 5, 0, 2), 101.0, None, "good", 4),
        ("[default]L1/Filler/Speed", utc(2026, 3, 2, 5, 0, 3), None, "abc", "good", 6),
    ]
    assert n == 2 and reasons == {5: "timestamp is not ISO-8601 (garbage); set timestamp_format for this source"}


def test_ignition_tall_quality_codes_and_names(tmp_path):
    text = (
        "Path,Value,Quality,Timestamp\n"
        "L1/Filler/Speed,10,192,2026-03-02 06:00:00\n"
        "L1/Filler/Speed,11,Good,2026-03-02 06:00:01\n"
        "L1/Filler/Speed,12,64,2026-03-02 06:00:02\n"
        "L1/Filler/Speed,13,Uncertain_LastKnownValue,2026-03-02 06:00:03\n"
        "L1/Filler/Speed,,Bad_NotConnected,2026-03-02 06:00:04\n"
        "L1/Filler/Speed,15,0,1772427605000\n"
        "L1/Filler/Speed,16,192,\n"
        "L1/Filler/Speed,,192,2026-03-02 06:00:07\n"
    )
    points, reasons, _ = read(tmp_path, "ignition_tall_csv", text)
    assert [(p[1], p[2], p[4], p[5]) for p in points] == [
        (utc(2026, 3, 2, 5, 0, 0), 10.0, "good", 2),
        (utc(2026, 3, 2, 5, 0, 1), 11.0, "good", 3),
        (utc(2026, 3, 2, 5, 0, 2), 12.0, "uncertain", 4),
        (utc(2026, 3, 2, 5, 0, 3), 13.0, "uncertain", 5),
        (utc(2026, 3, 2, 5, 0, 4), None, "bad", 6),
        (utc(2026, 3, 2, 5, 0, 5), 15.0, "bad", 7),
    ]
    assert reasons == {8: "Timestamp is empty", 9: "Value is empty"}


# ---- proficy --------------------------------------------------------------------------------------


def test_proficy_preamble_and_physical_line_numbers(tmp_path):
    text = (
        "[Header]\n"
        "Server,HIST01\n"
        "\n"
        "Exported,3/2/2026 7:00:00 AM\n"
        "[Data]\n"
        "Tagname,TimeStamp,Value,DataQuality\n"  # line 6
        "L1.Filler.Speed,3/2/2026 6:00:00 AM,100,Good\n"  # 7
        "L1.Filler.Speed,03/02/2026 06:00:01 PM,101,Uncertain\n"  # 8: 18:00:01 Berlin (UTC+1)
        'L1.Filler.Speed,2026-03-02T05:00:02Z,"102",Bad\n'  # 9: an explicit offset is an instant
        "L1.Filler.Speed,3/2/2026 6:00:03 AM,103,Weird\n"  # 10
        "L1.Filler.Speed,13/2/2026 6:00:04 AM,104,Good\n"  # 11: not a US date
        "L1.Filler.Speed,2026-03-02 06:00:05,105,Good\n"  # 12: ISO without offset: not the format
    )
    points, reasons, _ = read(tmp_path, "proficy_csv", text, timestamp_format="%m/%d/%Y %I:%M:%S %p")
    assert points == [
        ("L1.Filler.Speed", utc(2026, 3, 2, 5, 0, 0), 100.0, None, "good", 7),
        ("L1.Filler.Speed", utc(2026, 3, 2, 17, 0, 1), 101.0, None, "uncertain", 8),
        ("L1.Filler.Speed", utc(2026, 3, 2, 5, 0, 2), 102.0, None, "bad", 9),
    ]
    assert reasons == {
        10: "DataQuality not recognised: Weird",
        11: "timestamp does not match %m/%d/%Y %I:%M:%S %p (13/2/2026 6:00:04 AM)",
        12: "timestamp does not match %m/%d/%Y %I:%M:%S %p (2026-03-02 06:00:05)",
    }
    # Without the format, 3/2/2026 could be 3 February as well: not read, and the reason says what to set.
    points, reasons, _ = read(tmp_path, "proficy_csv", text)
    assert [p[5] for p in points] == [9, 12]  # the ISO 8601 lines, with and without an offset
    assert reasons[7] == "timestamp is not ISO-8601 (3/2/2026 6:00:00 AM); set timestamp_format for this source"


def test_proficy_without_data_section_or_header_is_refused(tmp_path):
    with pytest.raises(FileRejected, match="no \\[Data\\] section"):
        read(tmp_path, "proficy_csv", "Some,Thing\n1,2\n")


# ---- sensor_jsonl ---------------------------------------------------------------------------------


def test_sensor_jsonl_messages_metrics_and_bad_lines(tmp_path):
    lines = [
        '{"ts": "2026-03-02T05:00:00.123Z", "device": "L1-FILLER-VIB", '
        '"metrics": {"vib_rms_mm_s": 2.31, "temp_c": 41.2}}',
        '{"ts": 1772427601, "device": "L1-FILLER-VIB", "metrics": {"temp_c": 41.3}, "quality": "uncertain"}',
        '{"ts": 1772427602500, "device": "L1-FILLER-VIB", "metrics": {"temp_c": 41.4, "state": "RUN"}}',
        "not json at all",
        "",
        '{"ts": "2026-03-02 06:00:03", "device": "L1-FILLER-VIB", "metrics": {"temp_c": null, "x": [1]}}',
        '{"device": "L1-FILLER-VIB", "metrics": {"temp_c": 1}}',
        '{"ts": "2026-03-02 06:00:04", "device": "L1-FILLER-VIB", "metrics": {"temp_c": NaN}}',
    ]
    points, reasons, n = read(tmp_path, "sensor_jsonl", "\n".join(lines) + "\n", name="dump.jsonl")
    assert points == [
        ("L1-FILLER-VIB.temp_c", utc(2026, 3, 2, 5, 0, 0, 123000), 41.2, None, "good", 1),
        ("L1-FILLER-VIB.vib_rms_mm_s", utc(2026, 3, 2, 5, 0, 0, 123000), 2.31, None, "good", 1),
        ("L1-FILLER-VIB.temp_c", utc(2026, 3, 2, 5, 0, 1), 41.3, None, "uncertain", 2),
        ("L1-FILLER-VIB.state", utc(2026, 3, 2, 5, 0, 2, 500000), None, "RUN", "good", 3),
        ("L1-FILLER-VIB.temp_c", utc(2026, 3, 2, 5, 0, 2, 500000), 41.4, None, "good", 3),
    ]
    assert reasons[4].startswith("not JSON: Expecting value")
    assert reasons[7] == "message has no usable ts"
    assert reasons[8] == "Value is not finite: nan"
    assert n == 5  # line 4, two metrics of line 6, line 7, line 8
    assert {6} <= set(reasons)


def test_sensor_jsonl_field_names_are_options(tmp_path):
    line = '{"time": "2026-03-02T05:00:00Z", "id": "PUMP1", "values": {"p_bar": 3.5}, "q": 192}\n'
    points, _, _ = read(
        tmp_path,
        "sensor_jsonl",
        line,
        name="d.jsonl",
        ts_field="time",
        device_field="id",
        metrics_field="values",
        quality_field="q",
        tag_separator="/",
    )
    assert points == [("PUMP1/p_bar", utc(2026, 3, 2, 5, 0), 3.5, None, "good", 1)]


# ---- sensor_csv -----------------------------------------------------------------------------------


def test_sensor_csv_decimal_comma_latin1_and_prefix(tmp_path):
    text = "Zeit;Temperatur °C;Druck\n02.03.2026 06:00;21,5;1.013,2\n02.03.2026 06:15;abc;\n31.02.2026 06:30;1;2\n"
    points, reasons, _ = read(
        tmp_path,
        "sensor_csv",
        text.encode("latin-1"),
        encoding="latin-1",
        delimiter=";",
        decimal_comma=True,
        timestamp_format="%d.%m.%Y %H:%M",
        tag_prefix="HALL1.",
    )
    assert points == [
        ("HALL1.Druck", utc(2026, 3, 2, 5, 0), 1013.2, None, "good", 2),
        ("HALL1.Temperatur °C", utc(2026, 3, 2, 5, 0), 21.5, None, "good", 2),
    ]
    assert reasons == {3: "Value is not a number: abc", 4: "timestamp does not match %d.%m.%Y %H:%M (31.02.2026 06:30)"}


def test_sensor_csv_utf16_with_offsets(tmp_path):
    text = "timestamp,flow\n2026-03-02T06:00:00+01:00,4.5\n2026-03-02T05:15:00Z,4.6\n"
    points, reasons, _ = read(tmp_path, "sensor_csv", text.encode("utf-16"), encoding="utf-16")
    assert points == [
        ("flow", utc(2026, 3, 2, 5, 0), 4.5, None, "good", 2),
        ("flow", utc(2026, 3, 2, 5, 15), 4.6, None, "good", 3),
    ]


def test_sensor_csv_interval_end_and_midnight_label(tmp_path):
    text = (
        "\ufeffdate,kWh\n"
        "01/01/2018 23:30,1\n"
        "01/01/2018 23:45,2\n"
        "01/01/2018 00:00,3\n"  # the reading ending at midnight, labelled with the day that ends
        "02/01/2018 00:15,4\n"
    )
    points, reasons, _ = read(
        tmp_path,
        "sensor_csv",
        text,
        tz="Asia/Seoul",
        timestamp_format="%d/%m/%Y %H:%M",
        interval_label="end",
        midnight_label=True,
        earliest_timestamp="2017-01-01",
    )
    # Interval starts, in UTC (Seoul is UTC+9): 23:15, 23:30, 23:45 on 1 Jan and 00:00 on 2 Jan local.
    assert [(p[1], p[2]) for p in points] == [
        (utc(2018, 1, 1, 14, 15), 1.0),
        (utc(2018, 1, 1, 14, 30), 2.0),
        (utc(2018, 1, 1, 14, 45), 3.0),
        (utc(2018, 1, 1, 15, 0), 4.0),
    ]


def test_steel_industry_energy_dataset_lands_through_sensor_csv():
    path = Path(__file__).resolve().parents[1] / "fixtures" / "steel_industry_energy.csv.gz"
    points, reasons, n_rejects = read_path(
        path,
        "sensor_csv",
        tz="Asia/Seoul",
        timestamp_format="%d/%m/%Y %H:%M",
        interval_label="end",
        midnight_label=True,
        earliest_timestamp="2017-01-01",  # historic data: the plausible range starts before it
        tag_prefix="STEEL.",
        skip_columns=["NSM", "WeekStatus", "Day_of_week", "Load_Type"],
    )
    assert n_rejects == 0, list(reasons.items())[:5]
    usage = [p for p in points if p[0] == "STEEL.Usage_kWh"]
    assert len(usage) == 35_040
    assert [p[5] for p in usage] == list(range(2, 35_042))
    assert round(sum(p[2] for p in usage), 2) == pytest.approx(959_636.71, abs=0.01)
    by_tag: dict[str, list] = {}
    for p in points:
        by_tag.setdefault(p[0], []).append(p[1])
    assert len(by_tag) == 6
    for times in by_tag.values():
        assert all(a < b for a, b in zip(times, times[1:], strict=False))
    # The first reading ends 01/01/2018 00:15 local, so its interval starts at midnight local.
    assert usage[0][1] == utc(2017, 12, 31, 15, 0) and usage[-1][1] == utc(2018, 12, 31, 14, 45)


# ---- sensor_parquet -------------------------------------------------------------------------------


def test_sensor_parquet_long_with_quality_and_naive_times(tmp_path):
    table = pa.table(
        {
            "tag": ["A", "A", "B", "B", None],
            "ts": pa.array(
                [
                    dt.datetime(2026, 3, 2, 6),
                    dt.datetime(2026, 3, 2, 6, 1),
                    dt.datetime(2026, 3, 29, 2, 30),
                    dt.datetime(2026, 3, 2, 6),
                    dt.datetime(2026, 3, 2, 6),
                ],
                pa.timestamp("ms"),
            ),
            "value": [1.0, float("inf"), 2.0, 3.0, 4.0],
            "quality": ["good", "good", "good", "bad", "good"],
        }
    )
    path = tmp_path / "long.parquet"
    pq.write_table(table, path, row_group_size=2)
    points, reasons, _ = read_path(path, "sensor_parquet")
    assert points == [
        ("A", utc(2026, 3, 2, 5), 1.0, None, "good", 1),
        ("B", utc(2026, 3, 2, 5), 3.0, None, "bad", 4),
    ]
    assert reasons[2] == "Value is not finite: inf"
    assert reasons[3].startswith("nonexistent local time 2026-03-29 02:30:00")
    assert reasons[5] == "tag is empty"


def test_sensor_parquet_wide_with_utc_times_gzipped(tmp_path):
    table = pa.table(
        {
            "time": pa.array([utc(2026, 3, 2, 5), utc(2026, 3, 2, 5, 15)], pa.timestamp("us", tz="UTC")),
            "flow": [1.5, None],
            "running": [True, False],
        }
    )
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path)
    gz = tmp_path / "wide.parquet.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    points, reasons, _ = read_path(gz, "sensor_parquet", timestamp_column="time", tag_prefix="L1.")
    assert points == [
        ("L1.flow", utc(2026, 3, 2, 5), 1.5, None, "good", 1),
        ("L1.running", utc(2026, 3, 2, 5), 1.0, None, "good", 1),
        ("L1.running", utc(2026, 3, 2, 5, 15), 0.0, None, "good", 2),
    ]


def test_not_a_parquet_file_is_refused(tmp_path):
    with pytest.raises(FileRejected, match="not a readable Parquet file"):
        read(tmp_path, "sensor_parquet", "tag,ts,value\n", name="x.parquet")


# ---- daylight saving ------------------------------------------------------------------------------


def test_repeated_hour_resolved_per_tag_from_row_order_or_rejected(tmp_path):
    rows = [
        ("A", "2026-10-25 01:45:00", 1),  # 2: before the hour (summer)
        ("A", "2026-10-25 02:00:00", 2),  # 3: first pass, summer -> 00:00 UTC
        ("B", "2026-10-25 02:30:00", 9),  # 4: B's only point in the hour: ambiguous
        ("A", "2026-10-25 02:30:00", 3),  # 5: summer -> 00:30 UTC
        ("A", "2026-10-25 02:00:00", 4),  # 6: the clock went back: winter -> 01:00 UTC
        ("A", "2026-10-25 02:30:00", 5),  # 7: winter -> 01:30 UTC
        ("A", "2026-10-25 03:00:00", 6),  # 8: after the hour (winter) -> 02:00 UTC
        ("B", "2026-10-25 03:00:00", 10),  # 9
        ("C", "2026-10-25 02:15:00", 11),  # 10: C never leaves the hour before the file ends: ambiguous
    ]
    text = "Tag,Timestamp,Value\n" + "".join(f"{t},{ts},{v}\n" for t, ts, v in rows)
    points, reasons, _ = read(tmp_path, "pi_csv", text)
    assert [(p[0], p[1], p[5]) for p in points] == [
        ("A", utc(2026, 10, 24, 23, 45), 2),
        ("A", utc(2026, 10, 25, 0, 0), 3),
        ("A", utc(2026, 10, 25, 0, 30), 5),
        ("A", utc(2026, 10, 25, 1, 0), 6),
        ("A", utc(2026, 10, 25, 1, 30), 7),
        ("A", utc(2026, 10, 25, 2, 0), 8),
        ("B", utc(2026, 10, 25, 2, 0), 9),
    ]
    assert sorted(reasons) == [4, 10]
    assert reasons[4].startswith("ambiguous local time 2026-10-25 02:30:00 in Europe/Berlin")
    assert reasons[10].startswith("ambiguous local time 2026-10-25 02:15:00")


def test_offsets_are_never_ambiguous(tmp_path):
    text = "Tag,Timestamp,Value\nA,2026-10-25T02:30:00+02:00,1\nA,2026-10-25T02:30:00+01:00,2\n"
    points, reasons, _ = read(tmp_path, "pi_csv", text)
    assert [p[1] for p in points] == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]


# ---- archives -------------------------------------------------------------------------------------

PI_TEXT = "Tag,Timestamp,Value\nA,2026-03-02T05:00:00Z,1\nA,2026-03-02T05:01:00Z,2\n"


def test_zip_members_are_read_in_place(tmp_path):
    path = tmp_path / "exports.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("day1/a.csv", PI_TEXT)
        z.writestr("b.csv.gz", gzip.compress(PI_TEXT.encode()))
        z.writestr("day1/", "")
    members = list(iter_members(path))
    assert [name for name, _ in members] == ["day1/a.csv", "b.csv"]
    source = Source(name="s", format="pi_csv", folder="x", timezone="UTC")
    for _, opener in members:
        rows = sum(b.points.num_rows for b in read_source_file(source, opener))
        assert rows == 2


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.csv", b"0" * (20 << 20))
    with pytest.raises(FileRejected, match="compression ratio above 200:1"):
        list(iter_members(path))
    with pytest.raises(FileRejected, match="more than 1000 bytes"):
        list(iter_members(path, max_total_bytes=1000))


def test_gzip_bomb_is_stopped_while_reading(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"Tag,Timestamp,Value\n" + b"0" * (20 << 20)))
    with pytest.raises(FileRejected, match="possible decompression bomb"):
        with open_single(path)() as stream:
            while stream.read(1 << 20):
                pass


@pytest.mark.parametrize("member", ["../evil.csv", "/etc/evil.csv", "a/../../evil.csv", "C:\\evil.csv"])
def test_zip_member_leaving_its_folder_is_refused(tmp_path, member):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ok.csv", PI_TEXT)
        z.writestr(zipfile.ZipInfo(member), PI_TEXT)
    with pytest.raises(FileRejected, match="leaves the archive's folder"):
        list(iter_members(path))


def test_truncated_gzip_ends_the_stream_and_records_the_break_after_the_rows_read(tmp_path):
    body = "Tag,Timestamp,Value\n" + "".join(f"A,2026-03-02T05:{i // 60:02d}:{i % 60:02d}Z,{i}\n" for i in range(3000))
    path = tmp_path / "cut.csv.gz"
    data = gzip.compress(body.encode())
    path.write_bytes(data[: len(data) // 2])
    source = Source(name="s", format="pi_csv", folder="x", timezone="UTC")
    opener = open_single(path)
    batches = list(read_source_file(source, opener))
    points = sum(b.points.num_rows for b in batches)
    rejects = sum(b.rejects.num_rows for b in batches)
    # Every whole line before the cut is read and the cut-off line is not (it would be a row with a cut
    # value): as many points as the newlines zlib can decompress from the cut file, less the header's.
    prefix = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2])
    assert points == prefix.count(b"\n") - 1 and 0 < points < 3000
    assert rejects == 0
    assert len(opener.problems) == 1 and "truncated or corrupt" in opener.problems[0]
    assert "the cut-off last line" in opener.problems[0]

    path_json = tmp_path / "cut.jsonl.gz"
    text = "".join(f'{{"ts": {1772427600 + i}, "device": "D", "metrics": {{"m": {i}}}}}\n' for i in range(5000))
    data = gzip.compress(text.encode())
    path_json.write_bytes(data[: len(data) // 2])
    source = Source(name="s", format="sensor_jsonl", folder="x", timezone="UTC")
    opener = open_single(path_json)
    seen = sum(batch.points.num_rows for batch in read_source_file(source, opener))
    assert 0 < seen < 5000
    assert len(opener.problems) == 1


# ---- options --------------------------------------------------------------------------------------


def test_options_are_checked_with_their_path():
    assert validate_source_options("sensor_csv", {})["interval_label"] == "start"
    with pytest.raises(SourceOptionsError, match=r"sources\[2\]\.options\.delimter: is not an option of format"):
        validate_source_options("sensor_csv", {"delimter": ";"}, "sources[2].options")
    with pytest.raises(SourceOptionsError, match=r"sources\[0\]\.options\.interval_label: must be one of start, end"):
        validate_source_options("sensor_csv", {"interval_label": "middle"}, "sources[0].options")
    with pytest.raises(SourceOptionsError, match=r"options\.encoding: is not a known text encoding"):
        validate_source_options("pi_csv", {"encoding": "klingon"}, "sources[0].options")
    with pytest.raises(SourceOptionsError, match=r"options\.decimal_comma: needs a delimiter other than"):
        validate_source_options("sensor_csv", {"decimal_comma": True}, "sources[0].options")


def test_a_bad_option_rejects_the_file_with_the_option_named(tmp_path):
    with pytest.raises(FileRejected, match="options.tag_field"):
        read(tmp_path, "pi_webapi_json", "{}", name="a.json", tag_field="Id")
