"""The daily report's production of a line: output by hour against target with the gap per shift, the day's
orders with their completion, the changeovers against their targets; from a small marts file built by hand
(the plant in Europe/Berlin, UTC+1 in March, production day from 06:00 to 06:00)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from assets.report.page import render_daily_report
from tests.helpers.browser import NEEDS_CHROMIUM, chromium, have_chromium, screenshot

WED = dt.date(2026, 3, 4)
UTC = dt.UTC

HOURLY_DDL = """
create table production_hourly (
    level varchar, site varchar, area varchar, line varchar, machine varchar, day date, shift_name varchar,
    hour_start timestamptz, hour_end timestamptz, local_hour varchar, products varchar,
    total_count bigint, good_count bigint, run_time_s double, stop_time_s double, planned_production_time_s double,
    target_count double, cumulative_good double, cumulative_target double, gap double
)
"""
ORDER_DDL = """
create table oee_order (
    site varchar, area varchar, line varchar, machine varchar, is_output_machine boolean, order_id varchar,
    product varchar, product_name varchar, status varchar, planned_qty double,
    planned_start timestamptz, planned_end timestamptz, actual_start timestamptz, actual_end timestamptz,
    total_count bigint, good_count bigint, reject_count bigint, run_time_s double, planned_production_time_s double,
    availability double, performance double, quality double, oee double, ideal_duration_s double,
    actual_duration_s double, completion double, estimated_end timestamptz
)
"""
CHANGEOVER_DDL = """
create table changeovers (
    site varchar, area varchar, line varchar, machine varchar, from_product varchar, to_product varchar,
    start timestamptz, "end" timestamptz, duration_s double, target_s double, over_target_s double, day date,
    shift_name varchar, in_planned_time_s double
)
"""


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def hour_rows() -> list[tuple]:
    """L1's output machine (CAPPER) on Wednesday: 24 hours from 06:00 local (05:00 UTC). Shift early 06:00-10:00,
    late 10:00-12:00, nothing planned after. Targets of 450 an hour (3600 s / 8 s), 337.25 in the late shift's
    second hour (2698 s planned / 8 s). Cumulative figures and the gap since each shift's start, by hand:
      early 06:00  460 / 450   cum  460 /  450     gap  +10
            07:00  400 / 450   cum  860 /  900     gap  -40
            08:00  300 / 450   cum 1160 / 1350     gap -190
            09:00  128 / 450   cum 1288 / 1800     gap -512   -> "early: 512 behind since 07:00"
      late  10:00  500 / 450   cum  500 /  450     gap  +50
            11:00  300 / 337.25 cum 800 / 787.25   gap +12.75 -> "late: 13 ahead since 10:00"
    """
    shifts = {6: "early", 7: "early", 8: "early", 9: "early", 10: "late", 11: "late"}
    goods = {6: 460, 7: 400, 8: 300, 9: 128, 10: 500, 11: 300}
    targets = {6: 450, 7: 450, 8: 450, 9: 450, 10: 450, 11: 337.25}
    rows, cum_good, cum_target, shift = [], 0.0, 0.0, None
    start = dt.datetime(2026, 3, 4, 5, tzinfo=UTC)
    for i in range(24):
        hour_start = start + dt.timedelta(hours=i)
        local = dt.datetime(2026, 3, 4, 6) + dt.timedelta(hours=i)
        name = shifts.get(local.hour) if local.day == 4 else None
        if name != shift:
            cum_good, cum_target, shift = 0.0, 0.0, name
        good, target = goods.get(local.hour, 0) if name else 0, targets.get(local.hour, 0.0) if name else 0.0
        cum_good, cum_target = cum_good + good, cum_target + target
        cumulative = (cum_good, cum_target, cum_good - cum_target) if name else (None, None, None)
        rows.append(
            ("line", "Hamburg", "Bottling", "L1", "CAPPER", WED, name, hour_start, hour_start + dt.timedelta(hours=1),
             local.strftime("%Y-%m-%d %H:%M+01:00"), "033" if name else None, good, good,
             3600.0 if name else 0.0, 0.0, 3600.0 if name else 0.0,
             target, *cumulative)
        )  # fmt: skip
    # the same hour of a machine below the output: not the line's output
    rows.append(
        ("machine", "Hamburg", "Bottling", "L1", "FILLER", WED, "early", start, start + dt.timedelta(hours=1),
         "2026-03-04 06:00+01:00", "033", 98765, 98765, 3600.0, 0.0, 3600.0, 450.0, 98765.0, 450.0, 98315.0)
    )  # fmt: skip
    return rows


def order(line, machine, output, order_id, product, name, status, planned_qty, planned, actual, good, completion,
          oee, estimated_end=None):  # fmt: skip
    return (
        "Hamburg", "Bottling", line, machine, output, order_id, product, name, status, planned_qty,
        utc(planned[0]), utc(planned[1]), actual[0] and utc(actual[0]), actual[1] and utc(actual[1]),
        good, good, 0, None, None, None, None, None, oee, None, None, completion,
        estimated_end and utc(estimated_end),
    )  # fmt: skip


# The production day runs 2026-03-04 05:00 UTC to 2026-03-05 05:00 UTC (06:00 to 06:00 on the plant's clock).
ORDER_ROWS = [
    # started before the day, ended in it: shown. 1040 good of 1000 planned: 104.0 % (an order made beyond plan)
    order("L1", "CAPPER", True, "A-100", "033", "0.33 l bottle", "done", 1000,
          ("2026-03-04 04:00", "2026-03-04 06:00"), ("2026-03-04 04:00", "2026-03-04 06:30"), 1040, 1.04, 0.75),
    # the FILLER's row of the same order: not the line's output
    order("L1", "FILLER", False, "A-100", "033", "0.33 l bottle", "done", 1000,
          ("2026-03-04 04:00", "2026-03-04 06:00"), ("2026-03-04 04:00", "2026-03-04 06:30"), 1111, 1.111, 0.5),
    # running: 500 of 2000 = 25.0 %, estimated end 14:10 UTC = 15:10 on the plant's clock
    order("L1", "CAPPER", True, "B-200", "100", "1.0 l bottle", "running", 2000,
          ("2026-03-04 07:30", "2026-03-04 12:00"), ("2026-03-04 07:40", None), 500, 0.25, 0.6, "2026-03-04 14:10"),
    # planned for the afternoon, not started: 0 of 1500 = 0.0 %, no OEE
    order("L1", "CAPPER", True, "C-300", "033", "0.33 l bottle", "planned", 1500,
          ("2026-03-04 12:00", "2026-03-04 14:00"), (None, None), 0, 0.0, None),
    # Tuesday's order, one that ended exactly at the day's start and one planned from exactly its end: not shown
    order("L1", "CAPPER", True, "D-400", "033", "0.33 l bottle", "done", 900,
          ("2026-03-03 06:00", "2026-03-03 08:00"), ("2026-03-03 06:00", "2026-03-03 08:00"), 900, 1.0, 0.9),
    order("L1", "CAPPER", True, "F-600", "033", "0.33 l bottle", "done", 900,
          ("2026-03-04 03:00", "2026-03-04 05:00"), ("2026-03-04 03:00", "2026-03-04 05:00"), 900, 1.0, 0.9),
    order("L1", "CAPPER", True, "E-500", "100", "1.0 l bottle", "planned", 900,
          ("2026-03-05 05:00", "2026-03-05 07:00"), (None, None), 0, 0.0, None),
    # L2's order with impossible figures: a planned quantity of 0 (no completion) and an OEE of 130 %
    order("L2", "PACKER", True, "G-700", "033", "<0.33 l & co>", "done", 0,
          ("2026-03-04 08:00", "2026-03-04 09:00"), ("2026-03-04 08:00", "2026-03-04 09:00"), 300, None, 1.3),
]  # fmt: skip

CHANGEOVER_ROWS = [
    # 3000 s = 50.0 min against 2400 s = 40.0 min: 10.0 min over, in red; 07:30 UTC = 08:30 on the plant's clock
    ("Hamburg", "Bottling", "L1", "FILLER", "033", "100", utc("2026-03-04 07:30"), utc("2026-03-04 08:20"),
     3000.0, 2400.0, 600.0, WED, "early", 3000.0),
    # 1500 s = 25.0 min, within its 40.0 min
    ("Hamburg", "Bottling", "L1", "CAPPER", "033", "100", utc("2026-03-04 07:32"), utc("2026-03-04 07:57"),
     1500.0, 2400.0, 0.0, WED, "early", 1500.0),
    # under way at the last state seen (no count of the new product yet): 600 s = 10.0 min so far
    ("Hamburg", "Bottling", "L1", "CAPPER", "100", "033", utc("2026-03-04 10:50"), None,
     600.0, 1800.0, 0.0, WED, "late", 600.0),
    # Tuesday's: not shown
    ("Hamburg", "Bottling", "L1", "FILLER", "100", "033", utc("2026-03-03 09:00"), utc("2026-03-03 11:00"),
     7200.0, 1800.0, 5400.0, WED - dt.timedelta(days=1), "early", 7200.0),
]  # fmt: skip


def build_marts(path: Path, tables: tuple[str, ...] = ("hourly", "orders", "changeovers"), rows: bool = True) -> Path:
    """A marts file with L1's OEE row (so the line has a section), the plant's time zone, and the three marts."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create table dim_shift (site varchar, shift_name varchar, timezone varchar)").fetchall()
        con.execute("insert into dim_shift values ('Hamburg', 'early', 'Europe/Berlin')").fetchall()
        # L1's day in oee_line_daily: 6 h planned, all of it running at its ideal rate, 4 h of good units
        con.execute(
            """
            create table oee_line_daily as select 'Hamburg' as site, 'Bottling' as area, 'L1' as line,
                ?::date as day, 21600.0 as planned_production_time_s, 21600.0 as run_time_s,
                21600.0 as ideal_time_s, 14400.0 as fully_productive_time_s, 0.0 as availability_loss_s,
                0.0 as performance_loss_s, 7200.0 as quality_loss_s, 2700::bigint as output_total_count,
                1800::bigint as output_good_count, 900::bigint as output_reject_count, 1.0 as availability,
                1.0 as performance, 2 / 3 as quality, 2 / 3 as oee
            """,
            [WED],
        ).fetchall()
        for name, ddl, table, data in (
            ("hourly", HOURLY_DDL, "production_hourly", hour_rows()),
            ("orders", ORDER_DDL, "oee_order", ORDER_ROWS),
            ("changeovers", CHANGEOVER_DDL, "changeovers", CHANGEOVER_ROWS),
        ):
            if name in tables:
                con.execute(ddl).fetchall()
                if rows:
                    con.executemany(f"insert into {table} values ({', '.join(['?'] * len(data[0]))})", data)
    finally:
        con.close()
    return path


