"""The report's machine-state timeline tells every stretch of a shift by what it was: running, a planned stop,
an unplanned stop, a minor stop, a planned break and not-scheduled time, on a small day built from exports,
with the pieces derived by hand; and the chart as Chromium draws it."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from assets.report.assets import build_report_assets
from tests.helpers.browser import NEEDS_CHROMIUM, chromium, have_chromium, screenshot
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config

DAY = "2026-03-02"  # a Monday, Europe/Berlin UTC+1
# One shift 06:00-12:00 with a break 09:00-09:30. FILLER's states (codes of one_machine_config: 1 running,
# 2 changeover (planned), 3 jam (unplanned), 4 no orders (not scheduled)), minor stops under 120 s:
STATES = [
    ("05:00:00", 1),
    ("07:00:00", 3),  # a 20 min jam
    ("07:20:00", 1),
    ("08:00:00", 4),  # 30 min without orders, inside the shift
    ("08:30:00", 1),  # running on through the break 09:00-09:30
    ("10:00:00", 3),  # a 60 s jam: a minor stop
    ("10:01:00", 1),
    ("11:00:00", 2),  # a 30 min changeover
    ("11:30:00", 1),
]
# The timeline runs from the shift's start to its end, 06:00-12:00 = 21,600 s; the pieces, in order:
EXPECTED = [
    ("running", "06:00", "07:00", 3600),
    ("unplanned stop", "07:00", "07:20", 1200),
    ("running", "07:20", "08:00", 2400),
    ("not scheduled", "08:00", "08:30", 1800),
    ("running", "08:30", "09:00", 1800),
    ("break", "09:00", "09:30", 1800),  # the machine ran, but the break is no planned production time
    ("running", "09:30", "10:00", 1800),
    ("minor stop", "10:00", "10:01", 60),
    ("running", "10:01", "11:00", 3540),
    ("planned stop", "11:00", "11:30", 1800),
    ("running", "11:30", "12:00", 1800),
]
PLOT_W = 900 - 110 - 20  # the chart's width less its margins (charts_day.timeline_svg)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from tests.helpers.lakehouse import Plant

    config = one_machine_config(
        shifts=[{"name": "early", "start": "06:00", "end": "12:00"}],
        breaks=[{"name": "coffee", "start": "09:00", "end": "09:30"}],
    )
    plant = Plant(tmp_path_factory.mktemp("timeline_lakehouse"), config)
    rows = [r(f"{DAY} {t}", "L1.FILLER.State", code) for t, code in STATES]
    rows += [r(f"{DAY} 06:00:00", "L1.FILLER.Total", 0), r(f"{DAY} 12:00:00", "L1.FILLER.Total", 100)]
    plant.export("h.csv", rows)
    plant.land()
    plant.build_day(DAY)
    result = dg.materialize(
        build_report_assets(dg.DailyPartitionsDefinition(start_date="2026-03-01")),
        partition_key=DAY,
        resources={"lakehouse": plant.resource},
    )
    assert result.success
    # the report lies beside the published marts: <lakehouse>/reports/
    return plant.root / "reports" / f"daily_report_{DAY}.html"


def _timeline(page: str) -> str:
    start = page.index('aria-label="Machine-state timeline"')
    return page[start : page.index("</svg>", start)]


def test_each_stretch_of_the_shift_has_its_own_category_and_width(report):
    svg = _timeline(report.read_text(encoding="utf-8"))
    bars = re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)" height="18" fill="[^"]+"><title>([^<]+)</title>', svg)
    assert [title for _, title in bars] == [f"FILLER: {c} {a}-{b}" for c, a, b, _ in EXPECTED]
    assert [w for w, _ in bars] == [f"{max(PLOT_W * s / 21600, 0.5):.2f}" for *_, s in EXPECTED]
    # the minor stop: 770 x 60 / 21,600 = 2.14 px
    assert bars[7][0] == "2.14"
    assert "break" in re.findall(r"<text[^>]*>([^<]+)</text>", svg)  # in the legend
    assert "show as running" not in report.read_text(encoding="utf-8")


@pytest.mark.skipif(not have_chromium(), reason=NEEDS_CHROMIUM)
def test_the_timeline_in_a_browser_draws_the_break_and_the_not_scheduled_time(report):
    from selenium.webdriver.common.by import By

    with chromium() as driver:
        driver.get(report.resolve().as_uri())
        svg = driver.find_element(By.CSS_SELECTOR, "svg[aria-label='Machine-state timeline']")
        driver.execute_script("arguments[0].scrollIntoView()", svg)
        screenshot(driver, f"daily_report_timeline_{DAY}")
        drawn = driver.execute_script(
            "return [...arguments[0].querySelectorAll('rect')].filter(e => e.querySelector('title'))"
            ".map(e => [e.querySelector('title').textContent, e.getBoundingClientRect().width,"
            " getComputedStyle(e).fill])",
            svg,
        )
        shown = {title.split(" ", 1)[1]: (width, fill) for title, width, fill in drawn}
        # The break and the half hour without orders are drawn, as wide as their 1,800 s of the 21,600
        # (770 px x 1/12 = 64.2 px, as the page is not scaled), in their own colours: #F0E442 and #E3E3E3.
        assert shown["break 09:00-09:30"][1] == "rgb(240, 228, 66)"
        assert shown["not scheduled 08:00-08:30"][1] == "rgb(227, 227, 227)"
        assert shown["running 08:30-09:00"][1] == "rgb(0, 158, 115)"
        for key in ("break 09:00-09:30", "not scheduled 08:00-08:30"):
            assert abs(shown[key][0] - 770 / 12) < 0.5
