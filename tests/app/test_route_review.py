"""People's decisions on route items: the review page (approve, reject, swap, bulk, within
scope), the teacher's side (accept, decline, ask for a change), every change recorded with
who, and the next push carrying what people decided (enrol, suspend)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from support import signed_in

from app.common.outbox import EnrolmentRecord, record_of
from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    OutboxMessage,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.models.ops import SENT
from app.models.route_review import RouteChangeRequest, RouteItemEvent
from app.push.enrolments import enqueue_enrolments
from app.routes import review
from app.routes.items import recommend
from app.settings import Settings

TEACHER = ("--role", "teacher", "--teacher-moodle-id", "1")
ALFA = ("--role", "methodologist", "--municipality", "Альфа")
REGION = ("--role", "methodologist", "--region")


def seed() -> Diagnostic:
    """«Альфа» (school A1: teachers 1, 2), «Бета» (B1: teacher 3), one competency with a
    deficit for each, two courses and an internship covering it."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a1 = School(code="A1", name="Школа Альфа", municipality=alfa)
    b1 = School(code="B1", name="Школа Бета", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=name, firstname="Анна", school=school)
              for n, name, school in ((1, "Альфова", a1), (2, "Альфина", a1), (3, "Бетова", b1))]
    pk = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    offers = [Offer(key="pk-a", kind="course", title="КПК А", moodle_course_id=501, seats=10,
                    competencies=[pk]),
              Offer(key="pk-b", kind="course", title="КПК Б", moodle_course_id=502, seats=10,
                    competencies=[pk]),
              Offer(key="pk-full", kind="course", title="КПК без мест", moodle_course_id=503,
                    seats=0, competencies=[pk])]
    db.session.add_all([a1, b1, *people, pk, entry, *offers])
    db.session.flush()
    for person in people:
        db.session.add(Deficit(diagnostic_id=entry.id, teacher_id=person.id,
                               competency_id=pk.id, score=0.3, level="deficit", questions=2))
    db.session.commit()
    return entry


def other_course(key: str) -> str:
    """The other of the two equal courses (the planner may take either: a tie)."""
    return {"pk-a": "pk-b", "pk-b": "pk-a"}[key]


def item_of(moodle_id: int) -> RouteItem:
    found = db.session.scalars(select(RouteItem).join(Route).join(Teacher).where(
        Teacher.moodle_user_id == moodle_id).order_by(RouteItem.id.desc())).first()
    assert found is not None
    return found


def events(item: RouteItem) -> list[tuple[str, str, str, str, str | None]]:
    return [(e.from_status, e.to_status, e.actor_kind, e.actor, e.reason)
            for e in db.session.scalars(select(RouteItemEvent).where(
                RouteItemEvent.route_item_id == item.id).order_by(RouteItemEvent.id))]


def fresh(item: RouteItem) -> RouteItem:
    db.session.expire_all()
    found = db.session.get(RouteItem, item.id)
    assert found is not None
    return found


def test_approve_and_reject_on_the_page_record_who_and_why(app: Flask, settings: Settings
                                                            ) -> None:
    recommend(seed(), settings)
    client = signed_in(app, "alfa", ALFA)
    first, second = item_of(1), item_of(2)
    assert first.offer.key in ("pk-a", "pk-b") and first.status == "proposed"
    page = client.get("/review").get_data(as_text=True)
    assert "Альфова" in page and "Бетова" not in page
    assert 'class="count-proposed">2<' in page  # the two of «Альфа», not Бета's

    assert client.post(f"/review/items/{first.id}/approve").status_code == 302
    assert fresh(first).status == "approved"
    assert events(first) == [("proposed", "approved", "account", "alfa", None)]

    refused = client.post(f"/review/items/{second.id}/reject", data={"reason": " "})
    assert refused.status_code == 400 and fresh(second).status == "proposed"
    assert client.post(f"/review/items/{second.id}/reject",
                       data={"reason": "уже прошла"}).status_code == 302
    second = fresh(second)
    assert second.status == "rejected" and second.decision_reason == "уже прошла"
    assert events(second) == [("proposed", "rejected", "account", "alfa", "уже прошла")]
    # a rejected item cannot be approved: nothing happens, no event
    assert client.post(f"/review/items/{second.id}/approve").status_code == 302
    assert fresh(second).status == "rejected" and len(events(second)) == 1
    pending = client.get("/review?status=rejected").get_data(as_text=True)
    assert "Альфина" in pending and "Альфова" not in pending
    assert "Альфова" in client.get("/review?competency=PK-01&subject=").get_data(as_text=True)
    assert "Альфова" not in client.get("/review?competency=PK-0").get_data(as_text=True)
    assert client.get("/review?status=nonsense").status_code == 400


