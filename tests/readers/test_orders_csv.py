"""The orders_csv reader: each order line one point `order:<id>`, or a quarantined line with its reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assets.plant.config import Source, parse_plant_config
from assets.readers import FileRejected, read_source_file
from assets.readers.archives import open_single
from tests.helpers.plant import one_machine_config

HEADER = "order_id,product,line,machine,planned_qty,planned_start,planned_end,actual_start,actual_end"
UTC = dt.UTC


def orders_source(options: dict | None = None) -> Source:
    """The orders source of a plant with products 033 and 100 and line L1 (FILLER with OEE)."""
    config = one_machine_config()
    config["products"] = [
        {"id": "033", "name": "0.33 l bottle", "ideal_cycle_time_s": 0.5},
        {"id": "100", "name": "1 l bottle", "ideal_cycle_time_s": 1.5},
    ]
    source = {"name": "orders", "format": "orders_csv", "folder": "orders", "timezone": "Europe/Berlin"}
    config["sources"].append({**source, **options_of(options)})
    return parse_plant_config(config).sources[-1]


def options_of(options: dict | None) -> dict:
    return {"options": options} if options else {}


def read(tmp_path: Path, lines: list[str], options: dict | None = None) -> tuple[list[dict], list[tuple]]:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    points, rejects = [], []
    for batch in read_source_file(orders_source(options), open_single(path)):
        points += batch.points.to_pylist()
        rejects += [(r["line"], r["reason"]) for r in batch.rejects.to_pylist()]
    return points, rejects


def test_an_order_is_one_point_at_its_planned_start_with_the_order_as_json(tmp_path):
    points, rejects = read(
        tmp_path,
        [
            HEADER,
            # Berlin is UTC+1 on 2026-03-02 (summer time starts 2026-03-29): 06:00 local = 05:00 UTC
            "A-1,033,L1,FILLER,5000,2026-03-02 06:00,2026-03-02 14:00,2026-03-02 06:10,",
            # an explicit offset is that instant; machine empty = the whole line; a fraction stays a fraction
            "A-2,100,L1,,12.5,2026-03-02T14:00:00Z,2026-03-02T16:00:00Z,,",
        ],
    )
    assert rejects == []
    assert [(p["tag"], p["ts"], p["value"], p["quality"], p["source_line"]) for p in points] == [
        ("order:A-1", dt.datetime(2026, 3, 2, 5, tzinfo=UTC), 5000.0, "good", 2),
        ("order:A-2", dt.datetime(2026, 3, 2, 14, tzinfo=UTC), 12.5, "good", 3),
    ]
    assert points[0]["value_text"] == (
        '{"actual_end":null,"actual_start":"2026-03-02T05:10:00Z","line":"L1","machine":"FILLER","order_id":"A-1",'
        '"planned_end":"2026-03-02T13:00:00Z","planned_qty":5000,"planned_start":"2026-03-02T05:00:00Z",'
        '"product":"033"}'
    )
    assert json.loads(points[1]["value_text"]) == {
        "actual_end": None,
        "actual_start": None,
        "line": "L1",
        "machine": None,
        "order_id": "A-2",
        "planned_end": "2026-03-02T16:00:00Z",
        "planned_qty": 12.5,
        "planned_start": "2026-03-02T14:00:00Z",
        "product": "100",
    }


def test_a_timestamp_format_alone_reads_the_wall_clock_of_the_source_zone(tmp_path):
    points, rejects = read(
        tmp_path,
        [
            HEADER,
            # 2026-07-01 in Berlin is summer time, UTC+2: 06:00 -> 04:00 UTC, 14:00 -> 12:00 UTC
            "B-1,033,L1,FILLER,100,01.07.2026 06:00,01.07.2026 14:00,01.07.2026 06:30,01.07.2026 13:45",
            # with a timestamp_format, ISO text without an offset is not read
            "B-2,033,L1,FILLER,100,2026-07-02 06:00,02.07.2026 14:00,,",
            # 29.03.2026 02:30 does not exist in Berlin (clocks jump 02:00 -> 03:00)
            "B-3,033,L1,FILLER,100,29.03.2026 02:30,29.03.2026 08:00,,",
        ],
        {"timestamp_format": "%d.%m.%Y %H:%M"},
    )
    assert [(p["tag"], p["ts"]) for p in points] == [("order:B-1", dt.datetime(2026, 7, 1, 4, tzinfo=UTC))]
    order = json.loads(points[0]["value_text"])
    assert (order["planned_end"], order["actual_start"], order["actual_end"]) == (
        "2026-07-01T12:00:00Z",
        "2026-07-01T04:30:00Z",
        "2026-07-01T11:45:00Z",
    )
    assert rejects == [
        (3, "timestamp does not match %d.%m.%Y %H:%M (2026-07-02 06:00)"),
        (4, "nonexistent local time 2026-03-29 02:30:00 in Europe/Berlin (daylight-saving gap)"),
    ]


def test_bad_orders_are_quarantined_with_the_first_reason(tmp_path):
    ok = "2026-03-02T06:00:00+01:00,2026-03-02T14:00:00+01:00"
    points, rejects = read(
        tmp_path,
        [
            HEADER,
            f",033,L1,FILLER,100,{ok},,",
            f"C-2,999,L1,FILLER,100,{ok},,",
            f"C-3,033,L9,FILLER,100,{ok},,",
            f"C-4,033,L1,CAPPER,100,{ok},,",
            f"C-5,033,L1,FILLER,-1,{ok},,",
            f"C-6,033,L1,FILLER,lots,{ok},,",
            f"C-7,033,L1,FILLER,,{ok},,",
            "C-8,033,L1,FILLER,100,2026-03-02T14:00:00Z,2026-03-02T14:00:00Z,,",
            "C-9,033,L1,FILLER,100,2026-03-03T06:00:00Z,2026-03-03T08:00:00Z,2026-03-03T07:00:00Z,2026-03-03T06:59:00Z",
            "C-10,033,L1,FILLER,100,,2026-03-04T08:00:00Z,,",
            "C-11,033,L1,FILLER,100,2026-03-04T06:00:00Z,2026-03-04T08:00:00Z,,2026-03-04T07:00:00Z",
            "C-12,033,L1,FILLER,100,1999-03-04T06:00:00Z,1999-03-04T08:00:00Z,,",
            "C-13,033,L1,FILLER,100,2026-03-05T06:00:00Z,2026-03-05T08:00:00Z,03/05/2026,",
            "C-14,033,L1,FILLER",
        ],
    )
    assert points == []
    # first_day 2026-01-01: earliest_timestamp defaults to a year before; the upper bound is now + 366 days
    (line, reason), latest = rejects[11], (dt.datetime.now(UTC) + dt.timedelta(days=366)).date()
    assert line == 13 and f" to {latest:%Y-%m-%d} " in reason
    rejects[11] = (line, reason.split(" to ")[0] + " to <now + 366 days>")
    assert rejects == [
        (2, "order_id is empty"),
        (3, "product '999' is not in the products catalog"),
        (4, "line 'L9' is not a line of the plant (L1)"),
        (5, "machine 'CAPPER' is not a machine with OEE on line L1 (FILLER)"),
        (6, "planned_qty is not a non-negative number: -1"),
        (7, "planned_qty is not a non-negative number: lots"),
        (8, "planned_qty is empty"),
        (9, "planned_end 2026-03-02T14:00:00Z is not after planned_start 2026-03-02T14:00:00Z"),
        (10, "actual_end 2026-03-03T06:59:00Z is before actual_start 2026-03-03T07:00:00Z"),
        (11, "planned_start is empty"),
        (12, "actual_end is set but actual_start is empty"),
        (13, "timestamp out of range (1999-03-04T06:00:00Z): accepted 2025-01-01 00:00:00 to <now + 366 days>"),
        (14, "timestamp is not ISO-8601 (03/05/2026); set timestamp_format for this source"),
        (15, "expected 9 fields, found 4"),
    ]


def test_the_later_of_two_overlapping_orders_on_a_machine_is_quarantined_naming_the_earlier(tmp_path):
    points, rejects = read(
        tmp_path,
        [
            HEADER,
            "D-1,033,L1,FILLER,100,2026-03-02T06:00:00Z,2026-03-02T10:00:00Z,,",
            # back to back with D-1: [10:00, 12:00) meets [06:00, 10:00) nowhere
            "D-2,100,L1,FILLER,100,2026-03-02T10:00:00Z,2026-03-02T12:00:00Z,,",
            # the whole line (machine empty) from 11:00 meets D-2 on L1/FILLER
            "D-3,033,L1,,100,2026-03-02T11:00:00Z,2026-03-02T13:00:00Z,,",
            # planned far later, but started at 07:00 and not finished: actual_start..planned_end meets D-1
            "D-4,033,L1,FILLER,100,2026-03-02T20:00:00Z,2026-03-02T22:00:00Z,2026-03-02T07:00:00Z,",
            # the same order again in the file
            "D-1,033,L1,FILLER,100,2026-03-02T06:00:00Z,2026-03-02T10:00:00Z,,",
        ],
    )
    assert [p["tag"] for p in points] == ["order:D-1", "order:D-2"]
    assert rejects == [
        (4, "overlaps order D-2 on L1/FILLER"),
        (5, "overlaps order D-1 on L1/FILLER"),
        (6, "order D-1 is listed again (first on line 2)"),
    ]


def test_a_file_without_the_order_columns_is_rejected_naming_them(tmp_path):
    with pytest.raises(FileRejected, match="header lacks column\\(s\\) planned_qty, planned_end; found"):
        read(tmp_path, ["order_id,product,line,machine,planned_start,actual_start", "X,033,L1,,2026-03-02,"])


def test_a_source_not_read_from_a_plant_yaml_has_no_catalog_to_check_against(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    source = Source(name="o", format="orders_csv", folder="o", timezone="UTC")
    with pytest.raises(FileRejected, match="plant's products and lines"):
        list(read_source_file(source, open_single(path)))
