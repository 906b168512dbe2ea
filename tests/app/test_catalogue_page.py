"""The catalogue page: offers of each kind with their sessions, seats used and left; a filter
by kind; the matching reads the sessions' seats summed."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Diagnostic, Offer, Route, RouteItem, Teacher, TeacherUnavailable
from app.registry.offerings import import_table
from app.routes.plan_input import plan_input
from app.settings import Settings

EVENTS = ("key;title;place;competencies;session_key;starts_on;seats\n"
          "ev-1;Семинар по ФГОС;ИМЦ;PK-01;январь;15.01.2027;3\n"
          "ev-1;Семинар по ФГОС;Школа № 5;PK-01;февраль;15.02.2027;2\n").encode()
COURSES = ("key;title;provider;format;competencies;seats\n"
           "fr-1;Цифровая дидактика;ФГАОУ ДПО;дистанционно;PK-02;\n").encode()


def _hold_a_seat(offer_key: str, session_key: str | None) -> None:
    offer = db.session.scalars(select(Offer).filter_by(key=offer_key)).one()
    session = next((s for s in offer.sessions if s.key == session_key), None)
    teacher = Teacher(moodle_user_id=7, lastname="Иванова")
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, name="Входная")
    db.session.add_all([teacher, diagnostic])
    db.session.flush()
    db.session.add(Route(teacher_id=teacher.id, diagnostic_id=diagnostic.id, items=[
        RouteItem(offer_id=offer.id, session_id=session.id if session else None,
                  status="approved", competencies=["PK-01"])]))
    db.session.commit()


def _rows(page: str) -> list[str]:
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr><td.*?</tr>", page, re.S)]


def test_sessions_show_their_dates_places_and_seats_used_and_left(
        signed_in_client: FlaskClient) -> None:
    import_table("events", EVENTS)
    import_table("external_courses", COURSES)
    _hold_a_seat("ev-1", "февраль")
    page = signed_in_client.get("/catalogue").get_data(as_text=True)
    assert "Методическое мероприятие" in page and "Внешний КПК" in page
    assert _rows(page) == [
        "январь 15.01.2027 ИМЦ 3 0 3",
        "февраль 15.02.2027 Школа № 5 2 1 1",
        "основная — — без ограничения 0 —"]
    only = signed_in_client.get("/catalogue?kind=external").get_data(as_text=True)
    assert "Цифровая дидактика" in only and "Семинар по ФГОС" not in only
    assert "дистанционно" in only and "ФГАОУ ДПО" in only


def test_planning_reads_each_sessions_seats_less_those_held_elsewhere(
        signed_in_client: FlaskClient) -> None:
    import_table("events", EVENTS)
    import_table("external_courses", COURSES)
    _hold_a_seat("ev-1", "февраль")  # an approved item of another diagnostic
    other = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, name="Итоговая", kind="final")
    db.session.add(other)
    db.session.commit()
    planning = plan_input(other, Settings())
    seats = {s.key: s.seats for s in planning.input.sessions}
    assert seats == {"ev-1/январь": 3, "ev-1/февраль": 1, "fr-1/default": None}
    kinds = {o.key: (o.kind, o.format) for o in planning.input.offers}
    assert kinds == {"ev-1": ("methodical_event", "remote"),
                     "fr-1": ("external_course", "remote")}


def test_planning_reads_the_teachers_absence(signed_in_client: FlaskClient) -> None:
    import_table("events", EVENTS)
    _hold_a_seat("ev-1", "февраль")  # teacher 7, this diagnostic: a fixed item
    teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=7)).one()
    db.session.add(TeacherUnavailable(teacher_id=teacher.id, starts_on=dt.date(2027, 1, 10),
                                      ends_on=dt.date(2027, 1, 31)))
    db.session.commit()
    diagnostic = db.session.scalars(select(Diagnostic)).one()
    planning = plan_input(diagnostic, Settings())
    (planned,) = planning.input.teachers
    assert planned.unavailable == ((dt.date(2027, 1, 10), dt.date(2027, 1, 31)),)
    assert [(f.teacher_id, f.session_key) for f in planning.input.fixed] == [
        (teacher.id, "ev-1/февраль")]
