"""The review's alternatives come from the planner (issue 13): stored by recommend, shown best
first with their reasons and re-checked today; a swap takes the named session and its seat
and refuses what is no longer possible; bulk decisions by session stay within scope; a swap
sends the teacher one message."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask
from sqlalchemy import select
from support import AppRunner, signed_in

from app.common.outbox import MessageRecord, record_of
from app.extensions import db
from app.models import (
    Competency,
    CourseCompletion,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    OfferSession,
    OutboxMessage,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
    TeacherUnavailable,
)
from app.models.ops import SENT
from app.push.messages import enqueue_messages
from app.routes import review
from app.routes.items import recommend
from app.settings import Settings

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
CLI = review.Actor("cli", "cli:test")


def _session(key: str, starts: dt.date, seats: int | None) -> OfferSession:
    return OfferSession(key=key, starts_on=starts, ends_on=starts + dt.timedelta(days=4),
                        seats=seats, hours=36)


def seed() -> Diagnostic:
    """«Альфа» (school A1: teachers 1, 2; resource centre R1, A1's partner), «Бета» (B1:
    teacher 3, also R1's partner); one deficit each. An internship at R1 (the planner's first
    choice for all three: a partner resource centre) and a remote course in two sessions:
    June with one seat, July with five."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    r1 = School(code="R1", name="Ресурсный центр", municipality=alfa, resource_centre=True)
    a1 = School(code="A1", name="Школа Альфа", municipality=alfa)
    b1 = School(code="B1", name="Школа Бета", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=name, firstname="Анна", school=school)
              for n, name, school in ((1, "Альфова", a1), (2, "Альфина", a1), (3, "Бетова", b1))]
    pk = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    internship = Offer(key="int-r1", kind="internship", title="Стажировка в R1",
                       host_school=r1, format="in_person", competencies=[pk],
                       sessions=[_session("feb", dt.date(2027, 2, 1), 5)])
    course = Offer(key="pk-b", kind="course", title="КПК Б", moodle_course_id=502,
                   format="remote", competencies=[pk],
                   sessions=[_session("june", dt.date(2027, 6, 1), 1),
                             _session("july", dt.date(2027, 7, 1), 5)])
    db.session.add_all([r1, a1, b1, *people, pk, entry, internship, course])
    db.session.flush()
    db.session.add_all([Partnership(resource_centre_id=r1.id, school_id=a1.id),
                        Partnership(resource_centre_id=r1.id, school_id=b1.id)])
    for person in people:
        db.session.add(Deficit(diagnostic_id=entry.id, teacher_id=person.id,
                               competency_id=pk.id, score=0.3, level="deficit", questions=2))
    db.session.commit()
    return entry


def item_of(moodle_id: int) -> RouteItem:
    db.session.expire_all()
    found = db.session.scalars(select(RouteItem).join(Route).join(Teacher).where(
        Teacher.moodle_user_id == moodle_id).order_by(RouteItem.id.desc())).first()
    assert found is not None
    return found


def session_id(offer_key: str, key: str) -> int:
    found = db.session.scalar(select(OfferSession.id).join(Offer).where(
        Offer.key == offer_key, OfferSession.key == key))
    assert found is not None
    return int(found)


