"""The row rules (sql/bronze/row_rules.sql) give the same points and the same quarantine reasons on both
ways an AVEVA export is read: the streaming reader (Arrow batches through DuckDB) and the whole-file stager
(one DuckDB statement over the file). Every expected value below is worked out by hand from the row."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from assets.plant.timestamps import TimestampBounds
from assets.readers.aveva_historian import read_aveva_historian_csv, stage_file, staged_rows
from tests.helpers.exports import HEADER

TZ = "Europe/Berlin"  # March: CET, UTC+01:00
# Fixed bounds, so that the reasons do not depend on the clock.
BOUNDS = TimestampBounds(
    earliest=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), latest=dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
)
RANGE_NOTE = (
    "accepted 2026-01-01 00:00:00 to 2026-12-31 00:00:00 UTC "
    "(source options earliest_timestamp, latest_timestamp_ahead_s)"
)
LONG_TAG = "T" * 257

# DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality,wwRetrievalMode; line 1 is the header.
TRICKY = HEADER + "".join(
    [
        "2026-03-02 06:00:00,T1,1.5,1.5,0,192,192,Delta\n",  # 2: a good point
        "2025-12-31 23:59:59,T1,1,1,0,192,192,Delta\n",  # 3: before the earliest time (00:59:59 CET < 01:00)
        "2026-03-02T06:00:00+15:00,T1,1,1,0,192,192,Delta\n",  # 4: an offset beyond +14:00
        "2027-01-01T00:00:00Z,T1,1,1,0,192,192,Delta\n",  # 5: after the latest time
        f"2026-03-02 06:00:04,{LONG_TAG},1,1,0,192,192,Delta\n",  # 6: a tag of 257 characters
        "2026-03-02 06:00:05,,1,1,0,192,192,Delta\n",  # 7: no tag
        "2026-03-02 06:00:06,T1,1,1,abc,192,192,Delta\n",  # 8: a Quality that is no code
        "2026-03-02 06:00:07,T1,1,1,0,192,x,Delta\n",  # 9: an OPCQuality that is no code
        "2026-03-02 06:00:08,T1,NaN,NaN,0,192,192,Delta\n",  # 10: not finite
        '2026-03-02 06:00:09,T1,"12,5","12,5",0,192,192,Delta\n',  # 11: a decimal comma is not a number here
        "2026-03-02 06:00:10,T2,,,1,0,0,Delta\n",  # 12: no value on a bad row: a bad point
        "2026-03-02 06:00:11,S1,,Running,0,192,192,Delta\n",  # 13: text in vValue: a text point
        "2026-03-02 06:00:12,T2,,,0,192,192,Delta\n",  # 14: no value on a good row
        "02.03.2026 06:00,T1,1,1,0,192,192,Delta\n",  # 15: not ISO 8601 and no timestamp_format
        "2026-02-30 06:00:00,T1,1,1,0,192,192,Delta\n",  # 16: ISO form, no such day
        "2026-03-02 06:00:15,T1,5,5,16,0,0,Delta\n",  # 17: doubtful and OPC bad: the worse, bad
        "2026-03-02 06:00:16, T3 , 7 , 7 ,0,192,192,Delta\n",  # 18: spaces around tag and value
        "2026-03-02 06:00:17,T1,abc,abc,zz,192,192,Delta\n",  # 19: quality is checked before the value
        "garbage,,1,1,0,192,192,Delta\n",  # 20: the tag is checked before the time
        "2025-06-01 00:00:00,T1,1,1,zz,192,192,Delta\n",  # 21: the time is checked before the quality
        "2026-03-02 06:00:20,T1,,,,,,Delta\n",  # 22: no quality at all is checked before the value
    ]
)

# Points: the local time minus one hour (CET); value, value_text, quality as the row gives them.
EXPECTED_POINTS = [
    (2, "T1", dt.datetime(2026, 3, 2, 5, 0, 0, tzinfo=dt.UTC), 1.5, None, "good"),
    (12, "T2", dt.datetime(2026, 3, 2, 5, 0, 10, tzinfo=dt.UTC), None, None, "bad"),
    (13, "S1", dt.datetime(2026, 3, 2, 5, 0, 11, tzinfo=dt.UTC), None, "Running", "good"),
    (17, "T1", dt.datetime(2026, 3, 2, 5, 0, 15, tzinfo=dt.UTC), 5.0, None, "bad"),
    (18, "T3", dt.datetime(2026, 3, 2, 5, 0, 16, tzinfo=dt.UTC), 7.0, None, "good"),
]
EXPECTED_REASONS = {
    3: f"timestamp out of range (2025-12-31 23:59:59): {RANGE_NOTE}",
    4: "timestamp out of range (2026-03-02T06:00:00+15:00): its UTC offset is beyond ±14:00",
    5: f"timestamp out of range (2027-01-01T00:00:00Z): {RANGE_NOTE}",
    6: "TagName is longer than 256 characters",
    7: "TagName is empty",
    8: "Quality code not recognised: abc",
    9: "OPCQuality code not recognised: x",
    10: "Value is not finite: NaN",
    11: "Value is not a number: 12,5",
    14: "Value is empty",
    15: "timestamp is not ISO-8601 (02.03.2026 06:00); set timestamp_format for this source",
    16: "timestamp is not a valid ISO-8601 time (2026-02-30 06:00:00)",
    19: "Quality code not recognised: zz",
    20: "TagName is empty",
    21: f"timestamp out of range (2025-06-01 00:00:00): {RANGE_NOTE}",
    22: "no Quality or OPCQuality given",
}


def _streamed(text: str):
    data = text.encode("utf-8")
    batches = list(read_aveva_historian_csv(lambda: pa.BufferReader(data), TZ, bounds=BOUNDS))
    points = sorted((p for b in batches for p in b.points.to_pylist()), key=lambda p: p["source_line"])
    rejects = {row["line"]: (row["reason"], row["raw"]) for b in batches for row in b.rejects.to_pylist()}
    return points, rejects


def _staged_whole(tmp_path, text: str):
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "rows.parquet"
    assert stage_file(path, TZ, "utf-8", ",", out, bounds=BOUNDS) is not None, "the stager declined the file"
    table = duckdb.sql(f"select * from {staged_rows(out)} order by source_line").to_arrow_table().to_pylist()
    points = [
        {k: row[k] for k in ("tag", "ts", "value", "value_text", "quality", "source_line")}
        for row in table
        if row["reason"] is None
    ]
    rejects = {row["source_line"]: (row["reason"], row["raw"]) for row in table if row["reason"] is not None}
    return points, rejects


def _as_tuples(points):
    return [(p["source_line"], p["tag"], p["ts"], p["value"], p["value_text"], p["quality"]) for p in points]


def test_both_ways_of_reading_an_export_land_the_same_rows_with_the_same_reasons(tmp_path):
    for points, rejects in (_streamed(TRICKY), _staged_whole(tmp_path, TRICKY)):
        assert _as_tuples(points) == EXPECTED_POINTS
        assert {line: reason for line, (reason, _raw) in rejects.items()} == EXPECTED_REASONS
        # the raw text: the seven History fields as read, joined by commas (wwRetrievalMode left out)
        assert rejects[11][1] == "2026-03-02 06:00:09,T1,12,5,12,5,0,192,192"
        assert rejects[6][1] == f"2026-03-02 06:00:04,{LONG_TAG},1,1,0,192,192"
    assert _streamed(TRICKY) == _staged_whole(tmp_path, TRICKY)