def section(page: str, line: str) -> str:
    start = page.index(f"<h2>Line {line} ")
    return page[start : page.find("</section>", start)]


def table_rows(page: str, table: str) -> dict[str, list[str]]:
    return dict(table_list(page, table))


def table_list(page: str, table: str) -> list[tuple[str, list[str]]]:
    """A table's rows in order: the row header, then the cells' texts."""
    body = page[page.index(f'<table class="detail {table}">') :]
    body = body[: body.index("</table>")]
    return [
        (name, [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)])
        for name, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', body, re.S)
    ]


@pytest.fixture
def page(tmp_path) -> str:
    return render_daily_report(build_marts(tmp_path / "marts.duckdb"), WED)


def test_the_hours_stand_against_their_targets_with_the_gap_per_shift(page):
    l1 = section(page, "L1")
    # the six hours with a target (the empty night is left out); counts and the gap as derived in hour_rows
    assert table_rows(l1, "hourly") == {
        "Hour": ["06:00", "07:00", "08:00", "09:00", "10:00", "11:00"],
        "Good": ["460", "400", "300", "128", "500", "300"],
        "Target": ["450", "450", "450", "450", "450", "337"],
        "Gap": ["+10", "-40", "-190", "-512", "+50", "+13"],
    }
    assert '<p class="gap behind">early: 512 behind since 07:00</p>' in l1
    assert '<p class="gap">late: 13 ahead since 10:00</p>' in l1
    # one bar per hour; below target (07:00, 08:00, 09:00, 11:00) in the loss colour
    bars = re.findall(
        r'fill="(#[0-9A-F]+)" fill-opacity="0.85"><title>(\d\d:\d\d): ([\d,]+) good / target ([\d,]+)', l1
    )
    assert bars == [
        ("#009E73", "06:00", "460", "450"),
        ("#D55E00", "07:00", "400", "450"),
        ("#D55E00", "08:00", "300", "450"),
        ("#D55E00", "09:00", "128", "450"),
        ("#009E73", "10:00", "500", "450"),
        ("#D55E00", "11:00", "300", "337"),
    ]
    assert "98765" not in page and "98,765" not in page  # a machine-level row is not the line's output


