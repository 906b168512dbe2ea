"""Every route of the app has an access rule, and each role sees exactly its scope.

The world: municipality «Альфа» with school A1 (teachers 1 Альфова and 2 Альфина), municipality
«Бета» with school B1 (teacher 3 Бетова). The callers: nobody, the teacher 1, a methodologist
of «Альфа», a methodologist of the whole region, an admin. ``CASES`` holds one request or more
per endpoint with the status each caller gets; ``test_every_endpoint_has_a_rule_and_a_case``
fails for a route added without a rule or without a case here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from support import signed_in

from app.extensions import db
from app.models import (
    Attempt,
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.web.access import rule_of

ANONYMOUS, TEACHER, ALFA, REGION, ADMIN = "anonymous", "teacher", "alfa", "region", "admin"
CALLERS = (ANONYMOUS, TEACHER, ALFA, REGION, ADMIN)
SIGN_IN = {
    TEACHER: ("--role", "teacher", "--teacher-moodle-id", "1"),
    ALFA: ("--role", "methodologist", "--municipality", "Альфа"),
    REGION: ("--role", "methodologist", "--region"),
    ADMIN: ("--role", "admin"),
}
# Whatever a request gets from anyone in «Бета»'s place: none of it may reach «Альфа»'s
# methodologist or the teacher.
BETA_MARKS = ("Бетова", "Бета", "B1")
LOGIN = "login"  # an anonymous caller of a closed view: the sign-in page, or 401 under /api/


@dataclass(frozen=True)
class Case:
    """One request and the status each caller gets (``anonymous`` defaults to LOGIN)."""

    endpoint: str
    path: str
    teacher: int
    alfa: int
    region: int
    admin: int
    method: str = "GET"
    data: dict[str, str] = field(default_factory=dict)
    anonymous: int | str = LOGIN

    def expected(self, caller: str) -> int | str:
        return {ANONYMOUS: self.anonymous, TEACHER: self.teacher, ALFA: self.alfa,
                REGION: self.region, ADMIN: self.admin}[caller]


def everyone(endpoint: str, path: str, status: int, method: str = "GET",
             data: dict[str, str] | None = None) -> Case:
    """A public endpoint: the same answer whoever asks."""
    return Case(endpoint, path, status, status, status, status, method, data or {}, status)


DENIED, HIDDEN = 403, 404
ADMIN_PAGES = ("/admin/accounts", "/admin/settings", "/admin/schedules")
CASES = [
    # The deficit map: a teacher is sent to their own page.
    Case("views.index", "/", 302, 200, 200, 200),
    Case("views.index", "/?page=2&sort=name", 302, 200, 200, 200),
    Case("views.map_xlsx", "/map.xlsx", DENIED, 200, 200, 200),
    Case("views.indicators_page", "/indicators", DENIED, 200, 200, 200),
    # Another municipality's indicators: as unknown as a municipality that does not exist.
    Case("views.indicators_page", "/indicators?municipality=Бета", DENIED, 400, 200, 200),
    Case("views.indicators_xlsx_file", "/indicators.xlsx", DENIED, 200, 200, 200),
    Case("views.effectiveness_page", "/effectiveness", DENIED, 200, 200, 200),
    Case("views.effectiveness_page", "/effectiveness?by=centre&min_pairs=1", DENIED, 200, 200,
         200),
    Case("views.effectiveness_xlsx", "/effectiveness.xlsx?by=kind", DENIED, 200, 200, 200),
    Case("capacity.capacity_page", "/capacity", DENIED, 200, 200, 200),
    Case("capacity.capacity_page", "/capacity?internship.accepted=0.5", DENIED, 200, 200, 200),
    Case("capacity.capacity_xlsx", "/capacity.xlsx", DENIED, 200, 200, 200),
    Case("network.network_page", "/network", DENIED, 200, 200, 200),
    Case("report.report_pdf_file", "/report.pdf", DENIED, 200, 200, 200),
    Case("views.teachers", "/teachers?q=%25", DENIED, 200, 200, 200),
    Case("views.teacher", "/teachers/1", 200, 200, 200, 200),
    Case("views.teacher", "/teachers/2", HIDDEN, 200, 200, 200),
    Case("views.teacher", "/teachers/3", HIDDEN, HIDDEN, 200, 200),
    Case("availability.availability_page", "/teachers/1/availability", 200, 200, 200, 200),
    Case("availability.availability_page", "/teachers/3/availability",
         HIDDEN, HIDDEN, 200, 200),
    Case("views.teacher", "/teachers/999", HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    Case("dynamics.dynamics_page", "/dynamics", DENIED, 200, 200, 200),
    Case("analytics.analytics_page", "/analytics", DENIED, 200, 200, 200),
    Case("analytics.analytics_page", "/analytics?school=A1", DENIED, 200, 200, 200),
    Case("analytics.analytics_page", "/analytics?school=B1", DENIED, HIDDEN, 200, 200),
    Case("analytics.analytics_xlsx", "/analytics/risk-group.xlsx", DENIED, 200, 200, 200),
    Case("analytics.analytics_xlsx", "/analytics/ranking.xlsx?school=B1",
         DENIED, HIDDEN, 200, 200),
    Case("policy.policy_page", "/policy", DENIED, 200, 200, 200),
    Case("policy_api.api_policy", "/api/policy", DENIED, 200, 200, 200),
    Case("imports.imports_page", "/imports", DENIED, DENIED, 200, 200),
    Case("catalogue.catalogue_page", "/catalogue?kind=internship", DENIED, 200, 200, 200),
    Case("push.push_page", "/push", DENIED, DENIED, DENIED, 200),
    # The review of routes: methodologists in their scope; the teacher only their own route.
    Case("review.review_page", "/review", DENIED, 200, 200, 200),
    Case("review.review_page", "/review?school=A1&status=approved", DENIED, 200, 200, 200),
    Case("review.review_page", "/review?school=B1", DENIED, HIDDEN, 200, 200),
    Case("review.requests_page", "/review/requests", DENIED, 200, 200, 200),
    Case("review.my_route", "/my/route", 200, DENIED, DENIED, DENIED),
    Case("api.api_deficit_map", "/api/deficit-map", DENIED, 200, 200, 200),
    Case("api.api_deficit_views", "/api/deficit-map/risk-group", DENIED, 200, 200, 200),
    Case("api.api_deficit_views", "/api/deficit-map/change", DENIED, 200, 200, 200),
    Case("api.api_effectiveness", "/api/effectiveness", DENIED, 200, 200, 200),
    Case("api.api_capacity", "/api/capacity", DENIED, 200, 200, 200),
    Case("api.api_route", "/api/teachers/1/route", 200, 200, 200, 200),
    Case("api.api_route", "/api/teachers/3/route", HIDDEN, HIDDEN, 200, 200),
    Case("api.api_moodle_check", "/api/moodle/check", DENIED, DENIED, DENIED, 400),
    # Personal-data duties and the audit log: admins only.
    Case("audit.audit_page", "/audit", DENIED, DENIED, DENIED, 200),
    Case("audit.teacher_personal_data", "/teachers/1/personal-data.json",
         DENIED, DENIED, DENIED, 200),
    # Accounts, connection settings and schedules: admins only.
    Case("admin_accounts.accounts_page", "/admin/accounts", DENIED, DENIED, DENIED, 200),
    Case("admin_settings.settings_page", "/admin/settings", DENIED, DENIED, DENIED, 200),
    Case("admin_schedules.schedules_page", "/admin/schedules", DENIED, DENIED, DENIED, 200),
    # The API's OpenAPI document (those who may call most of it), its docs page (admins).
    Case("openapi.openapi_json", "/api/openapi.json", DENIED, 200, 200, 200),
    Case("openapi.docs_page", "/api-docs", DENIED, DENIED, DENIED, 200),
    Case("openapi.swagger_ui_file", "/api-docs/swagger-ui/swagger-ui-bundle.js",
         DENIED, DENIED, DENIED, 200),
    Case("openapi.swagger_ui_file", "/api-docs/swagger-ui/index.html",
         DENIED, DENIED, DENIED, HIDDEN),
    everyone("health.health", "/health", 200),
    # LTI 1.3: the platform's signed launch is the check; registering platforms is an admin's.
    everyone("lti.login", "/lti/login", 400),
    everyone("lti.launch", "/lti/launch", 400, "POST"),
    everyone("lti.jwks", "/lti/jwks", 200),
    Case("lti_admin.admin_page", "/lti", DENIED, DENIED, DENIED, 200),
    everyone("static", "/static/none.css", 404),
    everyone("charts.plotly_script", "/static/vendor/plotly.min.js", 200),
    everyone("auth.login", "/login", 200),
    everyone("auth.login", "/login", 401, "POST", {"login": "nobody", "password": "x" * 12}),
    # The xAPI endpoint has credentials of its own (HTTP basic), never a session.
    everyone("xapi.about", "/xapi/about", 200),
    everyone("xapi.get_statements", "/xapi/statements", 401),
    everyone("xapi.post_statements", "/xapi/statements", 401, "POST"),
    everyone("xapi.put_statement", "/xapi/statements?statementId=x", 401, "PUT"),
    # Changes last (each caller has a world of their own): refused ones change nothing.
    Case("policy.save_policy", "/policy", DENIED, DENIED, 422, 422, "POST",
         {"deficit_below": "много"}),
    Case("imports.upload_results", "/imports/results", DENIED, DENIED, 400, 400, "POST"),
    Case("imports.upload_question_map", "/imports/question-map", DENIED, DENIED, 400, 400,
         "POST"),
    Case("imports.upload_catalogue", "/imports/catalogue", DENIED, DENIED, 400, 400, "POST"),
    Case("imports.upload_table", "/imports/table", DENIED, DENIED, 400, 400, "POST",
         {"kind": "events"}),
    Case("imports.apply_upload", "/imports/results/apply", DENIED, DENIED, 400, 400, "POST",
         {"token": "none"}),
    Case("availability.change_availability", "/teachers/1/availability", 422, 422, 422, 422,
         "POST", {"action": "add", "starts_on": "не дата"}),
    Case("availability.change_availability", "/teachers/3/availability",
         HIDDEN, HIDDEN, 422, 422, "POST", {"action": "add", "starts_on": "не дата"}),
    Case("imports.identify_schools", "/imports/identify", DENIED, DENIED, 200, 200, "POST",
         {"apply": "0"}),
    Case("push.resolve", "/push/messages/999", DENIED, DENIED, DENIED, 400, "POST",
         {"action": "delivered"}),
    Case("policy.recompute", "/policy/recompute", DENIED, DENIED, 200, 200, "POST"),
    Case("lti_admin.register_platform", "/lti/platforms", DENIED, DENIED, DENIED, 400, "POST",
         {"issuer": "not a url"}),
    Case("audit.teacher_erase", "/teachers/1/erase", DENIED, DENIED, DENIED, 400, "POST",
         {"confirm": "not the id"}),
    Case("admin_accounts.create", "/admin/accounts", DENIED, DENIED, DENIED, 400, "POST",
         {"login": "new", "password": "x", "password2": "y"}),
    Case("admin_accounts.change_active", "/admin/accounts/999/active",
         DENIED, DENIED, DENIED, 404, "POST", {"active": "0"}),
    Case("admin_accounts.reset_password", "/admin/accounts/999/password",
         DENIED, DENIED, DENIED, 404, "POST"),
    Case("admin_accounts.grant_role", "/admin/accounts/999/grant",
         DENIED, DENIED, DENIED, 404, "POST", {"role": "admin"}),
    Case("admin_accounts.revoke_role", "/admin/accounts/999/revoke",
         DENIED, DENIED, DENIED, 404, "POST", {"role": "admin"}),
    Case("admin_settings.check_moodle_page", "/admin/settings/check-moodle",
         DENIED, DENIED, DENIED, 400, "POST"),
    Case("admin_schedules.create", "/admin/schedules", DENIED, DENIED, DENIED, 400, "POST",
         {"name": "x", "job": "sync", "cron": "каждый час"}),
    Case("admin_schedules.change", "/admin/schedules/999", DENIED, DENIED, DENIED, 400, "POST",
         {"name": "x", "job": "sync", "cron": "* * * * *"}),
    Case("admin_schedules.run_now", "/admin/schedules/999/run",
         DENIED, DENIED, DENIED, 400, "POST"),
    Case("admin_schedules.delete", "/admin/schedules/999/delete",
         DENIED, DENIED, DENIED, 400, "POST"),
    # Item 1 is teacher 1's («Альфа»), item 2 teacher 3's («Бета»): cross-scope is 404.
    Case("review.approve_item", "/review/items/2/approve", DENIED, HIDDEN, 302, 302, "POST"),
    Case("review.approve_item", "/review/items/1/approve", DENIED, 302, 302, 302, "POST"),
    Case("review.reject_item", "/review/items/2/reject", DENIED, HIDDEN, 400, 400, "POST"),
    Case("review.swap_item", "/review/items/2/swap", DENIED, HIDDEN, 400, 400, "POST",
         {"offer_id": "999"}),
    Case("review.bulk", "/review/bulk", DENIED, HIDDEN, 302, 302, "POST",
         {"action": "approve", "by_filter": "1", "school": "B1"}),
    Case("review.bulk", "/review/bulk", DENIED, 302, 302, 302, "POST",
         {"action": "approve", "item": "2"}),
    Case("review.answer_request", "/review/requests/999/answer", DENIED, HIDDEN, HIDDEN,
         HIDDEN, "POST", {"answer": "да"}),
    Case("review.my_decision", "/my/route/items/2/accept", HIDDEN, DENIED, DENIED, DENIED,
         "POST"),
    Case("review.my_decision", "/my/route/items/1/decline", 400, DENIED, DENIED, DENIED,
         "POST"),
    everyone("auth.logout", "/logout", 302, "POST"),
    # The pages' language: anyone may choose it (the signed-in keep it on their login).
    everyone("choose_language", "/language", 302, "POST", {"lang": "en", "next": "/"}),
    everyone("choose_language", "/language", 400, "POST", {"lang": "xx"}),
]


def seed() -> None:
    """Two municipalities, three teachers, an entry and a final diagnostic with levels, a route
    for teachers 1 and 3."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a1 = School(code="A1", name="Школа Альфа", municipality=alfa, low_results=True)
    b1 = School(code="B1", name="Школа Бета", municipality=beta, low_results=True)
    people = [Teacher(moodle_user_id=n, lastname=name, firstname="Анна", school=school)
              for n, name, school in ((1, "Альфова", a1), (2, "Альфина", a1), (3, "Бетова", b1))]
    pk = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    offer = Offer(key="pk", kind="course", title="КПК по предмету", moodle_course_id=501)
    db.session.add(final)
    db.session.flush()  # the entry diagnostic is the latest: the map and risk group show it
    db.session.add_all([a1, b1, *people, pk, entry, offer])
    db.session.flush()
    finished = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).timestamp())
    levels = ((entry, 0, 0.4, "deficit"), (entry, 1, 0.9, "ok"), (entry, 2, 0.2, "deficit"),
              (final, 0, 1.0, "ok"), (final, 2, 1.0, "ok"))
    for number, (diagnostic, person, score, level) in enumerate(levels, start=100):
        db.session.add(Attempt(moodle_attempt_id=number, diagnostic_id=diagnostic.id,
                               teacher_id=people[person].id, attempt_no=1, state="finished",
                               time_finish=finished, sumgrades=score))
        db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=people[person].id,
                               competency_id=pk.id, score=score, level=level, questions=2,
                               moodle_attempt_id=number))
    for person in (people[0], people[2]):
        db.session.add(Route(teacher_id=person.id, diagnostic_id=entry.id, items=[
            RouteItem(offer_id=offer.id, status="approved", competencies=["PK-01"])]))
    db.session.commit()