def test_swap_takes_a_ranked_alternative_with_a_seat(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    other = other_course(item.offer.key)
    alternatives = review.ranked_alternatives(item)
    assert [a.offer_key for a in alternatives] == [other]  # pk-full has no seat left
    assert "свободно мест" in alternatives[0].reason
    client = signed_in(app, "alfa", ALFA)
    full = db.session.scalars(select(Offer).filter_by(key="pk-full")).one()
    assert client.post(f"/review/items/{item.id}/swap",
                       data={"offer_id": str(full.id)}).status_code == 400
    assert client.post(f"/review/items/{item.id}/swap",
                       data={"offer_id": str(alternatives[0].offer_id)}).status_code == 302
    old, new = fresh(item), item_of(1)
    assert old.status == "rejected" and old.decision_reason == f"заменено на {other}"
    assert new.offer.key == other and new.status == "approved"
    assert new.competencies == ["PK-01"]
    assert events(new)[0][:3] == ("proposed", "approved", "account")


def test_bulk_approve_by_school_stays_within_scope(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    client = signed_in(app, "alfa", ALFA)
    out_of_scope = client.post("/review/bulk", data={"action": "approve", "by_filter": "1",
                                                     "school": "B1"})
    assert out_of_scope.status_code == 404
    assert client.post("/review/bulk", data={"action": "approve", "item": str(item_of(3).id)}
                       ).status_code == 302
    assert fresh(item_of(3)).status == "proposed"  # another municipality's: untouched
    assert client.post("/review/bulk", data={"action": "approve", "by_filter": "1",
                                             "school": "A1"}).status_code == 302
    assert [fresh(item_of(n)).status for n in (1, 2, 3)] == ["approved", "approved", "proposed"]
    region = signed_in(app, "region", REGION)
    assert region.post("/review/bulk", data={"action": "reject", "by_filter": "1",
                                             "competency": "PK-01"}
                       ).status_code == 400  # no reason
    assert region.post("/review/bulk", data={"action": "reject", "by_filter": "1",
                                             "competency": "PK-01", "reason": "нет мест"}
                       ).status_code == 302
    assert {fresh(item_of(n)).status for n in (1, 2, 3)} == {"rejected"}


def test_decline_excludes_the_offer_from_re_matching(app: Flask, settings: Settings) -> None:
    diagnostic = seed()
    recommend(diagnostic, settings)
    item = item_of(1)
    teacher = signed_in(app, "anna", TEACHER)
    page = teacher.get("/my/route").get_data(as_text=True)
    assert item.offer.title in page and "Альфина" not in page
    assert teacher.post(f"/my/route/items/{item.id}/decline", data={"reason": ""}
                        ).status_code == 400
    assert teacher.post(f"/my/route/items/{item.id}/decline",
                        data={"reason": "неудобное время"}).status_code == 302
    assert fresh(item).status == "declined"
    assert events(item) == [("proposed", "declined", "teacher", "anna", "неудобное время")]
    declined = item.offer.key
    assert declined in review.excluded_offer_keys(item.route.teacher_id)
    recommend(diagnostic, settings)  # re-planned without the declined offer
    again = item_of(1)
    assert again.id != item.id and again.offer.key == other_course(declined)
    assert again.status == "proposed"
    assert fresh(item).status == "declined"
    # a declined item cannot be accepted or declined again
    assert teacher.post(f"/my/route/items/{item.id}/accept").status_code == 400
    # another teacher's item: as if it did not exist
    assert teacher.post(f"/my/route/items/{item_of(2).id}/accept").status_code == 404


def test_change_request_round_trip(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    teacher = signed_in(app, "anna", TEACHER)
    assert teacher.post(f"/my/route/items/{item.id}/accept").status_code == 302
    assert teacher.post(f"/my/route/items/{item.id}/request",
                        data={"message": "можно летом?"}).status_code == 302
    alfa = signed_in(app, "alfa", ALFA)
    listed = alfa.get("/review/requests").get_data(as_text=True)
    assert "можно летом?" in listed
    request = db.session.scalars(select(RouteChangeRequest)).one()
    assert alfa.post(f"/review/requests/{request.id}/answer", data={"answer": ""}
                     ).status_code == 400
    assert alfa.post(f"/review/requests/{request.id}/answer",
                     data={"answer": "Да, есть летний поток", "decision": "swap",
                           "offer_id": str(review.ranked_alternatives(item)[0].offer_id)}
                     ).status_code == 302
    assert alfa.post(f"/review/requests/{request.id}/answer", data={"answer": "ещё"}
                     ).status_code == 400  # answered once
    page = teacher.get("/my/route").get_data(as_text=True)
    assert "Да, есть летний поток" in page and "КПК Б" in page
    assert [e[1] for e in events(fresh(item))] == ["proposed", "proposed", "rejected",
                                                   "rejected"]
    assert item_of(1).status == "approved"


def test_a_methodologist_of_another_municipality_does_not_see_the_request(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(3)
    review.request_change(item, review.Actor("teacher", "beta"), "другой курс")
    alfa = signed_in(app, "alfa", ALFA)
    assert "другой курс" not in alfa.get("/review/requests").get_data(as_text=True)
    request = db.session.scalars(select(RouteChangeRequest)).one()
    assert alfa.post(f"/review/requests/{request.id}/answer", data={"answer": "нет"}
                     ).status_code == 404


def test_push_suspends_after_reject_or_decline(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    system = review.Actor("cli", "cli:test")
    review.approve_items([item_of(1), item_of(2)], system)
    courses = {n: item_of(n).offer.moodle_course_id for n in (1, 2)}
    assert enqueue_enrolments(settings) == 2
    for row in db.session.scalars(select(OutboxMessage)):
        row.status = SENT  # Moodle took both enrolments
    db.session.commit()
    assert enqueue_enrolments(settings) == 0  # nothing changed: nothing queued
    assert [fresh(item_of(n)).status for n in (1, 2)] == ["enrolled", "enrolled"]
    review.reject_items([item_of(1)], system, "не подходит")
    review.decline(item_of(2), review.Actor("teacher", "anna"), "болею")
    assert enqueue_enrolments(settings) == 2
    assert enqueue_enrolments(settings) == 0  # idempotent
    latest = {(r.user_id, r.course_id): r for r in (
        record_of(row, EnrolmentRecord) for row in db.session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id)))}
    assert latest[(1, courses[1])].suspend and latest[(2, courses[2])].suspend


def test_rejecting_an_item_never_pushed_queues_nothing(app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    system = review.Actor("cli", "cli:test")
    review.approve_items([item_of(1)], system)
    review.reject_items([item_of(1)], system, "передумали")
    assert enqueue_enrolments(settings) == 0


def test_transitions_become_xapi_statements_with_deterministic_ids(
        app: Flask, settings: Settings) -> None:
    from app.common.outbox import StatementRecord
    from app.xapi.sync import enqueue_route_statements

    site = settings.model_copy(update={"moodle_url": "https://moodle.example"})
    recommend(seed(), settings)
    review.reject_items([item_of(1)], review.Actor("account", "alfa", 1), "не то")
    review.decline(item_of(2), review.Actor("teacher", "anna"), "нет времени")
    assert enqueue_route_statements(site) > 0
    rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "xapi")))
    verbs = [record_of(r, StatementRecord).statement["verb"]["id"] for r in rows]
    assert sum(v.endswith("/verbs/rejected") for v in verbs) == 1
    assert sum(v.endswith("/verbs/declined") for v in verbs) == 1
    assert enqueue_route_statements(site) == 0  # the same ids: nothing new
    ids = {record_of(r, StatementRecord).statement_id for r in rows}
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()
    enqueue_route_statements(site)
    again = {record_of(r, StatementRecord).statement_id for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "xapi"))}
    assert again == ids  # rebuilt from the stored events: the very same ids


