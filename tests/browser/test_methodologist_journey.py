"""The methodologist's main journey in headless Chromium: the deficit map, a school, its
teachers, a teacher and their route; effectiveness; capacity; the PDF report. Each page is
kept as a screenshot (``var/browser/``) and has no serious or critical axe violation."""

from __future__ import annotations

import re

import pytest
from browser.browser_support import AXE, ROOT, Journey

pytestmark = pytest.mark.slow


def test_the_sign_in_page(journey: Journey) -> None:
    """The fixture signed in through this form (its CSRF token on) and landed on the map."""
    assert journey.login_violations == []


def test_map_school_teachers_teacher_and_route(journey: Journey) -> None:
    page = journey.page
    page.goto("/")
    assert page.locator("h1").first.is_visible()
    body = page.inner_text("body")
    assert "Школа № 1" in body and "Школа Бетаград" in body  # the region's schools
    assert journey.check("1-map") == []
    # The school's row links to its teachers.
    page.locator("a", has_text="Школа № 1").first.click()
    page.wait_for_url(re.compile(r"/teachers\?.*school=A1"))
    listed = page.inner_text("body")
    assert "Педагогова1 " in listed and "Педагогова11" not in listed  # only A1's teachers
    assert journey.check("2-school-teachers") == []
    # A teacher, and their route.
    page.locator("a[href='/teachers/1']").first.click()
    page.wait_for_url(re.compile(r"/teachers/1$"))
    route = page.locator("h2", has_text="Индивидуальный образовательный маршрут")
    assert route.is_visible()
    teacher = page.inner_text("body")
    assert "КПК Альфа" in teacher and "Стажировка в РЦ" in teacher
    assert journey.check("3-teacher-route") == []


def test_effectiveness(journey: Journey) -> None:
    page = journey.page
    page.goto("/effectiveness")
    body = page.inner_text("body")
    assert "КПК Альфа" in body and "7 из 10" in body
    assert journey.check("4-effectiveness") == []


def test_capacity(journey: Journey) -> None:
    page = journey.page
    page.goto("/capacity")
    body = page.inner_text("body")
    assert "Ресурсный центр Альфа" in body and "Школа Бетаград" in body  # B1: no centre
    assert journey.check("5-capacity") == []


def test_the_pdf_report_downloads_from_the_navigation(journey: Journey) -> None:
    page = journey.page
    page.goto("/capacity")
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Отчёт (PDF)").click()
    download = waiting.value
    assert re.fullmatch(r"report-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    path = ROOT / "var" / "browser" / "report.pdf"
    download.save_as(str(path))
    assert path.read_bytes().startswith(b"%PDF-")


def test_accessibility_checks_ran_with_axe_core(journey: Journey) -> None:
    """The checks above assert nothing without axe-core: say so as a skip, not a pass."""
    if not AXE.exists():
        pytest.skip(f"axe-core is absent ({AXE.relative_to(ROOT)}): the pages were not "
                    "checked for accessibility (make test installs it with npm)")
    assert journey.found, "no page was checked"
