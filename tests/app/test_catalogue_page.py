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
from app.routes.items import SessionPicker, _offer_record

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


def test_matching_reads_the_sessions_seats_summed(signed_in_client: FlaskClient) -> None:
    import_table("events", EVENTS)
    import_table("external_courses", COURSES)
    offers = {o.key: _offer_record(o) for o in db.session.scalars(select(Offer))}
    assert offers["ev-1"].seats == 5 and offers["ev-1"].kind == "course"
    assert offers["fr-1"].seats is None


def test_a_proposed_item_takes_the_first_session_with_a_seat_outside_the_teachers_absence(
        signed_in_client: FlaskClient) -> None:
    import_table("events", EVENTS)
    _hold_a_seat("ev-1", "февраль")  # teacher 7
    teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=7)).one()
    db.session.add(TeacherUnavailable(teacher_id=teacher.id, starts_on=dt.date(2027, 1, 10),
                                      ends_on=dt.date(2027, 1, 31)))
    other = Teacher(moodle_user_id=8)
    db.session.add(other)
    db.session.commit()
    offer = db.session.scalars(select(Offer).filter_by(key="ev-1")).one()
    keys = {s.id: s.key for s in offer.sessions}
    picker = SessionPicker()
    assert keys[picker.pick(offer, teacher.id) or 0] == "февраль"  # away in January
    assert [keys.get(picker.pick(offer, other.id) or 0) for _ in range(4)] == [
        "январь", "январь", "январь", None]  # February: its last seat went to teacher 7
