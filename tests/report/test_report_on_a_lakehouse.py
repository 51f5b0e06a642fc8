"""The daily report on a small lakehouse built from exports: each machine against its targets, the shifts,
the change against the previous day, the data-quality banner and the reports' index, with numbers derived
by hand; and the page opened in headless Chromium as the plant manager opens it."""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import pytest

from assets.report.assets import build_report_assets
from assets.report.page import write_daily_report
from tests.helpers.browser import NEEDS_CHROMIUM, chromium, have_chromium, screenshot
from tests.helpers.exports import aveva_row as r
from tests.helpers.plant import one_machine_config

MON, TUE = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def config() -> dict:
    # L1: FILLER then CAPPER, 60 s a unit; one shift 06:00-11:00 (300 min) every day. Targets: the line 75 %,
    # FILLER 80 %, CAPPER 80 % with availability 90 %.
    plant = one_machine_config(shifts=[{"name": "early", "start": "06:00", "end": "11:00"}])
    base = plant["lines"][0]["machines"][0]
    machines = []
    for name, targets in (("FILLER", {"oee": 0.8}), ("CAPPER", {"oee": 0.8, "availability": 0.9})):
        machine = dict(base, name=name, ideal_cycle_time_s=60.0, state_tag=f"L1.{name}.State", targets=targets)
        machine.update(total_count_tag=f"L1.{name}.Total", reject_count_tag=f"L1.{name}.Reject")
        machine.pop("energy_kwh_tag")
        machines.append(machine)
    plant["lines"][0]["machines"] = machines
    plant["lines"][0]["targets"] = {"oee": 0.75}
    return plant


def machine_day(day: str, name: str, run_min: int, base: int, total: int, rejects: int) -> list[str]:
    """Running from 06:00 for run_min minutes, then a jam to the shift's end; the total counter climbs
    evenly in readings every 15 min while running, the reject counter reads its day's rejects at the end."""
    start = dt.datetime.fromisoformat(f"{day} 06:00:00")
    rows = [r(f"{day} 05:00:00", f"L1.{name}.State", 1)]
    if run_min < 300:
        rows.append(r(str(start + dt.timedelta(minutes=run_min)), f"L1.{name}.State", 3))
    steps = run_min // 15
    for k in range(steps + 1):
        at = start + dt.timedelta(minutes=15 * k)
        rows.append(r(str(at), f"L1.{name}.Total", base + round(total * k / steps)))
    rows.append(r(f"{day} 05:59:00", f"L1.{name}.Reject", 0))  # no rejects on Monday: the counter starts the day at 0
    rows.append(r(str(start + dt.timedelta(minutes=run_min)), f"L1.{name}.Reject", rejects))
    return rows


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from tests.helpers.lakehouse import Plant

    plant = Plant(tmp_path_factory.mktemp("report_lakehouse"), config())
    rows = [r("2026-03-02 05:59:00", "L1.FILLER.Total", 0), r("2026-03-02 05:59:00", "L1.CAPPER.Total", 0)]
    # Monday: both run the whole shift; FILLER 240 units (OEE 240/300 = 80 %), CAPPER 270 (90 %): the line
    # (240 + 270) x 60 s / (2 x 300 min) = 85 %.
    rows += machine_day("2026-03-02", "FILLER", 300, 0, 240, 0)
    rows += machine_day("2026-03-02", "CAPPER", 300, 0, 270, 0)
    # Tuesday: FILLER runs the shift, 250 units, 1 reject: OEE 249/300 = 83.0 % (A 100 %, P 250/300 = 83.3 %,
    # Q 249/250 = 99.6 %), above its 80 %. CAPPER runs 06:00-10:00 and jams to 11:00: 230 units, 11 rejects:
    # A 240/300 = 80.0 % (below its 90 %), P 230/240 = 95.8 %, Q 219/230 = 95.2 %, OEE 219/300 = 73.0 %, below
    # its 80 %. The line: (249 + 219) / 600 = 78.0 %, above its 75 %; 85.0 - 78.0 = -7.0 pts on Monday.
    rows += machine_day("2026-03-03", "FILLER", 300, 240, 250, 1)
    rows += machine_day("2026-03-03", "CAPPER", 240, 270, 230, 11)
    # a fractional counter reading on Tuesday: not counted, and the machine-day flagged
    rows.append(r("2026-03-03 08:07:00", "L1.FILLER.Reject", 0.5))
    plant.export("h.csv", rows)
    plant.land()
    plant.build_day("2026-03-02")
    plant.build_day("2026-03-03")
    out = plant.root / "reports"
    write_daily_report(plant.root / "marts.duckdb", out, MON)
    result = dg.materialize(
        build_report_assets(dg.DailyPartitionsDefinition(start_date="2026-03-01")),
        partition_key="2026-03-03",
        resources={"lakehouse": plant.resource},
    )
    return plant, out, result