def test_the_days_orders_show_their_completion_on_the_output_machine(page):
    l1 = section(page, "L1")
    # planned, good, completion, OEE, status, estimated end (running only, on the plant's clock)
    assert table_rows(l1, "orders") == {
        "A-100": ["0.33 l bottle", "1,000", "1,040", "104.0 %", "75.0 %", "done", ""],
        "B-200": ["1.0 l bottle", "2,000", "500", "25.0 %", "60.0 %", "running", "2026-03-04 15:10"],
        "C-300": ["0.33 l bottle", "1,500", "0", "0.0 %", "no data", "planned", ""],
    }
    assert "1,111" not in l1  # the FILLER's row of A-100
    # L2's impossible figures show as no data / n/a, never as 130 %; the product name is escaped
    assert table_rows(section(page, "L2"), "orders") == {
        "G-700": ["&lt;0.33 l &amp; co&gt;", "0", "300", "no data", "n/a (outside 0..100 %)", "done", ""]
    }
    assert "130.0" not in page and "<0.33 l & co>" not in page


def test_the_changeovers_stand_against_their_targets(page):
    # in order of start; the last one under way: 10:50 UTC = 11:50 on the plant's clock, 1800 s = 30.0 min target
    assert table_list(section(page, "L1"), "changeovers") == [
        ("FILLER", ["033 → 100", "08:30", "50.0 min", "40.0 min", "+10.0 min"]),
        ("CAPPER", ["033 → 100", "08:32", "25.0 min", "40.0 min", "none"]),
        ("CAPPER", ["100 → 033", "11:50", "10.0 min (under way)", "30.0 min", "none"]),
    ]
    assert '<td class="num below">50.0 min</td>' in page and '<td class="num below">+10.0 min</td>' in page
    assert '<td class="num below">25.0 min</td>' not in page
    assert "120.0 min" not in page  # Tuesday's


