"""The daily report: what a plant manager reads, from a small marts file built by hand."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.report.assets import build_report_assets
from assets.report.data import load_daily_report
from assets.report.page import render_daily_report, write_daily_report
from orchestration.resources import LakehouseResource

DEMO_PLANT = Path(__file__).resolve().parents[2] / "assets" / "demo" / "plant.yaml"
MON, TUE, WED = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
HOSTILE = "<L1&>"

# A line row's counts are its output machine's (output_*): a sum of good_count over machines that count
# different things was no count of anything the line made, so oee_line_daily no longer has one (issue #13).
OEE_DDL = """
create table oee_line_daily (
    site varchar, area varchar, line varchar, day date,
    planned_production_time_s double, run_time_s double, ideal_time_s double, fully_productive_time_s double,
    availability_loss_s double, performance_loss_s double, quality_loss_s double,
    output_total_count bigint, output_good_count bigint, output_reject_count bigint,
    availability double, performance double, quality double, oee double
)
"""
PARETO_DDL = """
create table downtime_pareto (
    site varchar, area varchar, line varchar, machine varchar, period varchar, period_start date,
    reason varchar, category varchar, seconds double, events bigint, share double, cumulative_share double,
    rank bigint
)
"""
ENERGY_DDL = """
create table energy_daily (
    level varchar, site varchar, area varchar, line varchar, machine varchar, day date,
    kwh_total double, kwh_running double, kwh_stopped double, kwh_idle_scheduled double,
    kwh_outside_scheduled double, good_count bigint, kwh_per_good_unit double
)
"""


def oee_row(line, day, planned, run, ideal, productive, total, good, availability, performance, quality, oee):
    return (
        "Hamburg", "Bottling", line, day, planned, run, ideal, productive,
        planned - run, run - ideal, ideal - productive,
        total, good, total - good, availability, performance, quality, oee,
    )  # fmt: skip


# L2 on Wednesday: 8 h planned, 7 h running (availability 87.5 %), 6.3 h of ideal cycles at 1.2 s a unit
# (18 900 units, performance 90 %), 17 952 of them good (quality 95.0 %): OEE 0.875 * 0.9 * 0.94984 = 74.8 %.
# The hostile line had no planned production on Wednesday: every ratio is NULL.
OEE_ROWS = [
    oee_row("L2", MON, 28_800, 23_040, 20_736, 20_736, 17_280, 17_280, 0.8, 0.9, 1.0, 0.72),
    oee_row("L2", TUE, 28_800, 25_920, 24_624, 24_131.52, 20_520, 20_109, 0.9, 0.95, 0.98, 0.8379),
    oee_row("L2", WED, 28_800, 25_200, 22_680, 21_542.4, 18_900, 17_952, 0.875, 0.9, 17_952 / 18_900, 0.748),
    oee_row(HOSTILE, MON, 28_800, 21_600, 19_440, 18_468, 19_440, 18_468, 0.75, 0.9, 0.95, 0.64125),
    oee_row(HOSTILE, TUE, 28_800, 27_360, 24_624, 24_624, 24_624, 24_624, 0.95, 0.9, 1.0, 0.855),
    oee_row(HOSTILE, WED, 0, 0, 0, 0, 0, 0, None, None, None, None),
]

# Week of Monday 2 March, line level, deliberately inserted out of rank order; plus rows the report must skip.
PARETO_ROWS = [
    ("Hamburg", "Bottling", "L2", None, "week", MON, "Changeover", "planned_stop", 3600, 4, 1 / 3, 5 / 6, 2),
    ("Hamburg", "Bottling", "L2", None, "week", MON, "Blocked <outfeed>", "unplanned_stop", 1800, 9, 1 / 6, 1.0, 3),
    ("Hamburg", "Bottling", "L2", None, "week", MON, "Jam", "unplanned_stop", 5400, 12, 0.5, 0.5, 1),
    ("Hamburg", "Bottling", "L2", "FILLER", "week", MON, "Machine only", "unplanned_stop", 9000, 1, 1.0, 1.0, 1),
    ("Hamburg", "Bottling", "L2", None, "day", WED, "Day only", "unplanned_stop", 9000, 1, 1.0, 1.0, 1),
    ("Hamburg", "Bottling", "L2", None, "week", MON - dt.timedelta(days=7), "Last week", "x", 9000, 1, 1.0, 1.0, 1),
]

ENERGY_ROWS = [
    ("line", "Hamburg", "Bottling", "L2", None, MON, 345.6, 300.0, 30.0, 10.0, 5.6, 17_280, 0.02),
    ("line", "Hamburg", "Bottling", "L2", None, TUE, 442.41, 400.0, 30.0, 10.0, 2.41, 20_109, 0.022),
    ("line", "Hamburg", "Bottling", "L2", None, WED, 448.8, 400.0, 40.0, 8.8, 0.0, 17_952, 0.025),
    ("machine", "Hamburg", "Bottling", "L2", "FILLER", WED, 99.0, 90.0, 9.0, 0.0, 0.0, 17_952, 9.999),
    ("line", "Hamburg", "Bottling", HOSTILE, None, MON, 369.36, 300.0, 60.0, 9.36, 0.0, 18_468, 0.02),
    ("line", "Hamburg", "Bottling", HOSTILE, None, WED, 12.0, 0.0, 0.0, 0.0, 12.0, 0, None),
]


def build_marts(path: Path, tables: tuple[str, ...] = ("oee", "pareto", "energy")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        if "oee" in tables:
            con.execute(OEE_DDL).fetchall()
            con.executemany("insert into oee_line_daily values (" + ", ".join(["?"] * 18) + ")", OEE_ROWS)
        if "pareto" in tables:
            con.execute(PARETO_DDL).fetchall()
            con.executemany("insert into downtime_pareto values (" + ", ".join(["?"] * 13) + ")", PARETO_ROWS)
        if "energy" in tables:
            con.execute(ENERGY_DDL).fetchall()
            con.executemany("insert into energy_daily values (" + ", ".join(["?"] * 13) + ")", ENERGY_ROWS)
    finally:
        con.close()
    return path


def headline_cells(page: str, line_html: str) -> list[str]:
    row = re.search(r'<tr><th scope="row">' + re.escape(line_html) + r"</th>(.*?)</tr>", page)
    assert row, f"no headline row for {line_html}"
    return re.findall(r'<td class="num">(.*?)</td>', row.group(1))


def section(page: str, line_html: str) -> str:
    start = page.index(f"<h2>Line {line_html} ")
    end = page.find("</section>", start)
    return page[start:end]


@pytest.fixture
def marts(tmp_path) -> Path:
    return build_marts(tmp_path / "marts.duckdb")


def test_the_headline_table_shows_the_days_numbers_per_line(marts):
    page = render_daily_report(marts, WED)

    assert "<h1>Daily report: Hamburg</h1>" in page
    assert "Production day Wednesday 2026-03-04" in page
    # OEE, availability, performance, quality, good units, energy per good unit (0.025 kWh = 25.0 Wh).
    assert headline_cells(page, "L2") == ["74.8 %", "87.5 %", "90.0 %", "95.0 %", "17,952", "25.0 Wh/unit"]
    # No planned production: ratios are NULL and the energy per unit is undefined.
    assert headline_cells(page, "&lt;L1&amp;&gt;") == ["no data"] * 4 + ["0", "no data"]


def test_the_waterfall_steps_from_planned_to_fully_productive_time_in_hours(marts):
    l2 = section(render_daily_report(marts, WED), "L2")

    labels = re.findall(r'<text [^>]*text-anchor="start">(−?[0-9.]+ h)</text>', l2)
    assert labels == ["8.00 h", "−1.00 h", "7.00 h", "−0.70 h", "6.30 h", "−0.32 h", "5.98 h"]
    for name in ("Planned production time", "Availability loss", "Run time", "Performance loss", "Net run time"):
        assert f">{name}</text>" in l2
    assert ">Quality loss</text>" in l2 and ">Fully productive time</text>" in l2
    assert "<title>Quality loss: 0.32 h</title>" in l2


def test_the_pareto_shows_the_weeks_line_level_reasons_in_rank_order(marts):
    page = render_daily_report(marts, WED)
    l2 = section(page, "L2")

    assert "Downtime Pareto, week 2026-03-02 to 2026-03-08" in l2
    assert l2.index(">Jam</text>") < l2.index(">Changeover</text>") < l2.index(">Blocked &lt;outfeed&gt;</text>")
    assert "Machine only" not in page and "Day only" not in page and "Last week" not in page
    # Minutes above the bars, and the cumulative share as a line through the three reasons.
    assert "<title>Jam: 90.0 min, 12 stops</title>" in l2
    assert "<title>cumulative 83.3 %</title>" in l2
    assert re.search(r'<polyline points="[^"]+" fill="none" stroke="#333"', l2)
    assert "No data: no downtime recorded for this week." in section(page, "&lt;L1&amp;&gt;")


def test_the_trends_cover_the_last_production_days_and_break_at_missing_values(marts):
    page = render_daily_report(marts, WED)
    l2 = section(page, "L2")
    hostile = section(page, "&lt;L1&amp;&gt;")

    assert "OEE trend, last 3 production days up to 2026-03-04" in l2
    assert "<title>OEE 2026-03-03: 83.8 %</title>" in l2
    assert l2.count("<polyline") == 4 + 1 + 1  # four OEE series, the cumulative share, energy per unit
    # The hostile line has no ratios on Wednesday: its lines stop at Tuesday rather than drop to zero.
    assert "<title>OEE 2026-03-04" not in hostile
    assert "No data: no planned production time on 2026-03-04." in hostile
    assert "Energy per good unit, last 3 production days up to 2026-03-04" in l2
    assert "<title>2026-03-04: 25.0 Wh/unit, per good unit</title>" in l2
    assert "FILLER" not in page  # machine-level energy rows are not the line's

    short = section(render_daily_report(marts, WED, trend_days=2), "L2")
    assert "OEE trend, last 2 production days up to 2026-03-04" in short
    assert "<title>OEE 2026-03-02" not in short


def test_the_page_is_self_contained_and_escapes_the_data(marts):
    page = render_daily_report(marts, WED)

    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg ") == 6  # L2: trend, waterfall, Pareto, energy; the hostile line: trend, energy
    assert "<script" not in page.lower()
    assert "http" not in page.lower() and "src=" not in page and "<link" not in page
    assert HOSTILE not in page and "<outfeed>" not in page
    assert "<h2>Line &lt;L1&amp;&gt; " in page


def test_missing_tables_and_files_render_a_no_data_note(tmp_path):
    only_oee = load_daily_report(build_marts(tmp_path / "a" / "marts.duckdb", ("oee",)), WED)
    page = render_daily_report(tmp_path / "a" / "marts.duckdb", WED)
    # and the tables of the machine, shift and timeline details, and of the production by hour, orders, changeovers
    assert set(only_oee.missing) == {"downtime_pareto", "energy_daily", "oee_daily", "oee_shift", "oee_line_shift"} | {
        "production_hourly",
        "oee_order",
        "changeovers",
    }
    assert "No data: table downtime_pareto is not in the marts file." in section(page, "L2")
    assert "No data: table energy_daily is not in the marts file." in section(page, "L2")
    assert headline_cells(page, "L2") == ["74.8 %", "87.5 %", "90.0 %", "95.0 %", "17,952", "no data"]

    nothing = render_daily_report(tmp_path / "absent" / "marts.duckdb", WED)
    assert "No data: no line has figures for 2026-03-04 in marts.duckdb." in nothing
    assert "No data: the marts file marts.duckdb does not exist yet." in nothing
    assert "<h1>Daily report: unknown site</h1>" in nothing

    before_any_data = render_daily_report(tmp_path / "a" / "marts.duckdb", dt.date(2026, 2, 27))
    assert "No data: no line has figures for 2026-02-27" in before_any_data


def test_a_table_without_the_expected_columns_is_reported_not_fatal(tmp_path):
    marts = build_marts(tmp_path / "marts.duckdb", ("oee", "pareto"))
    con = duckdb.connect(str(marts))
    try:
        con.execute("create table energy_daily (level varchar, day date)").fetchall()
    finally:
        con.close()
    page = render_daily_report(marts, WED)
    assert "No data: table energy_daily lacks the columns site, area, line, kwh_total" in page
    assert headline_cells(page, "L2")[0] == "74.8 %"


def test_the_report_file_is_replaced_whole(marts, tmp_path):
    out = tmp_path / "reports"
    path = write_daily_report(marts, out, WED)
    assert path == out / "daily_report_2026-03-04.html"
    path.write_text("stale", encoding="utf-8")
    assert write_daily_report(marts, out, WED) == path
    assert path.read_text(encoding="utf-8") == render_daily_report(marts, WED)
    # no temporary file left behind; the index of the reports beside the report
    assert sorted(p.name for p in out.iterdir()) == ["daily_report_2026-03-04.html", "index.html"]


def test_the_asset_writes_the_report_and_reports_the_oee_per_line(tmp_path):
    root = tmp_path / "lakehouse"
    build_marts(root / "marts.duckdb")
    lakehouse = LakehouseResource(
        lakehouse_root=str(root), landing_root=str(tmp_path / "landing"), plant_config=str(DEMO_PLANT)
    )
    partitions = dg.DailyPartitionsDefinition(start_date="2026-03-01")

    result = dg.materialize(
        build_report_assets(partitions), partition_key="2026-03-04", resources={"lakehouse": lakehouse}
    )

    assert result.success
    [event] = result.asset_materializations_for_node("mart__daily_report")
    metadata = event.metadata
    path = Path(metadata["report"].value)
    assert path == root / "reports" / "daily_report_2026-03-04.html"
    assert "74.8 %" in path.read_text(encoding="utf-8")
    assert metadata["oee_l2"].value == pytest.approx(0.748)
    assert "oee_l1" not in metadata  # the hostile line has no OEE that day
    assert metadata["headline"].value.splitlines() == [
        "| Line | OEE | Availability | Performance | Quality | Good units | Energy per unit |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| &lt;L1&amp;&gt; | no data | no data | no data | no data | 0 | no data |",
        "| L2 | 74.8 % | 87.5 % | 90.0 % | 95.0 % | 17,952 | 25.0 Wh/unit |",
    ]


def test_minor_stops_of_a_reason_are_labelled_apart_from_its_long_stops():
    from assets.report.data import ParetoRow

    long_stops = ParetoRow("Jam", "unplanned_stop", 5400.0, 12, 0.5, 0.5, 1)
    minor_stops = ParetoRow("Jam", "minor_stop", 1800.0, 90, 0.2, 0.7, 2)
    assert (long_stops.label, minor_stops.label) == ("Jam", "Jam (minor)")


def test_a_ratio_outside_0_1_is_never_shown_as_a_percentage(tmp_path):
    # A second guard behind the marts audit: the issue's -1497 % OEE and a 102 % performance (which the
    # audit lets through as a data-quality flag) show as n/a, and the trend draws no point for them.
    path = tmp_path / "marts.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute(OEE_DDL).fetchall()
        rows = [
            oee_row("L2", TUE, 28_800, 25_920, 24_624, 24_131.52, 20_520, 20_109, 0.9, 0.95, 0.98, 0.8379),
            oee_row("L2", WED, 28_800, 25_200, 25_704, 25_704, 21_420, 21_420, 0.875, 1.02, 1.0, -14.97),
        ]
        con.executemany("insert into oee_line_daily values (" + ", ".join(["?"] * 18) + ")", rows)
    finally:
        con.close()
    page = render_daily_report(path, WED)
    # OEE, availability, performance, quality, good units, energy per unit (no energy table)
    outside = "n/a (outside 0..100 %)"
    assert headline_cells(page, "L2") == [outside, "87.5 %", outside, "100.0 %", "21,420", "no data"]
    assert "-1497" not in page and "102.0" not in page
    l2 = section(page, "L2")
    assert "<title>OEE 2026-03-03: 83.8 %</title>" in l2
    assert "<title>OEE 2026-03-04" not in l2 and "<title>Performance 2026-03-04" not in l2
    assert "<title>Availability 2026-03-04: 87.5 %</title>" in l2