@pytest.fixture
def callers(app: Flask) -> Iterator[dict[str, FlaskClient]]:
    """A client per caller, on the seeded world."""
    seed()
    clients = {caller: signed_in(app, caller, SIGN_IN[caller]) for caller in SIGN_IN}
    clients[ANONYMOUS] = app.test_client()
    yield clients


def request(client: FlaskClient, case: Case) -> tuple[int, str, bytes]:
    answer = client.open(case.path, method=case.method, data=case.data)
    return answer.status_code, answer.headers.get("Location", ""), answer.data


def test_every_endpoint_has_a_rule_and_a_case(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    without_rule = sorted(e for e in endpoints if rule_of(app, e) is None)
    assert without_rule == [], "declare @allow(...) or @public on these views"
    without_case = sorted(endpoints - {c.endpoint for c in CASES})
    assert without_case == [], "add the endpoints' requests to CASES in this file"


def test_a_route_without_a_rule_is_refused(app: Flask) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "personal data")
    assert rule_of(app, "forgotten") is None
    client = signed_in(app, ADMIN, SIGN_IN[ADMIN])
    answer = client.get("/forgotten")
    assert answer.status_code == 403 and b"personal data" not in answer.data
    assert app.test_client().get("/forgotten").status_code == 403


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_what_the_rules_say(callers: dict[str, FlaskClient],
                                             caller: str) -> None:
    wrong = []
    for case in CASES:
        status, location, _ = request(callers[caller], case)
        expected = case.expected(caller)
        if expected == LOGIN:
            expected = 401 if case.path.startswith("/api/") else 302
            if status == 302 and not location.startswith("/login?next="):
                wrong.append((case.method, case.path, status, location))
        if status != expected:
            wrong.append((case.method, case.path, status, expected))
    assert wrong == []


