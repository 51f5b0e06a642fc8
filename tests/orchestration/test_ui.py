"""The Dagster UI as plants serve it: read-only (checked over its GraphQL API) and in a real browser.

A one-day demo lakehouse is built with the `iiot-lakehouse` command, the web server runs on 127.0.0.1
reading its DAGSTER_HOME, and Debian's headless Chromium is driven by Selenium through
/usr/bin/chromedriver (nothing is downloaded). Screenshots go to test-artifacts/browser/
(IIOT_TEST_ARTIFACTS overrides test-artifacts/)."""

from __future__ import annotations

import json
import math
import os
import tempfile
import urllib.parse
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from tests.helpers.ui import ARTIFACTS_WRITTEN, REPO, graphql
from tests.helpers.ui import DEMO_DAY as DAY

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("IIOT_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
# The demo plant (assets/demo/plant.yaml): lines L1 and L2 of three machines each, three shifts a day.
MACHINES, LINES, SHIFTS = 6, 2, 3

pytestmark = pytest.mark.slow

NEEDS_CHROMIUM = (
    "needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); "
    "`apt-get install chromium chromium-driver`, as .ci/run does"
)


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(NEEDS_CHROMIUM)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",  # containers often have a small /dev/shm
        "--disable-quic",
        "--no-first-run",
        # no calls home: the machine has no network beyond the package registries
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1920,1400",  # large enough that the expanded asset graph is drawn whole
    ):
        options.add_argument(flag)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # a fresh, empty profile each time
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver, condition, what: str, timeout: float = 60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d), message=f"waiting for {what}")