def test_recommend_stores_the_planners_alternatives_and_the_page_shows_them_in_order(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    assert item.offer.key == "int-r1"  # the partner resource centre first
    assert item.alternatives is not None
    stored = [(a["offer"], a["session"]) for a in item.alternatives]
    assert set(stored) == {("pk-b", "june"), ("pk-b", "july")}
    assert all(a["status"] == "free" and a["place"] == "remote" for a in item.alternatives)
    shown = review.alternatives_of(item, review.OfferPool.load())
    assert [(a.offer_key, a.session_key) for a in shown] == stored
    assert [a.session_id for a in shown] == [session_id(*k) for k in stored]
    assert "есть свободное место (свободно мест: 1)" in next(
        a.reason for a in shown if a.session_key == "june")
    assert "1 left" in next(a.reason_en for a in shown if a.session_key == "june")

    client = signed_in(app, "alfa", ALFA)
    for order in (stored, stored[::-1]):  # the stored order, whatever it is
        row = db.session.get(RouteItem, item.id)
        assert row is not None
        row.alternatives = [a for k in order for a in item.alternatives
                            if (a["offer"], a["session"]) == k]
        db.session.commit()
        page = client.get("/review").get_data(as_text=True)
        part = page[page.index(f'id="item-{item.id}"'):]
        part = part[:part.index("</tr>")]
        places = [part.index(f"сессия {key} (") for _, key in order]
        assert places == sorted(places)
        assert "a seat is free" not in part  # English only for whoever chooses it
        english = client.get("/review?lang=en").get_data(as_text=True)
        assert "a seat is free" in english[english.index(f'id="item-{item.id}"'):]
        client.get("/review?lang=ru")
        cli = AppRunner(app).invoke(["review", "alternatives", "--item", str(item.id)])
        assert cli.exit_code == 0, cli.output
        assert [(a["offer_key"], a["session_key"], a["possible"])
                for a in json.loads(cli.output)] == [(*k, True) for k in order]


def test_items_without_stored_alternatives_fall_back_to_the_ranking(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    item.alternatives = None
    db.session.commit()
    pool = review.OfferPool.load()
    assert review.alternatives_of(item, pool) == review.ranked_alternatives(item, pool=pool)
    assert [a.offer_key for a in review.alternatives_of(item, pool)] == ["pk-b"]
    new = review.swap_item(item, _offer_id("pk-b"), CLI)
    assert new.offer.key == "pk-b" and new.session_id is None and new.status == "approved"


def _offer_id(key: str) -> int:
    found = db.session.scalar(select(Offer.id).filter_by(key=key))
    assert found is not None
    return int(found)


def test_swap_takes_the_named_session_and_its_seat_then_refuses_it_when_full(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    june, july = session_id("pk-b", "june"), session_id("pk-b", "july")
    client = signed_in(app, "alfa", ALFA)
    first = item_of(1)
    assert client.post(f"/review/items/{first.id}/swap",
                       data={"offer_id": f"{_offer_id('pk-b')}:{june}"}).status_code == 302
    new = item_of(1)
    assert (new.offer.key, new.session_id, new.status) == ("pk-b", june, "approved")
    assert new.replaces_id == first.id and db.session.get(RouteItem, first.id).status == \
        "rejected"
    assert [(a["offer"], a["session"]) for a in new.alternatives or []] == [("pk-b", "july")]

    # teacher 2 was planned with June free; its one seat is taken now
    second = item_of(2)
    june_now = next(a for a in review.alternatives_of(second) if a.session_key == "june")
    assert (june_now.status, june_now.possible) == ("filled", False)
    assert "места заняты после планирования" in june_now.reason
    refused = client.post(f"/review/items/{second.id}/swap",
                          data={"offer_id": str(_offer_id("pk-b")), "session_id": str(june)})
    assert refused.status_code == 400
    assert "места заняты после планирования" in refused.get_data(as_text=True)
    assert item_of(2).id == second.id and item_of(2).status == "proposed"
    page = client.get("/review").get_data(as_text=True)
    assert f'value="{_offer_id("pk-b")}:{june}" disabled' in page
    # the offer without a session: its best session still possible
    done = AppRunner(app).invoke(["review", "swap", "--item", str(second.id), "--offer", "pk-b"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["session_id"] == july
    assert item_of(2).session_id == july


def test_swap_refuses_dates_the_teacher_is_away_now(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    db.session.add(TeacherUnavailable(teacher_id=item.route.teacher_id,
                                      starts_on=dt.date(2027, 7, 3),
                                      ends_on=dt.date(2027, 7, 20)))
    db.session.commit()
    july = next(a for a in review.alternatives_of(item) if a.session_key == "july")
    assert july.status == "unavailable" and "недоступен" in july.reason
    result = AppRunner(app).invoke(["review", "swap", "--item", str(item.id), "--offer",
                                    "pk-b", "--session", "july"])
    assert result.exit_code != 0 and "недоступен" in result.output
    assert item_of(1).id == item.id


def test_alternatives_completed_or_already_in_the_route_drop_out(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    assert {a.offer_key for a in review.alternatives_of(item)} == {"pk-b"}
    done = CourseCompletion(teacher_id=item.route.teacher_id, moodle_course_id=502,
                            completed=True)
    db.session.add(done)
    db.session.commit()
    assert review.alternatives_of(item) == []  # completed in Moodle
    db.session.delete(done)
    db.session.add(RouteItem(route_id=item.route_id, offer_id=_offer_id("pk-b"),
                             status="rejected"))
    db.session.commit()
    assert review.alternatives_of(item) == []  # already in the route (rejected there)
    with pytest.raises(review.ReviewError, match="нет среди альтернатив"):
        review.swap_item(item, _offer_id("pk-b"), CLI)


def test_bulk_approve_by_session_touches_only_that_sessions_items_in_scope(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    june, july = session_id("pk-b", "june"), session_id("pk-b", "july")
    course = _offer_id("pk-b")
    rows = [(item_of(n), sid) for n, sid in ((1, june), (2, july), (3, june))]
    for row, sid in rows:  # the same offer, two sessions
        row.offer_id, row.session_id = course, sid
    db.session.commit()
    client = signed_in(app, "alfa", ALFA)
    assert client.post("/review/bulk", data={"action": "approve", "by_filter": "1",
                                             "session": "999999"}).status_code == 404
    page = client.get(f"/review?offer=pk-b&session={june}").get_data(as_text=True)
    assert "Альфова" in page and "Альфина" not in page and "Бетова" not in page
    assert client.post("/review/bulk", data={"action": "approve", "by_filter": "1",
                                             "session": str(june)}).status_code == 302
    assert [item_of(n).status for n in (1, 2, 3)] == ["approved", "proposed", "proposed"]
    runner = AppRunner(app)
    done = runner.invoke(["review", "approve", "--session", "pk-b/july"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"approved": 1}
    assert [item_of(n).status for n in (1, 2, 3)] == ["approved", "approved", "proposed"]
    assert runner.invoke(["review", "approve", "--session", "pk-b/nope"]).exit_code != 0


def _messages() -> list[MessageRecord]:
    return [record_of(r, MessageRecord) for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "message")
        .order_by(OutboxMessage.id))]


def _all_sent() -> None:
    for row in db.session.scalars(select(OutboxMessage)):
        row.status = SENT
    db.session.commit()


def test_a_swap_sends_the_teacher_one_message_saying_what_replaced_what(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    review.approve_items([item_of(1), item_of(2)], CLI)
    assert enqueue_messages() == 2  # each route once
    _all_sent()
    before = len(_messages())
    item = item_of(1)
    review.swap_item(item, _offer_id("pk-b"), review.Actor("account", "alfa", 1),
                     "стажировка переносится", session_id=session_id("pk-b", "june"))
    assert enqueue_messages() == 1
    assert enqueue_messages() == 0  # keyed: queued once
    (message,) = _messages()[before:]
    assert message.user_id == 1
    assert "«Стажировка в R1» (01.02.2027–05.02.2027)" in message.text
    assert "«КПК Б» (01.06.2027–05.06.2027)" in message.text
    assert "стажировка переносится" in message.text


def test_a_swap_answering_a_request_sends_one_message(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    request = review.request_change(item, review.Actor("teacher", "anna"), "можно летом?")
    review.answer_request(request, review.Actor("account", "alfa", 1), "Да, есть июльский поток",
                          swap_offer_id=_offer_id("pk-b"),
                          swap_session_id=session_id("pk-b", "july"))
    assert item_of(1).session_id == session_id("pk-b", "july")
    assert enqueue_messages() == 2  # the route (first sent now) and the swap
    decisions = [m for m in _messages() if "заменил" in m.text]
    assert len(decisions) == 1 and "Да, есть июльский поток" in decisions[0].text
    assert "01.07.2027" in decisions[0].text


def test_another_session_of_the_items_own_offer_moves_the_item_with_one_message(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    june, july = session_id("pk-b", "june"), session_id("pk-b", "july")
    methodologist = review.Actor("account", "alfa", 1)
    moved = review.swap_item(item_of(1), _offer_id("pk-b"), methodologist, session_id=june)
    review.approve_items([item_of(2)], CLI)
    enqueue_messages()
    _all_sent()
    before = len(_messages())
    choices = review.alternatives_of(item_of(1))
    assert [(a.offer_key, a.session_key, a.possible) for a in choices] == [
        ("pk-b", "july", True)]  # its own offer's other session stays
    request = review.request_change(item_of(1), review.Actor("teacher", "anna"), "в июле?")
    review.answer_request(request, methodologist, "Да, переносим", swap_offer_id=_offer_id(
        "pk-b"), swap_session_id=july)
    again = item_of(1)
    assert (again.id, again.session_id, again.status) == (moved.id, july, "approved")
    assert [(a["offer"], a["session"], a["status"]) for a in again.alternatives or []] == [
        ("pk-b", "june", "free")]
    june_again = next(a for a in review.alternatives_of(item_of(2)) if a.session_key == "june")
    assert june_again.possible  # the seat it left is free again
    assert enqueue_messages() == 1
    (message,) = _messages()[before:]
    assert "перенесена методистом на другие даты (01.07.2027–05.07.2027)" in message.text
    assert "Да, переносим" in message.text


def test_alternatives_are_re_checked_for_dates_and_hours_of_the_route_today(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    event = Offer(key="ev", kind="event", title="Семинар", format="remote",
                  sessions=[_session("jul", dt.date(2027, 7, 3), None)])
    db.session.add(event)
    db.session.flush()
    db.session.add(RouteItem(route_id=item.route_id, offer_id=event.id, status="approved",
                             session_id=event.sessions[0].id))
    db.session.commit()
    found = {a.session_key: a for a in review.alternatives_of(item)}
    assert found["july"].status == "dates_clash" and not found["july"].possible
    assert "dates clash" in found["july"].reason_en
    assert found["june"].possible
    tight = {a.session_key: a.status
             for a in review.alternatives_of(item, review.OfferPool.load(hours_cap=30))}
    assert tight == {"june": "hours_cap", "july": "dates_clash"}