def _row(page: str, table: str, name: str) -> list[str]:
    body = page[page.index(f'<table class="detail {table}">') :]
    body = body[: body.index("</table>")]
    row = re.search(r'<tr><th scope="row">' + re.escape(name) + r"</th>(.*?)</tr>", body, re.S)
    assert row, f"no row {name} in {table}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_each_machine_stands_against_its_targets(reports):
    _, out, _ = reports
    page = (out / "daily_report_2026-03-03.html").read_text(encoding="utf-8")
    assert _row(page, "machines", "CAPPER") == [
        "73.0 % / target 80.0 %",
        "80.0 % / target 90.0 %",
        "95.8 %",
        "95.2 %",
        "4.00 h",  # run 06:00-10:00
        "1.00 h",  # the jam 10:00-11:00
        "Jam",
    ]
    assert _row(page, "machines", "FILLER")[:5] == ["83.0 % / target 80.0 %", "100.0 %", "83.3 %", "99.6 %", "5.00 h"]
    assert re.search(r'<td class="num below">73.0 %', page) and re.search(r'<td class="num met">83.0 %', page)
    # the line's one shift: run (300 + 240) / 600 = 90.0 %, ideal (250 + 230) / 540 run = 88.9 %, fully
    # productive (249 + 219) / 480 ideal = 97.5 %; its good units are its output machine's, CAPPER's 219
    assert _row(page, "shifts", "early") == ["78.0 % / target 75.0 %", "90.0 %", "88.9 %", "97.5 %", "219"]
    assert "previous day 2026-03-02: 85.0 % (-7.0 pts)" in page
    assert "4-week average (1 production days): 85.0 % (-7.0 pts)" in page
    assert "L1/FILLER: 1 counter readings negative or fractional, not counted" in page


def test_the_asset_links_to_the_report_and_the_index(reports):
    _, out, result = reports
    [event] = result.asset_materializations_for_node("mart__daily_report")
    metadata = event.metadata
    assert metadata["open_report"].value == (out / "daily_report_2026-03-03.html").resolve().as_uri()
    assert metadata["report_path"].value == str(out / "daily_report_2026-03-03.html")
    assert metadata["reports_index"].value == (out / "index.html").resolve().as_uri()


@pytest.mark.skipif(not have_chromium(), reason=NEEDS_CHROMIUM)
def test_the_report_in_a_browser_shows_the_capper_in_red_and_the_links_navigate(reports):
    from selenium.webdriver.common.by import By

    _, out, _ = reports
    with chromium() as driver:
        driver.get((out / "daily_report_2026-03-03.html").resolve().as_uri())
        screenshot(driver, "daily_report_2026-03-03")
        capper = driver.find_element(By.XPATH, "//table[contains(@class,'machines')]//tr[th='CAPPER']/td[1]")
        assert capper.text == "73.0 % / target 80.0 %"
        assert capper.value_of_css_property("color") == "rgba(176, 0, 32, 1)"  # red: below target
        filler = driver.find_element(By.XPATH, "//table[contains(@class,'machines')]//tr[th='FILLER']/td[1]")
        assert filler.value_of_css_property("color") == "rgba(0, 109, 44, 1)"  # green: at or above
        headline = driver.find_element(By.XPATH, "//table[@class='headline']//tr[th='L1']/td[1]")
        assert headline.text == "78.0 %"
        assert "Data quality: 1 machine-day flagged" in driver.find_element(By.CLASS_NAME, "banner").text
        assert driver.find_elements(By.CSS_SELECTOR, "svg[aria-label='Machine-state timeline']")
        assert not driver.find_elements(By.TAG_NAME, "script")

        driver.find_element(By.CSS_SELECTOR, "a[rel='prev']").click()
        assert driver.current_url.endswith("daily_report_2026-03-02.html")
        assert "Production day Monday 2026-03-02" in driver.find_element(By.TAG_NAME, "body").text
        driver.find_element(By.CSS_SELECTOR, "a[rel='next']").click()
        assert driver.current_url.endswith("daily_report_2026-03-03.html")
        driver.find_element(By.LINK_TEXT, "All reports").click()
        screenshot(driver, "daily_reports_index")
        links = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "li a")]
        assert links == ["Tuesday 2026-03-03", "Monday 2026-03-02"]
