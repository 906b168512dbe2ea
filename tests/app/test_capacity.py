"""Capacity planning (issue 14): the forecast from stored diagnostics, routes, partnerships and
the catalogue; its page, XLSX, API and CLI, within the caller's scope."""

from __future__ import annotations

import datetime as dt
import io
import json

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from support import AppRunner, signed_in

from app.accounts.roles import REGION, Scope
from app.extensions import db
from app.models import (
    AuditEvent,
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    OfferSession,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.reports.capacity import capacity_report, parse_overrides

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
BETA = ("--role", "methodologist", "--municipality", "Бета")
START = dt.date(2027, 1, 1)
PERIOD = f"from={START}&to=2027-12-31"


def seed() -> None:
    """Альфа: RC1 (resource centre) with partner schools A1 (teachers 1–6) and A2 (7–10);
    Бета: B1 (11–14), no partner. Last period (entry 1 → final 2): all 14 with a PK-01
    deficit; teachers 1–5 were proposed the RC1 internship: 1–3 completed, 4 declined, 5
    enrolled. Now (entry 3): teachers 1–8 and 11–14 have a PK-01 deficit, 9 a PK-02 one.
    Catalogue in 2027: the internship (2 seats), mentoring at RC1 (capacity 3, 10 h each), an
    external course for PK-01 (1 seat)."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    rc = School(code="RC1", name="Ресурсный центр", municipality=alfa, resource_centre=True)
    a1 = School(code="A1", name="Школа А1", municipality=alfa)
    a2 = School(code="A2", name="Школа А2", municipality=alfa)
    b1 = School(code="B1", name="Школа Б1", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=f"Педагог{n}", firstname="Анна",
                      subjects="математика" if n % 2 else "физика",
                      school=a1 if n <= 6 else a2 if n <= 10 else b1) for n in range(1, 15)]
    pk1 = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    pk2 = Competency(idnumber="PK-02", name="Методика", group="methodological")
    past = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная 2026")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая 2026")
    now = Diagnostic(moodle_quiz_id=3, moodle_course_id=9, kind="entry", name="Входная 2027")
    internship = Offer(key="rc-1", kind="internship", title="Стажировка в РЦ", host_school=rc,
                       competencies=[pk1], sessions=[OfferSession(
                           key="s1", starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 5),
                           seats=2, hours=16)])
    mentoring = Offer(key="rc-m", kind="mentoring", title="Наставничество в РЦ", host_school=rc,
                      competencies=[pk1], capacity=3, hours=10, mentor_name="Иванова",
                      starts_on=dt.date(2027, 2, 1), ends_on=dt.date(2027, 5, 31))
    external = Offer(key="ext-1", kind="external", title="КПК внешний", competencies=[pk1],
                     seats=1, starts_on=dt.date(2027, 4, 1), ends_on=dt.date(2027, 4, 10))
    old = Offer(key="old", kind="external", title="КПК прошлого года", competencies=[pk1],
                seats=50, starts_on=dt.date(2026, 4, 1), ends_on=dt.date(2026, 4, 10))
    db.session.add_all([rc, a1, a2, b1, *people, pk1, pk2, past, final, now, internship,
                        mentoring, external, old,
                        Partnership(resource_centre=rc, school=a1),
                        Partnership(resource_centre=rc, school=a2)])
    db.session.flush()
    for person in people:
        n = person.moodle_user_id
        db.session.add(Deficit(diagnostic_id=past.id, teacher_id=person.id,
                               competency_id=pk1.id, score=0.3, level="deficit", questions=2))
        if n <= 8 or n >= 11:
            db.session.add(Deficit(diagnostic_id=now.id, teacher_id=person.id,
                                   competency_id=pk1.id, score=0.3, level="deficit",
                                   questions=2))
        if n == 9:
            db.session.add(Deficit(diagnostic_id=now.id, teacher_id=person.id,
                                   competency_id=pk2.id, score=0.3, level="deficit",
                                   questions=2))
        status = {1: "completed", 2: "completed", 3: "verified", 4: "declined",
                  5: "enrolled"}.get(n)
        if status:
            route = Route(teacher_id=person.id, diagnostic_id=past.id)
            db.session.add(route)
            db.session.flush()
            db.session.add(RouteItem(route_id=route.id, offer_id=internship.id, status=status,
                                     competencies=["PK-01"]))
    db.session.commit()


def test_the_forecast_from_last_periods_rates_against_the_catalogue(app: Flask) -> None:
    seed()
    report = capacity_report(REGION, start=START, end=dt.date(2027, 12, 31))
    intern = report.rates["internship"]
    # 5 internships for 10 partnered deficits; 4 of 5 accepted; 3 of 4 completed.
    assert (intern.proposed, intern.accepted, intern.completed, intern.source) == (
        0.5, 0.8, 0.75, "data")
    assert report.rates["mentoring"].source == "no_data"
    [rc] = [r for r in report.centres if r["competency"] == "PK-01"]
    # 8 PK-01 deficits at A1/A2 × 0.5 × 0.8 = 3.2 interns against 2 seats.
    assert (rc["deficits"], rc["interns"], rc["intern_seats"], rc["intern_gap"]) == (
        8, 3.2, 2, 1.2)
    # Mentoring without data: every deficit, 10 h each, against 3 mentees × 10 h.
    assert (rc["mentees"], rc["mentor_hours"], rc["mentor_hours_offered"]) == (8, 80, 30)
    assert [o["centre"] for o in report.overloaded] == ["RC1"]
    assert report.overloaded[0]["held"] == 1  # teacher 5 is still enrolled there
    pk2 = [r for r in report.centres if r["competency"] == "PK-02"]
    assert pk2[0]["deficits"] == 1 and pk2[0]["intern_seats"] == 0
    # Courses: external has no history (rates 1.0): 12 PK-01 places, 1 seat in 2027.
    courses = {r["competency"]: r for r in report.courses}
    assert (courses["PK-01"]["deficits"], courses["PK-01"]["external_seats"],
            courses["PK-01"]["to_order"]) == (12, 1, 11)
    assert report.unpartnered == [{"school_code": "B1", "teachers": 4, "deficits": 4}]
    # Last period: 10 partnered deficits × 0.4 = 4 forecast, 4 accepted; 3 completed.
    [tested] = [r for r in report.back_test if r["kind"] == "internship"]
    assert (tested["forecast"], tested["accepted"], tested["completed"]) == (4.0, 4, 3)
    subjects = {(r["competency"], r["subject"]): r["deficits"] for r in report.subjects}
    assert subjects[("PK-01", "математика")] == 4 and subjects[("PK-01", "физика")] == 4
    # An override replaces the data, and is said to.
    over = capacity_report(REGION, start=START, end=dt.date(2027, 12, 31), overrides={
        "internship": {"accepted": 0.25}})
    assert over.rates["internship"].source == "override"
    assert [r["interns"] for r in over.centres if r["competency"] == "PK-01"] == [1.0]
    assert over.overloaded[0]["centre"] == "RC1"  # mentoring still over


def test_scope_keeps_other_municipalities_out(app: Flask) -> None:
    seed()
    beta = db.session.scalars(db.select(Municipality).filter_by(name="Бета")).one()
    report = capacity_report(Scope(municipality_ids=frozenset({beta.id})), start=START)
    assert report.centres == [] and report.subjects == []
    assert [r["school_code"] for r in report.unpartnered] == ["B1"]
    assert {r["competency"]: r["deficits"] for r in report.courses} == {"PK-01": 4}


def test_overrides_are_parsed_or_refused_clearly() -> None:
    assert parse_overrides({"internship.accepted": "0,7", "mentoring.completed": "60 %"}) == {
        "internship": {"accepted": 0.7}, "mentoring": {"completed": 0.6}}
    for bad, said in (({"school.accepted": "1"}, "неизвестная доля 'school.accepted'"),
                      ({"internship.taken": "1"}, "неизвестная доля"),
                      ({"internship.accepted": "much"}, "'much' — не число"),
                      ({"internship.accepted": "1.5"}, "'1.5' — вне диапазона")):
        try:
            parse_overrides(bad)
        except ValueError as exc:
            assert said in str(exc)
        else:
            raise AssertionError(bad)


def test_page_xlsx_api_and_cli(app: Flask) -> None:
    seed()
    client = signed_in(app, "alfa", ALFA)
    page = client.get(f"/capacity?{PERIOD}").get_data(as_text=True)
    assert "Ресурсный центр" in page and "нехватка 1,2 мест" in page
    assert "по данным прошлого периода" in page and "Школа Б1" not in page
    assert "5 предложено на 10 дефицитов" in page
    changed = client.get(f"/capacity?{PERIOD}&internship.accepted=0.25").get_data(as_text=True)
    assert "задано вручную" in changed and 'value="0.25"' in changed
    book = load_workbook(io.BytesIO(client.get(f"/capacity.xlsx?{PERIOD}").data))
    assert book.sheetnames[:4] == ["Допущения", "Ресурсные центры", "По предметам", "Курсы"]
    centres = [r for r in book["Ресурсные центры"].iter_rows(values_only=True)]
    assert ("Ресурсный центр (RC1)", "PK-01 Предметные знания", 8, 8, 3.2, 2, 1.2) in [
        r[:7] for r in centres]
    # The export's audit record keeps the period and the rates asked, nothing else sent.
    assert client.get(f"/capacity.xlsx?{PERIOD}&internship.accepted=0.5&password=x"
                      ).status_code == 200
    event = db.session.scalars(select(AuditEvent).filter_by(object_kind="capacity")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.details == {"from": "2027-01-01", "to": "2027-12-31",
                             "internship.accepted": "0.5"}
    api = client.get(f"/api/capacity?{PERIOD}&mentoring.proposed=0.5").get_json()
    assert api["period"] == {"from": "2027-01-01", "to": "2027-12-31"}
    assert {r["kind"]: r["source"] for r in api["rates"]}["mentoring"] == "override"
    assert client.get("/capacity?internship.accepted=2").status_code == 400
    assert "— вне диапазона; доля от 0 до 1" in client.get("/capacity?internship.accepted=2").get_data(
        as_text=True)
    assert client.get("/api/capacity?school.accepted=1").status_code == 400
    backwards = client.get("/capacity?from=2027-05-01&to=2027-01-01")
    assert backwards.status_code == 400
    assert "поменяйте даты местами" in backwards.get_data(as_text=True)
    teacher = signed_in(app, "anna", ("--role", "teacher", "--teacher-moodle-id", "1"))
    assert teacher.get("/capacity").status_code == 403
    assert teacher.get("/api/capacity").status_code == 403
    beta = signed_in(app, "beta", BETA).get(f"/capacity?{PERIOD}").get_data(as_text=True)
    assert "Школа Б1" in beta and "RC1" not in beta
    result = AppRunner(app).invoke(["capacity", "--from", str(START), "--to", "2027-12-31",
                                    "--rate", "internship.accepted=0.25"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [r["interns"] for r in out["centres"] if r["competency"] == "PK-01"] == [1.0]
    bad = AppRunner(app).invoke(["capacity", "--rate", "internship.accepted"])
    assert bad.exit_code != 0 and "write KIND.RATE=SHARE" in bad.output