def screenshot(driver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    ARTIFACTS_WRITTEN.add(ARTIFACTS)
    return path


def tooltips(driver) -> set[str]:
    """The names on the asset graph's nodes: groups and assets carry them as data-tooltip."""
    script = "return [...document.querySelectorAll('[data-tooltip]')].map(e => e.dataset.tooltip)"
    return set(driver.execute_script(script))


def body_lines(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text.splitlines()


def metadata_rows(driver) -> dict[str, str]:
    """The latest materialization's metadata table on an asset's overview: key -> value as shown."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText))"
    )
    return {cells[0].strip(): cells[-1].strip() for cells in rows if len(cells) == 3}


def test_the_asset_graph_shows_the_layers_and_their_assets(demo_ui, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{demo_ui.url}/asset-groups")
    assert browser.title  # the page loaded at all
    wait_for(browser, lambda d: {"bronze", "silver", "marts", "maintenance"} <= tooltips(d), "the asset groups")
    screenshot(browser, "asset-graph-groups")

    # Open a group as a user does: its marts are drawn (the graph draws the nodes in view; a mart per table
    # makes the group taller than the window)
    browser.find_element(By.CSS_SELECTOR, "[data-tooltip='marts']").click()
    # (which marts are in view depends on the layout: any of them shows the group open)
    wait_for(browser, lambda d: any(t.startswith("mart__") for t in tooltips(d)), "the marts group to open")
    (opened,) = urllib.parse.parse_qs(urllib.parse.urlparse(browser.current_url).query)["expanded"]
    assert opened.endswith(":marts"), opened
    screenshot(browser, "asset-graph-marts")

    # Every table is an asset of the graph: the bronze and silver tables and one asset per mart of sql/marts/
    nodes = graphql(demo_ui.port, "{ assetNodes { assetKey { path } } }")["data"]["assetNodes"]
    keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
    marts = {f"mart__{yml.stem}" for yml in (REPO / "sql" / "marts").glob("*.yml")}
    assert len(marts) > 20
    assert {
        "bronze_historian__points",
        "bronze__quarantine",
        "bronze__file_ledger",
        "bronze__tag_catalog",
        "silver__plant_calendar",
        "silver__machine_states",
        "silver__count_increments",
        "silver__energy_increments",
        "silver__sensor_intervals",
        "silver__tag_quality",
        "mart__daily_report",
    } | marts <= keys

    # A mart's lineage, one step up: sql/marts/downtime_pareto.sql reads the mart downtime_events alone (a
    # mart with few inputs: the graph draws every node of it in view)
    browser.get(f"{demo_ui.url}/assets/mart__downtime_pareto?view=lineage&lineageScope=upstream&lineageDepth=1")
    upstream = {"mart__downtime_pareto", "mart__downtime_events"}
    wait_for(browser, lambda d: upstream <= tooltips(d), "the mart's upstream tables on the graph")
    assert not {t for t in tooltips(browser) if t.startswith(("silver__", "mart__", "bronze"))} - upstream
    # The checks run by `iiot-lakehouse run` are on the nodes once their status loads: each mart has its
    # audit check, passed.
    wait_for(browser, lambda d: "1 / 1 Passed" in set(body_lines(d)), "the nodes' check results")
    screenshot(browser, "asset-graph-mart-lineage")


def test_a_mart_page_shows_its_check_and_the_latest_materialization_metadata(demo_ui, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{demo_ui.url}/assets/mart__oee_daily")
    wait_for(browser, lambda d: "oee_site" in metadata_rows(d), "the latest materialization's metadata")
    screenshot(browser, "mart-oee-daily-overview")
    shown = metadata_rows(browser)
    marts = demo_ui.lakehouse / "marts.duckdb"
    assert shown["marts_file"] == str(marts)
    assert json.loads(shown["days_rebuilt"]) == [DAY]
    # One day of the demo plant: a row per machine
    assert shown["rows_rebuilt"] == str(MACHINES) == "6"
    # The headline OEE shown is the one analysts read from the published file, to the last digit.
    con = duckdb.connect(str(marts), read_only=True)
    try:
        lines = dict(con.execute("select line, oee from oee_line_daily where day = ?", [DAY]).fetchall())
        (site,) = con.execute("select oee from oee_site_daily where day = ?", [DAY]).fetchall()[0]
    finally:
        con.close()
    assert sorted(lines) == ["L1", "L2"]
    assert float(shown["oee_l1"]) == lines["L1"]
    assert float(shown["oee_l2"]) == lines["L2"]
    assert float(shown["oee_site"]) == site
    assert 0 < site < 1

    browser.find_element(By.CSS_SELECTOR, "a[role='tab'][title='Checks']").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[title='ratios_and_times_in_bounds']"), "the check")
    browser.find_element(By.CSS_SELECTOR, "[title='ratios_and_times_in_bounds']").click()
    wait_for(browser, lambda d: "Passed" in d.find_element(By.TAG_NAME, "body").text, "the check's result")
    page = browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "mart-oee-daily-checks")
    # beside the audit, the freshness check of the day's publication (run by its own schedule)
    assert "Checks (2)" in page
    assert "last_day_published_on_time" in page
    assert "This is a blocking asset check." in page
    assert (
        "The rebuilt days of oee_daily pass the audit before they are published "
        "(sql/audit/marts_audit.sql): times nest (run <= planned <= scheduled <= calendar)" in page
    )


def test_a_sources_freshness_check_shows_its_result(demo_ui, browser):
    from selenium.webdriver.common.by import By

    # The demo plant's one source, historian, is checked by source_fresh__historian on the file ledger
    # (orchestration/freshness.py). Its files landed minutes before the check ran, well within its
    # expected_every of 1d (plant.yaml): it passed, and says so.
    browser.get(f"{demo_ui.url}/assets/bronze__file_ledger?view=checks")
    check = "[title='source_fresh__historian']"
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, check), "the source's freshness check")
    browser.find_element(By.CSS_SELECTOR, check).click()
    wait_for(browser, lambda d: "Passed" in d.find_element(By.TAG_NAME, "body").text, "the check's result")
    wait_for(
        browser,
        lambda d: "the newest file of source 'historian' landed" in d.find_element(By.TAG_NAME, "body").text,
        "the check's description of the last landing",
    )
    page = browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "file-ledger-source-freshness-check")
    assert "(expected every 24.0 h)" in page
    assert "Failed" not in page


def test_the_report_asset_links_to_the_morning_report(demo_ui, browser):
    from selenium.webdriver.common.by import By

    # `run` wrote the day's report beside the published marts: <lakehouse>/reports/daily_report_<day>.html
    (report,) = (demo_ui.lakehouse / "reports").glob(f"daily_report_{DAY}.html")
    browser.get(f"{demo_ui.url}/assets/mart__daily_report")
    wait_for(browser, lambda d: "open_report" in metadata_rows(d), "the report's link")
    screenshot(browser, "daily-report-asset")
    assert metadata_rows(browser)["open_report"] == report.resolve().as_uri()
    links = [a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")]
    assert report.resolve().as_uri() in links


def column_doc(mart: str, column: str) -> str:
    """A column's description as docs/marts.md, the analysts' reference, gives it under the mart."""
    lines = (REPO / "docs" / "marts.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## ") and f"`{mart}`" in line)
    row = next(line for line in lines[start:] if line.startswith(f"| `{column}` |"))
    return row.split(" | ")[2].strip(" |")


def test_a_mart_page_shows_its_columns_with_the_descriptions_of_the_reference(demo_ui, browser):
    from selenium.webdriver.common.by import By

    doc = column_doc("energy_daily", "kwh_running")
    assert doc.startswith("kWh while running")
    browser.get(f"{demo_ui.url}/assets/mart__energy_daily")
    wait_for(browser, lambda d: "kwh_running" in d.find_element(By.TAG_NAME, "body").text, "the mart's columns")
    # the asset's overview holds its Columns (Dagster 1.13 shows them there, not under a tab of their own)
    wait_for(browser, lambda d: doc in d.find_element(By.TAG_NAME, "body").text, "the column's description")
    screenshot(browser, "mart-energy-daily-columns")
    lines = body_lines(browser)
    assert "Columns" in lines and "kwh_total" in lines and "DOUBLE" in lines
    # where the table is, its owner and its layer
    assert {"marts.duckdb:main.energy_daily", "plant-engineering", "layer: marts"} <= set(lines)


def test_a_silver_page_shows_its_checks_and_state_seconds_that_tile_the_day(demo_ui, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{demo_ui.url}/assets/silver__machine_states")
    wait_for(browser, lambda d: "running_s" in metadata_rows(d), "the latest materialization's metadata")
    screenshot(browser, "silver-machine-states-overview")
    shown = metadata_rows(browser)
    # Every second of the 24 h day of each of the 6 machines is in exactly one state category.
    categories = ("running_s", "planned_stop_s", "unplanned_stop_s", "not_scheduled_s")
    assert math.isclose(sum(float(shown[k]) for k in categories), MACHINES * 24 * 3600, abs_tol=1e-6)
    con = duckdb.connect()
    try:
        con.register("states", DeltaTable(str(demo_ui.lakehouse / "silver__machine_states")).to_pyarrow_dataset())
        (intervals,) = con.execute("select count(*) from states").fetchall()[0]
    finally:
        con.close()
    assert int(shown["intervals"]) == intervals > MACHINES

    browser.find_element(By.CSS_SELECTOR, "a[role='tab'][title='Checks']").click()
    for check in ("silver__machine_states_schema", "states_tile_the_day"):
        wait_for(browser, lambda d, c=check: d.find_elements(By.CSS_SELECTOR, f"[title='{c}']"), check)
    page = browser.find_element(By.TAG_NAME, "body").text
    screenshot(browser, "silver-machine-states-checks")
    assert "Checks (2)" in page


# --- the read-only web UI, over its GraphQL API -------------------------------------------------------


@pytest.mark.slow
def test_the_read_only_ui_refuses_mutations_and_answers_queries(demo_ui):
    """The UI as a plant serves it (`dagster-webserver --read-only`, see conftest's demo_ui) on the demo
    lakehouse that `iiot-lakehouse run` built."""
    port = demo_ui.port
    repos = graphql(
        port,
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } "
        "jobs { name } schedules { name } } } } }",
    )
    (repo,) = repos["data"]["repositoriesOrError"]["nodes"]
    assert "land_exports_job" in {j["name"] for j in repo["jobs"]}
    selector = {"repositoryLocationName": repo["location"]["name"], "repositoryName": repo["name"]}

    launch = graphql(
        port,
        "mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename "
        "... on UnauthorizedError { message } } }",
        {"p": {"selector": {**selector, "jobName": "land_exports_job"}, "mode": "default"}},
    )
    assert launch["data"]["launchRun"]["__typename"] == "UnauthorizedError", launch
    schedule = graphql(
        port,
        "mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) { __typename } }",
        {"s": {**selector, "scheduleName": "daily_oee_schedule"}},
    )
    assert schedule["data"]["startSchedule"]["__typename"] == "UnauthorizedError", schedule
    # The command's runs are in the run history the UI shows: landing, then the one production day; and the
    # freshness checks' tick (as their schedule runs it).
    runs = graphql(port, "{ runsOrError { ... on Runs { results { jobName status } } } }")
    assert sorted((r["jobName"], r["status"]) for r in runs["data"]["runsOrError"]["results"]) == [
        ("daily_oee_job", "SUCCESS"),
        ("freshness_checks_job", "SUCCESS"),
        ("land_exports_job", "SUCCESS"),
    ]
