"""The console in a real browser: Debian's headless Chromium driven by Selenium, against
the app served by uvicorn on loopback (real PostgreSQL, no mocks).

Every test here skips, saying why, when Chromium or its driver is not installed (CI
installs both: .ci/run). Screenshots of the pages go to a test artifacts folder (its
path is printed; ``INTIME_BROWSER_ARTIFACTS`` chooses it). With
``INTIME_UPDATE_SCREENSHOTS=1`` the pages that docs/screenshots/ shows are written
there too (docs/console.md).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

from intime.db import actor
from intime_cli.serving import serve_in_thread
from tests.support import Database, TwoOrgs
from web.app import create_app

CHROMIUM = os.environ.get("INTIME_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("INTIME_CHROMEDRIVER", "/usr/bin/chromedriver")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WAIT = 20.0  # seconds a page has to show what a test waits for (a loaded CI machine)


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


MISSING = _missing()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if MISSING is None:
        return
    if os.environ.get("INTIME_REQUIRE_BROWSER"):  # .ci/run: CI installs it, so it must run
        raise pytest.UsageError(f"browser tests need Chromium: {MISSING}")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=f"browser tests need Chromium: {MISSING}"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    chosen = os.environ.get("INTIME_BROWSER_ARTIFACTS")
    folder = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "intime-browser-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def driver() -> Iterator[webdriver.Chrome]:
    """One headless Chromium per test process (cookies are cleared for each test)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options
    )
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


class Console:
    """The browser on one served app."""

    def __init__(self, driver: webdriver.Chrome, url: str, artifacts: Path, test: str) -> None:
        self.driver, self.url, self.artifacts, self.test = driver, url, artifacts, test

    def get(self, path: str) -> None:
        self.driver.get(self.url + path)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, text: str | None = None, timeout: float = WAIT) -> WebElement:
        wait = WebDriverWait(self.driver, timeout)
        if text is None:
            return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.find(css)

    def sign_in(self, token: str) -> None:
        self.get("/signin")
        field = self.find("#token")
        field.send_keys(token)
        self.find("form button[type=submit]").click()
        self.wait_for("#notifications")

    def screenshot(self, name: str, *, docs: bool = False, width: int = 1280) -> Path:
        """The whole page as it is now (to 3000 px high) in the artifacts folder; with
        ``docs`` and INTIME_UPDATE_SCREENSHOTS=1 also in docs/screenshots/. ``width``
        390 is a phone."""
        cdp = self.driver.execute_cdp_cmd
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
        cdp("Emulation.setDeviceMetricsOverride", metrics)
        height = self.driver.execute_script(
            "return Math.min(document.documentElement.scrollHeight, 3000)"
        )
        cdp("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(int(height), 600)})
        shot = cdp("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        cdp("Emulation.clearDeviceMetricsOverride", {})
        path = self.artifacts / f"{self.test}-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        if docs and os.environ.get("INTIME_UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
        return path


@pytest.fixture
def console(
    db: Database, driver: webdriver.Chrome, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Console]:
    """The app on a fresh port and the browser with no cookies."""
    app = create_app(db.dsn("intime_service"), stream_heartbeat=1.0, stream_reauth=5.0)
    with serve_in_thread(app) as url:
        browser = Console(driver, url, artifacts, request.node.name)
        browser.driver.delete_all_cookies()
        yield browser
        with contextlib.suppress(Exception):
            browser.driver.get("about:blank")  # closes the page's event stream


@pytest.fixture
def token_for(service: psycopg.Connection, two_orgs: TwoOrgs) -> Callable[..., str]:
    """A new API token of a user of org A (or ``org_id``)."""

    def create(user_id: uuid.UUID, org_id: uuid.UUID | None = None) -> str:
        with actor(service, org_id or two_orgs.a.org_id):
            row = service.execute(
                "select token from api.create_api_token(p_name => 'browser', p_user_id => %s)",
                (user_id,),
            ).fetchone()
        assert row is not None
        return str(row[0])

    return create