def test_decisions_are_messaged_once_and_the_teachers_own_are_not(
        app: Flask, settings: Settings) -> None:
    from app.common.outbox import MessageRecord
    from app.push.messages import enqueue_messages

    recommend(seed(), settings)
    review.reject_items([item_of(1)], review.Actor("account", "alfa", 1), "курс закрыт")
    review.decline(item_of(2), review.Actor("teacher", "anna"), "нет времени")
    enqueue_messages()
    messages = [record_of(r, MessageRecord) for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like("message:decision:%")))]
    assert [(m.user_id, "курс закрыт" in m.text) for m in messages] == [(1, True)]
    assert enqueue_messages() == 0


def test_cli_review_verbs(app: Flask, settings: Settings) -> None:
    from support import AppRunner

    recommend(seed(), settings)
    runner = AppRunner(app)
    assert runner.invoke(["review", "approve"]).exit_code != 0  # say which
    done = runner.invoke(["review", "approve", "--school", "A1"])
    assert done.exit_code == 0, done.output
    assert '"approved": 2' in done.output
    item = item_of(3)
    other = other_course(item.offer.key)
    swapped = runner.invoke(["review", "swap", "--item", str(item.id), "--offer", other])
    assert swapped.exit_code == 0, swapped.output
    db.session.expire_all()
    assert item_of(3).offer.key == other and item_of(3).status == "approved"
    kind, who = events(fresh(item))[0][2:4]
    assert kind == "cli" and who.startswith("cli:")
    refused = runner.invoke(["review", "reject", "--item", str(item_of(1).id), "--reason", ""])
    assert refused.exit_code != 0 and fresh(item_of(1)).status == "approved"
    declined = runner.invoke(["review", "decline", "--item", str(item_of(1).id),
                              "--reason", "болеет"])
    assert declined.exit_code == 0, declined.output
    assert fresh(item_of(1)).status == "declined"


