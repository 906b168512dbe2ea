"""Beyond the journey: the methodologist's other pages pass axe-core with no serious or
critical violation; every page has a skip link to its main landmark; on a phone's width the
page itself never scrolls sideways (wide tables scroll inside it)."""

from __future__ import annotations

import pytest
from browser.browser_support import Journey

pytestmark = pytest.mark.slow

PAGES = ("/teachers", "/network", "/indicators", "/dynamics", "/analytics", "/policy",
         "/catalogue", "/review", "/review/requests", "/imports")


@pytest.mark.parametrize("path", PAGES)
def test_the_page_has_no_serious_accessibility_violation(journey: Journey, path: str) -> None:
    page = journey.page
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, path
    assert journey.check("page" + path.replace("/", "-")) == []


def test_the_skip_link_comes_first_and_leads_to_the_main_content(journey: Journey) -> None:
    page = journey.page
    page.goto("/capacity")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Перейти к содержимому"
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#content"
    assert page.locator("main#content").count() == 1
    assert page.locator("header nav").count() == 1


@pytest.mark.parametrize("path", ["/", "/teachers", "/capacity", "/effectiveness"])
def test_a_phone_never_scrolls_the_page_sideways(journey: Journey, path: str) -> None:
    page = journey.page
    page.set_viewport_size({"width": 375, "height": 740})
    try:
        page.goto(path)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 375 + 1, f"{path} is {wide} px wide on a 375 px screen"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_charts_are_drawn_by_the_plotly_this_site_serves(journey: Journey) -> None:
    page = journey.page
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.goto("/network")
    assert page.locator("figure.chart").count() >= 1
    page.wait_for_selector("figure.chart .chart-plot .main-svg", timeout=15_000)
    assert outside == []


def test_the_navigation_switches_the_pages_to_english_and_back(journey: Journey) -> None:
    page = journey.page
    page.goto("/capacity?internship.accepted=0.5")
    assert page.locator("html").get_attribute("lang") == "ru"
    try:
        page.click("form.lang button")  # «English»: kept on the login
        page.wait_for_url("**/capacity?internship.accepted=0.5")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("a.skip").text_content() == "Skip to content"
        page.goto("/teachers")  # another page, no ?lang=: still English
        assert page.locator("html").get_attribute("lang") == "en"
        assert journey.check("page-teachers-en") == []
    finally:
        page.click("form.lang button")  # «Русский»
    assert page.locator("html").get_attribute("lang") == "ru"
