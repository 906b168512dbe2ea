"""Browser tests: one ProfRoute server on 127.0.0.1 and one headless Chromium per module.

Chromium is Debian's (``tests/tools/ensure-packages.sh`` installs it), driven by Playwright;
``playwright install`` is never run (it downloads a browser build). The tests skip only where
that binary is absent. axe-core comes from npm (``make test`` installs it into
``var/npm``); without it the accessibility checks are skipped, and a test says so. Full-page
screenshots are kept under ``var/browser/``. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser.browser_support import LOGIN, Journey, chromium_path, seed
from sandbox.sandbox_support import serving
from support import PASSWORD, AppRunner, app_for

from app.settings import Settings


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary, or a skip that says why there is none."""
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is absent (Debian: apt-get install chromium; make test runs "
                    "tests/tools/ensure-packages.sh, which installs it)")
    return path


@pytest.fixture(scope="module")
def live_url(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """ProfRoute on a seeded SQLite database, served on 127.0.0.1, with a methodologist of
    the whole region (``LOGIN``) to sign in as."""
    folder = tmp_path_factory.mktemp("browser")
    with app_for(Settings(database_url=f"sqlite:///{folder / 'profroute.db'}")) as app:
        seed()
        result = AppRunner(app).invoke(
            ["web-user", "add", LOGIN, "--name", "Методистова", "--role", "methodologist",
             "--region", "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        with serving(app) as url:
            yield url


@pytest.fixture(scope="module")
def journey(chromium: str, live_url: str) -> Iterator[Journey]:
    """A headless Chromium page signed in as the methodologist through the sign-in form."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (only when Chromium is)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        # bypass_csp: the pages allow no inline script, and axe-core is injected as one.
        context = browser.new_context(base_url=live_url, locale="ru-RU", accept_downloads=True,
                                      viewport={"width": 1280, "height": 900}, bypass_csp=True)
        context.set_default_timeout(20_000)
        page = context.new_page()
        journey = Journey(page)
        page.goto("/login")
        journey.login_violations = journey.check("0-login")
        page.fill("input[name=login]", LOGIN)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form[action=\"/login\"] button[type=submit]")
        page.wait_for_url(f"{live_url}/")
        try:
            yield journey
        finally:
            context.close()
            browser.close()