def test_completed_items_are_verified_or_replanned_by_the_final_diagnostic(
        app: Flask, settings: Settings) -> None:
    from support import AppRunner

    entry = seed()
    recommend(entry, settings)
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    db.session.add(final)
    db.session.flush()
    pk = db.session.scalars(select(Competency)).one()
    for moodle_id, score, level in ((1, 0.95, "ok"), (2, 0.35, "deficit")):
        teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=moodle_id)).one()
        db.session.add(Deficit(diagnostic_id=final.id, teacher_id=teacher.id,
                               competency_id=pk.id, score=score, level=level, questions=2))
    taken = item_of(2).offer.key
    for moodle_id in (1, 2, 3):
        item = item_of(moodle_id)
        for status in ("approved", "enrolled", "completed"):
            item.move_to(status)
    db.session.commit()
    result = AppRunner(app).invoke(["review", "verify"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [item_of(n).status for n in (1, 2, 3)] == ["verified", "replanned", "completed"]
    assert events(item_of(2))[-1][4] == "дефицит не закрыт: PK-01"
    # the re-planned competency re-enters matching, without the offer already taken
    recommend(entry, settings)
    assert item_of(2).status == "proposed" and item_of(2).offer.key == other_course(taken)


def test_export_holds_and_erase_removes_the_items_history(
        make_app: Callable[..., Flask], database_url: str) -> None:
    import json

    from support import AppRunner

    app = make_app(database_url=database_url, moodle_url="https://moodle.example")
    recommend(seed(), Settings())
    item = item_of(1)
    review.request_change(item, review.Actor("teacher", "anna"), "летом")
    review.decline(item, review.Actor("teacher", "anna"), "нет времени")
    runner = AppRunner(app)
    exported = runner.invoke(["teacher", "export", "1"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    held = data["routes"][0]["items"][0]
    assert [e["reason"] for e in held["events"]] == ["летом", "нет времени"]
    assert held["change_requests"][0]["message"] == "летом"
    erased = runner.invoke(["teacher", "erase", "1", "--yes"])
    assert erased.exit_code == 0, erased.output
    db.session.expire_all()
    assert db.session.scalars(select(RouteItemEvent)).all() == []
    assert db.session.scalars(select(RouteChangeRequest)).all() == []


def test_a_re_run_of_recommend_keeps_what_a_teacher_acted_on(app: Flask,
                                                             settings: Settings) -> None:
    diagnostic = seed()
    recommend(diagnostic, settings)
    asked = item_of(1)
    review.request_change(asked, review.Actor("teacher", "anna"), "можно позже?")
    recommend(diagnostic, settings)
    db.session.expire_all()
    assert item_of(1).id == asked.id and item_of(1).status == "proposed"
    assert db.session.scalars(select(RouteChangeRequest)).one().route_item_id == asked.id
    assert len(db.session.scalars(select(RouteItem).join(Route).join(Teacher).where(
        Teacher.moodle_user_id == 1)).all()) == 1  # and nothing else for the same need