@pytest.mark.parametrize("caller", [TEACHER, ALFA])
def test_nothing_of_another_municipality_reaches_a_narrower_caller(
        callers: dict[str, FlaskClient], caller: str) -> None:
    client = callers[caller]
    for case in CASES:
        if case.method != "GET" or case.expected(caller) != 200 or case.anonymous != LOGIN:
            continue
        status, _, data = request(client, case)
        assert status == 200, case.path
        text = (cells(data) if data.startswith(b"PK") else pdf_text(data)
                if data.startswith(b"%PDF-") else data.decode())
        for mark in BETA_MARKS:  # "B1" as a whole word: a random CSRF token may hold it
            found = (re.search(rf"(?<![\w.-]){mark}(?![\w.-])", text) if mark.isascii()
                     else mark in text)
            assert not found, (case.path, mark)


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF file (the municipal report)."""
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def cells(data: bytes) -> str:
    """Every cell of every sheet of an XLSX file, as one text."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(value) for sheet in book.worksheets
                     for row in sheet.iter_rows(values_only=True) for value in row
                     if value is not None)


def test_aggregates_count_only_the_callers_teachers(callers: dict[str, FlaskClient]) -> None:
    region = callers[REGION].get("/api/deficit-map").get_json()
    alfa = callers[ALFA].get("/api/deficit-map").get_json()
    assert sorted(s["code"] for s in region["schools"]) == ["A1", "B1"]
    assert region["municipality"]["PK-01"] == pytest.approx(2 / 3)
    assert [s["code"] for s in alfa["schools"]] == ["A1"]
    assert alfa["municipality"]["PK-01"] == pytest.approx(1 / 2)  # Альфова of Альфова, Альфина

    def risky(client: FlaskClient) -> set[str]:
        page = client.get("/analytics?view=risk-group").get_data(as_text=True)
        return {name for name in ("Альфова", "Альфина", "Бетова") if name in page}
    assert risky(callers[REGION]) == {"Альфова", "Бетова"}
    assert risky(callers[ALFA]) == {"Альфова"}

    closed = callers[ALFA].get("/api/deficit-map/change").get_json()["closed"]
    assert [c["teacher"] for c in closed] == ["Альфова Анна"]
    assert len(callers[REGION].get("/api/deficit-map/change").get_json()["closed"]) == 2

    found = callers[ALFA].get("/teachers?q=Анна").get_data(as_text=True)
    assert "Альфова" in found and "Альфина" in found and "Бетова" not in found
    ranking = callers[ALFA].get("/api/deficit-map/ranking").get_json()["rows"]
    assert [r["school_code"] for r in ranking] == ["A1"]

    def analysed(client: FlaskClient) -> tuple[str, str]:
        page = client.get("/indicators").get_data(as_text=True)
        found = re.search(r'Доля проанализированных школ</a></td><td>(\d+)</td><td>(\d+)</td>',
                          page)
        assert found, page
        return found.group(1), found.group(2)
    assert analysed(callers[REGION]) == ("2", "2")  # the first block: the caller's whole scope
    assert analysed(callers[ALFA]) == ("1", "1")
    assert "Все муниципалитеты в вашем доступе" in callers[ALFA].get("/indicators").get_data(
        as_text=True)


