"""The AVEVA Historian reader on the shared row rules: daylight-saving hours, quality, and streaming."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from assets.readers.aveva_historian import read_aveva_historian_csv
from assets.readers.csv_stream import FileRejected
from tests.helpers.exports import HEADER
from tests.helpers.exports import aveva_row as r

TZ = "Europe/Berlin"  # 2026-03-29 02:00-03:00 does not exist; 2026-10-25 02:00-03:00 happens twice


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def read(text: str, block_size: int = 16 << 20):
    """All batches of a file: (points as dicts sorted by line, {line: reason}, number of batches)."""
    data = text.encode("utf-8")
    batches = list(read_aveva_historian_csv(lambda: pa.BufferReader(data), TZ, block_size=block_size))
    points = sorted((p for b in batches for p in b.points.to_pylist()), key=lambda p: p["source_line"])
    rejects = {row["line"]: row["reason"] for b in batches for row in b.rejects.to_pylist()}
    assert sum(b.rejects.num_rows for b in batches) == len(rejects), "a line rejected twice"
    return points, rejects, len(batches)


def test_the_repeated_hour_is_placed_by_each_tags_order():
    rows = [
        r("2026-10-25 01:40:00", "A", 1),  # line 2: 23:40 UTC
        r("2026-10-25 02:00:00", "A", 2),  # first pass, CEST: 00:00 UTC
        r("2026-10-25 02:20:00", "B", 20),  # B: first pass (its clock steps back below)
        r("2026-10-25 02:40:00", "A", 3),  # CEST: 00:40 UTC
        r("2026-10-25 02:00:00", "A", 4),  # step back, CET: 01:00 UTC
        r("2026-10-25 02:10:00", "B", 21),  # B steps back, CET: 01:10 UTC
        r("2026-10-25 02:40:00", "A", 5),  # CET: 01:40 UTC
        r("2026-10-25 03:00:00", "A", 6),  # 02:00 UTC
    ]
    points, rejects, _ = read(HEADER + "".join(rows))
    assert rejects == {}
    assert [(p["tag"], p["ts"], p["value"], p["source_line"]) for p in points] == [
        ("A", utc(2026, 10, 24, 23, 40), 1.0, 2),
        ("A", utc(2026, 10, 25, 0, 0), 2.0, 3),
        ("B", utc(2026, 10, 25, 0, 20), 20.0, 4),
        ("A", utc(2026, 10, 25, 0, 40), 3.0, 5),
        ("A", utc(2026, 10, 25, 1, 0), 4.0, 6),
        ("B", utc(2026, 10, 25, 1, 10), 21.0, 7),
        ("A", utc(2026, 10, 25, 1, 40), 5.0, 8),
        ("A", utc(2026, 10, 25, 2, 0), 6.0, 9),
    ]


def test_a_tag_the_order_cannot_place_is_rejected_as_ambiguous():
    rows = [
        r("2026-10-25 02:30:00", "ONE", 1),  # line 2: a single point in the hour, then the tag moves on
        r("2026-10-25 02:15:00", "LAST", 7),  # line 3: the file ends with the tag still in the hour
        r("2026-10-25 03:30:00", "ONE", 2),  # line 4: unambiguous, 02:30 UTC
        "2026-10-25 02:30:00+01:00,OFFSET,3,3,0,192,192,Delta\n",  # line 5: an explicit offset is that instant
    ]
    points, rejects, _ = read(HEADER + "".join(rows))
    assert [(p["tag"], p["ts"], p["source_line"]) for p in points] == [
        ("ONE", utc(2026, 10, 25, 2, 30), 4),
        ("OFFSET", utc(2026, 10, 25, 1, 30), 5),
    ]
    assert sorted(rejects) == [2, 3]
    assert rejects[2].startswith("ambiguous local time 2026-10-25 02:30:00 in Europe/Berlin")
    assert rejects[3].startswith("ambiguous local time 2026-10-25 02:15:00 in Europe/Berlin")


def test_the_spring_gap_is_rejected_and_an_explicit_offset_is_not():
    rows = [
        r("2026-03-29 01:59:00", "T", 1),  # 00:59 UTC
        r("2026-03-29 02:30:00", "T", 2),  # does not exist
        "2026-03-29T02:30:00+01:00,T,3,3,0,192,192,Delta\n",  # an instant, 01:30 UTC
        r("2026-03-29 03:00:00", "T", 4),  # CEST: 01:00 UTC
    ]
    points, rejects, _ = read(HEADER + "".join(rows))
    assert [(p["ts"], p["value"]) for p in points] == [
        (utc(2026, 3, 29, 0, 59), 1.0),
        (utc(2026, 3, 29, 1, 30), 3.0),
        (utc(2026, 3, 29, 1, 0), 4.0),
    ]
    assert rejects == {3: "nonexistent local time 2026-03-29 02:30:00 in Europe/Berlin (daylight-saving gap)"}


def test_quality_worst_of_both_columns_string_tags_and_aveva_reasons():
    text = (
        "DateTime,TagName,Value,vValue,Quality,OPCQuality,wwRetrievalMode,wwVersion\n"
        "2026-03-02 06:00:00,Q,1,1,0,192,Delta,Latest\n"  # good
        "2026-03-02 06:00:01,Q,2,2,0,100,Delta,Latest\n"  # uncertain by OPC
        "2026-03-02 06:00:02,Q,3,3,16,0,Delta,Latest\n"  # bad by OPC
        "2026-03-02 06:00:03,Q,4,4,,64,Delta,Latest\n"  # OPC only: uncertain
        "2026-03-02 06:00:04,S,,Running,0,192,Delta,Latest\n"  # string tag
        "2026-03-02 06:00:05,Q,5,5,,,Delta,Latest\n"  # no quality
        "2026-03-02 06:00:06,Q,6,6,0,-1,Delta,Latest\n"  # OPC out of range
        "2026-03-02 06:00:07,Q,x,x,0,192,Delta,Latest\n"  # Value not a number (text goes in vValue)
        ",,,,,,,\n"  # empty line
    )
    points, rejects, _ = read(text)
    assert [(p["tag"], p["value"], p["value_text"], p["quality"]) for p in points] == [
        ("Q", 1.0, None, "good"),
        ("Q", 2.0, None, "uncertain"),
        ("Q", 3.0, None, "bad"),
        ("Q", 4.0, None, "uncertain"),
        ("S", None, "Running", "good"),
    ]
    assert rejects == {
        7: "no Quality or OPCQuality given",
        8: "OPCQuality code not recognised: -1",
        9: "Value is not a number: x",
        10: "empty line",
    }


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("DateTime,TagName,Quality\n", "header lacks column(s) Value"),
        ("DateTime,TagName,Value\n", "header has neither a Quality nor an OPCQuality column"),
        ("DateTime,TagName,Value,Quality,quality\n", "header names a column twice"),
    ],
)
def test_a_header_without_what_the_reader_needs_rejects_the_file(header, message):
    with pytest.raises(FileRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(header + "2026-03-02 06:00:00,T,1,0,0\n")


def night_rows(broken: list[str]) -> list[str]:
    """Three tags every 5 minutes through the autumn night, as the historian's clock showed it (the
    repeated hour twice), `broken` lines after every 17th step, and a tag D with one point in the hour."""
    rows: list[str] = []
    for step in range(60):
        wall = dt.datetime(2026, 10, 25, 0, 0) + dt.timedelta(minutes=step * 5)
        if step * 5 >= 180:  # 03:00 CEST is 02:00 CET again
            wall -= dt.timedelta(hours=1)
        for tag in ("A", "B", "C"):
            rows.append(r(wall.strftime("%Y-%m-%d %H:%M:%S"), tag, step))
        if step % 17 == 0:
            rows.extend(broken)
    rows.append(r("2026-10-25 02:45:00", "D", 1))  # the file ends with D still in the hour
    return rows


def check_night(rows: list[str], rejected_per_step: int) -> None:
    points, rejects, batches = read(HEADER + "".join(rows), block_size=1024)
    assert batches >= 8  # many small batches, so rows meet block edges
    assert len(points) + len(rejects) == len(rows)
    lines = sorted([p["source_line"] for p in points] + list(rejects))
    assert lines == list(range(2, len(rows) + 2))
    assert [line for line, reason in rejects.items() if reason.startswith("ambiguous local time")] == [len(rows) + 1]
    assert len(rejects) == 4 * rejected_per_step + 1
    # Every regular tag is placed at distinct instants, five minutes apart, through both passes.
    for tag in ("A", "B", "C"):
        ts = [p["ts"] for p in sorted((p for p in points if p["tag"] == tag), key=lambda p: p["value"])]
        assert len(ts) == 60
        assert ts[0] == utc(2026, 10, 24, 22, 0)
        assert all(b - a == dt.timedelta(minutes=5) for a, b in zip(ts, ts[1:], strict=False))


def test_every_line_is_a_point_or_a_reject_across_many_small_batches():
    broken = [
        "not a time,A,1,1,0,192,192,Delta\n",
        r("2026-03-29 02:30:00", "A", 1),  # the spring gap
        "2026-10-25 01:00:00.000,A,x,x,0,192,192,Delta\n",
        "2026-10-25 01:00:00.000,A,1,1,7,192,192,Delta\n",
    ]
    check_night(night_rows(broken), rejected_per_step=len(broken))


def test_ragged_rows_keep_the_line_numbers_of_later_batches():
    broken = ["2026-10-25 01:00:00.000,A\n", "not a time,A,1,1,0,192,192,Delta\n"]
    check_night(night_rows(broken), rejected_per_step=len(broken))


# ---- a plain file staged whole by DuckDB gives what the streaming reader gives ----------------------

EDGE_CASES = (
    "DateTime,TagName,Value,vValue,Quality,OPCQuality,wwRetrievalMode,wwVersion\n"
    "2026-03-02 06:00:00,Q,1,1,0,192,Delta,Latest\n"  # 2: good
    "2026-03-02 06:00:01,Q,2,2,0,100,Delta,Latest\n"  # 3: uncertain by OPC
    "2026-03-02 06:00:02, Q ,3,3,16,0,Delta,Latest\n"  # 4: bad by OPC; the tag's spaces are trimmed
    "2026-03-02 06:00:03,Q,4,4,,64,Delta,Latest\n"  # 5: OPC only: uncertain
    "2026-03-02 06:00:04,S,,Running,0,192,Delta,Latest\n"  # 6: string tag
    "2026-03-02 06:00:05,Q,5,5,,,Delta,Latest\n"  # 7: no quality
    "2026-03-02 06:00:06,Q,6,6,0,-1,Delta,Latest\n"  # 8: OPC out of range
    "2026-03-02 06:00:07,Q,x,x,0,192,Delta,Latest\n"  # 9: Value not a number
    ",,,,,,,\n"  # 10: empty line
    "2026-03-02 06:00:08,,1,1,0,192,Delta,Latest\n"  # 11: no tag
    "2026-03-02 06:00:09," + "L" * 257 + ",1,1,0,192,Delta,Latest\n"  # 12: tag too long
    "not a time,Q,1,1,0,192,Delta,Latest\n"  # 13: DateTime not a timestamp
    ",Q,1,1,0,192,Delta,Latest\n"  # 14: DateTime empty
    "2026-03-02 06:00:10,Q,1,1,7,192,Delta,Latest\n"  # 15: Quality code unknown
    "2026-03-02 06:00:11,Q,inf,inf,0,192,Delta,Latest\n"  # 16: Value not finite
    "2026-03-02 06:00:12,Q,,,1,0,Delta,Latest\n"  # 17: bad point without a value
    "2026-03-02 06:00:13,Q,,,0,192,Delta,Latest\n"  # 18: Value empty
    "2026-03-02T05:00:14Z,Q,7.5,7.5,0,192,Delta,Latest\n"  # 19: UTC by its offset
    "2026-03-02 07:00:15+01:00,Q, 8 ,8,0,192,Delta,Latest\n"  # 20: offset +01:00; spaces around the value
    '2026-03-02 06:00:16,"Q,2",9,9,0,192,Delta,Latest\n'  # 21: a quoted tag with the delimiter
    "2026-07-02 06:00:17,Q,10,10,16,,Delta,Latest\n"  # 22: summer time, doubtful quality
)


def staged_whole(tmp_path, text: str):
    """(points, {line: (reason, raw)}) of a file staged by `stage_file`, or None if it declined the file."""
    import duckdb

    from assets.readers.aveva_historian import stage_file, staged_rows

    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "rows.parquet"
    rows = stage_file(path, TZ, "utf-8", ",", out)
    if rows is None:
        return None
    table = duckdb.sql(f"select * from {staged_rows(out)} order by source_line").to_arrow_table()
    assert table.num_rows == rows
    points = [
        {k: row[k] for k in ("tag", "ts", "value", "value_text", "quality", "source_line")}
        for row in table.to_pylist()
        if row["reason"] is None
    ]
    rejects = {row["source_line"]: (row["reason"], row["raw"]) for row in table.to_pylist() if row["reason"]}
    return points, rejects


def streamed(text: str):
    data = text.encode("utf-8")
    batches = list(read_aveva_historian_csv(lambda: pa.BufferReader(data), TZ))
    points = sorted((p for b in batches for p in b.points.to_pylist()), key=lambda p: p["source_line"])
    rejects = {row["line"]: (row["reason"], row["raw"]) for b in batches for row in b.rejects.to_pylist()}
    return points, rejects


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_file_staged_whole_gives_the_points_and_rejects_of_the_streaming_reader(tmp_path, newline):
    text = EDGE_CASES.replace("\n", newline)
    points, rejects = staged_whole(tmp_path, text)
    assert (points, rejects) == streamed(text)
    assert [(p["source_line"], p["tag"], p["ts"], p["value"], p["value_text"], p["quality"]) for p in points] == [
        (2, "Q", utc(2026, 3, 2, 5, 0, 0), 1.0, None, "good"),
        (3, "Q", utc(2026, 3, 2, 5, 0, 1), 2.0, None, "uncertain"),
        (4, "Q", utc(2026, 3, 2, 5, 0, 2), 3.0, None, "bad"),
        (5, "Q", utc(2026, 3, 2, 5, 0, 3), 4.0, None, "uncertain"),
        (6, "S", utc(2026, 3, 2, 5, 0, 4), None, "Running", "good"),
        (17, "Q", utc(2026, 3, 2, 5, 0, 12), None, None, "bad"),
        (19, "Q", utc(2026, 3, 2, 5, 0, 14), 7.5, None, "good"),
        (20, "Q", utc(2026, 3, 2, 6, 0, 15), 8.0, None, "good"),
        (21, "Q,2", utc(2026, 3, 2, 5, 0, 16), 9.0, None, "good"),
        (22, "Q", utc(2026, 7, 2, 4, 0, 17), 10.0, None, "uncertain"),
    ]
    assert {line: reason for line, (reason, _raw) in rejects.items()} == {
        7: "no Quality or OPCQuality given",
        8: "OPCQuality code not recognised: -1",
        9: "Value is not a number: x",
        10: "empty line",
        11: "TagName is empty",
        12: "TagName is longer than 256 characters",
        13: "timestamp is not ISO-8601 (not a time); set timestamp_format for this source",
        14: "DateTime is empty",
        15: "Quality code not recognised: 7",
        16: "Value is not finite: inf",
        18: "Value is empty",
    }
    assert rejects[9][1] == "2026-03-02 06:00:07,Q,x,x,0,,192"  # the fields as read, QualityDetail absent


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("a blank line", HEADER + r("2026-03-02 06:00:00", "A", 1) + "\n" + r("2026-03-02 06:00:01", "A", 2)),
        ("a field across lines", HEADER + '2026-03-02 06:00:00.000,"A\nB",1,1,0,192,192,Delta\n'),
        ("a row with too few fields", HEADER + r("2026-03-02 06:00:00", "A", 1) + "2026-03-02 06:00:01,A,2\n"),
        ("a control character in a tag", HEADER + r("2026-03-02 06:00:00", "A\tB", 1)),
        ("the repeated hour", HEADER + r("2026-10-25 02:30:00", "A", 1)),
        ("the daylight-saving gap", HEADER + r("2026-03-29 02:30:00", "A", 1)),
        # 02:00 UTC, an hour after the clocks went forward: DuckDB's reading of a time this near a change
        # is not trusted, whatever the time
        ("near a clock change", HEADER + r("2026-03-29 04:00:00", "A", 1)),
        ("text that is not UTF-8", HEADER + r("2026-03-02 06:00:00", "A", 1).replace("A", "\udcff")),
    ],
)
def test_a_file_the_whole_file_stager_declines_is_left_to_the_streaming_reader(tmp_path, case, text):
    if "\udcff" in text:
        (tmp_path / "export.csv").write_bytes(text.encode("utf-8", errors="surrogateescape"))
        from assets.readers.aveva_historian import stage_file

        assert stage_file(tmp_path / "export.csv", TZ, "utf-8", ",", tmp_path / "rows.parquet") is None
        return
    assert staged_whole(tmp_path, text) is None, case


def test_a_file_of_the_day_of_a_clock_change_is_staged_whole_clear_of_the_change(tmp_path):
    # 08:00 and 20:00 CEST on the day the clocks went forward (01:00 UTC): 06:00 and 18:00 UTC
    text = HEADER + r("2026-03-29 08:00:00", "A", 1) + r("2026-03-29 20:00:00", "A", 2)
    points, rejects = staged_whole(tmp_path, text)
    assert rejects == {}
    assert [(p["source_line"], p["ts"]) for p in points] == [(2, utc(2026, 3, 29, 6)), (3, utc(2026, 3, 29, 18))]