def test_an_older_marts_file_or_empty_marts_show_no_data(tmp_path):
    (tmp_path / "old").mkdir()
    old = section(render_daily_report(build_marts(tmp_path / "old" / "marts.duckdb", tables=()), WED), "L1")
    assert "No data: table production_hourly is not in the marts file." in old
    assert "No data: table oee_order is not in the marts file." in old
    assert "No data: table changeovers is not in the marts file." in old

    (tmp_path / "empty").mkdir()
    empty = section(render_daily_report(build_marts(tmp_path / "empty" / "marts.duckdb", rows=False), WED), "L1")
    assert "No data: no hourly production of the line's output machine on 2026-03-04." in empty
    assert "No data: no order ran on the line's output machine on 2026-03-04." in empty
    assert "No data: no changeover on the line on 2026-03-04." in empty
    assert "<svg" not in empty.split("Production by hour")[1].split("</div>")[0]


@pytest.mark.skipif(not have_chromium(), reason=NEEDS_CHROMIUM)
def test_the_production_sections_in_a_browser(tmp_path):
    from selenium.webdriver.common.by import By

    out = tmp_path / "daily_report_2026-03-04.html"
    out.write_text(render_daily_report(build_marts(tmp_path / "marts.duckdb"), WED), encoding="utf-8")
    with chromium() as driver:
        driver.get(out.resolve().as_uri())
        section = driver.find_element(By.XPATH, "//section[h2[starts-with(., 'Line L1')]]")
        driver.execute_script("arguments[0].scrollIntoView()", section.find_element(By.CLASS_NAME, "production"))
        screenshot(driver, "daily_report_production_2026-03-04")
        gaps = [p.text for p in section.find_elements(By.CSS_SELECTOR, "p.gap")]
        assert gaps == ["early: 512 behind since 07:00", "late: 13 ahead since 10:00"]
        behind = section.find_element(By.CSS_SELECTOR, "p.gap.behind")
        assert behind.value_of_css_property("color") == "rgba(176, 0, 32, 1)"  # red: behind its target
        chart = section.find_element(By.CSS_SELECTOR, "svg[aria-label='Production by hour against target']")
        assert chart.size["width"] == 900 and len(chart.find_elements(By.TAG_NAME, "rect")) == 6 + 2  # bars, legend
        late = section.find_element(By.XPATH, ".//table[contains(@class,'changeovers')]//tr[th='FILLER']/td[3]")
        assert late.text == "50.0 min"
        assert late.value_of_css_property("color") == "rgba(176, 0, 32, 1)"  # red: over its target
        running = section.find_element(By.XPATH, ".//table[contains(@class,'orders')]//tr[th='B-200']")
        assert [td.text for td in running.find_elements(By.TAG_NAME, "td")][3:] == [
            "25.0 %",
            "60.0 %",
            "running",
            "2026-03-04 15:10",
        ]
        assert not driver.find_elements(By.TAG_NAME, "script")


def test_without_hourly_production_the_orders_of_the_calendar_day_on_the_plants_clock_are_shown(tmp_path):
    # No production_hourly to tell where the production day starts: the calendar day in Europe/Berlin,
    # 2026-03-03 23:00 UTC to 2026-03-04 23:00 UTC. F-600 (03:00-05:00 UTC) now falls in it; E-500 (5 March)
    # and D-400 (3 March, 06:00-08:00 UTC) still do not.
    page = render_daily_report(build_marts(tmp_path / "marts.duckdb", tables=("orders",)), WED)
    assert list(table_rows(section(page, "L1"), "orders")) == ["F-600", "A-100", "B-200", "C-300"]