def test_a_teacher_sees_only_their_own_page_and_no_menu_of_others(
        callers: dict[str, FlaskClient]) -> None:
    client = callers[TEACHER]
    assert client.get("/").headers["Location"] == "/teachers/1"
    page = client.get("/teachers/1").get_data(as_text=True)
    assert "Альфова" in page and "КПК по предмету" in page
    assert 'href="/teachers"' not in page and 'href="/indicators"' not in page
    assert client.get("/api/teachers/1/route").get_json()["items"][0]["title"] == \
        "КПК по предмету"


def test_the_menu_shows_each_caller_only_what_they_may_open(
        callers: dict[str, FlaskClient]) -> None:
    def menu(caller: str) -> set[str]:
        page = callers[caller].get("/policy" if caller != TEACHER else "/teachers/1")
        text = page.get_data(as_text=True)
        return {href for href in ("/teachers", "/imports", "/push", "/policy", *ADMIN_PAGES)
                if f'href="{href}"' in text}
    assert menu(TEACHER) == set()
    assert menu(ALFA) == {"/teachers", "/policy"}
    assert menu(REGION) == {"/teachers", "/policy", "/imports"}
    assert menu(ADMIN) == {"/teachers", "/policy", "/imports", "/push", *ADMIN_PAGES}


def test_roles_take_effect_at_the_next_request(app: Flask, callers: dict[str, FlaskClient],
                                               ) -> None:
    from support import AppRunner

    runner = AppRunner(app)
    client = callers[ALFA]
    assert client.get("/teachers/3").status_code == HIDDEN
    granted = runner.invoke(["web-user", "grant", ALFA, "--role", "methodologist",
                             "--municipality", "Бета"])
    assert granted.exit_code == 0, granted.output
    assert client.get("/teachers/3").status_code == 200
    revoked = runner.invoke(["web-user", "revoke", ALFA, "--role", "methodologist"])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/teachers/1").status_code == DENIED
