"""Debian's headless Chromium driven by selenium through /usr/bin/chromedriver (nothing is downloaded), for
the tests that open a page as a reader does; screenshots go to test-artifacts/browser/ (IIOT_TEST_ARTIFACTS
overrides test-artifacts/)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("IIOT_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"
NEEDS_CHROMIUM = "needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)"


def have_chromium() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextlib.contextmanager
def chromium(window: str = "1400,2400") -> Iterator:
    """A headless Chromium with a fresh, empty profile and no calls home."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={window}",
    ):
        options.add_argument(flag)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(driver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
