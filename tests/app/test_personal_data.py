"""Personal-data duties: export all held about one teacher (and nothing of another), erase a
teacher (aggregates stop counting them; refused while a push is sending for them), and the
retention that erases only teachers absent longer than the setting."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support import AppRunner, signed_in

from app.common.audit import event_dict
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    AuditEvent,
    Competency,
    CompetencyRating,
    CourseCompletion,
    Deficit,
    Diagnostic,
    LtiAccount,
    LtiPlatform,
    Municipality,
    Offer,
    OutboxMessage,
    Route,
    RouteItem,
    RouteUnmetNeed,
    RunLog,
    School,
    Teacher,
    TeacherUnavailable,
    WebUser,
    XapiStatement,
    XapiStatementLink,
)
from app.push.outbox import SENDING
from app.reports.analytics import risk
from app.reports.maps import deficit_map
from app.settings import Settings
from app.sync.store import deactivate_missing, upsert_teacher
from app.sync.structure import SyncSummary
from deficits import records as rec

SITE = "https://moodle.example.ru"
OTHER_SITE = "https://other.example.ru"
NOW = dt.datetime.now(dt.UTC)
PEOPLE = {11: ("Петрова", "petrova@school.example.ru"), 12: ("Сидоров", "sidorov@school.example.ru")}


def statement(mid: int, site: str = SITE) -> XapiStatement:
    sid = str(uuid.uuid4())
    body = {"id": sid, "actor": {"account": {"homePage": site, "name": str(mid)}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": f"{site}/course/view.php?id=501"}}
    return XapiStatement(id=sid, stored=NOW, timestamp=NOW, verb_id=body["verb"]["id"],
                         actor_home_page=site, actor_account_name=str(mid), digest="d" * 64,
                         statement=body)


def seed() -> Diagnostic:
    """Teachers 11 and 12 of one school, each with an attempt, a deficit in PK-01 (the subject
    group: the risk group), a Moodle rating, a completion, a route item, outbox rows and an
    xAPI statement; 11 also has a statement on another site, an LTI login and a run-log line."""
    school = School(code="S1", name="СОШ № 1", municipality=Municipality(name="Альфа"))
    pk = Competency(idnumber="PK-01", group="subject")
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry")
    offer = Offer(key="kpk", kind="course", title="КПК", moodle_course_id=501)
    db.session.add_all([school, pk, diagnostic, offer])
    db.session.flush()
    for mid, (lastname, email) in PEOPLE.items():
        teacher = Teacher(moodle_user_id=mid, username=f"u{mid}", lastname=lastname,
                          firstname="Анна", email=email, school=school)
        db.session.add(teacher)
        db.session.flush()
        db.session.add_all([
            Attempt(moodle_attempt_id=900 + mid, diagnostic_id=diagnostic.id,
                    teacher_id=teacher.id, attempt_no=1, state="finished", time_finish=1,
                    sumgrades=1.0, results=[AttemptResult(source="grade_item", key="PK-01",
                                                          mark=0.4 + mid / 100, max_mark=2)]),
            Deficit(diagnostic_id=diagnostic.id, teacher_id=teacher.id, competency_id=pk.id,
                    score=0.2, level="deficit", moodle_attempt_id=900 + mid),
            CompetencyRating(teacher_id=teacher.id, competency_id=pk.id, proficient=False),
            CourseCompletion(teacher_id=teacher.id, moodle_course_id=700 + mid,
                             completed=True),
            TeacherUnavailable(teacher_id=teacher.id, starts_on=dt.date(2027, 3, mid),
                               ends_on=dt.date(2027, 3, 20), reason=f"отпуск {lastname}"),
            Route(teacher_id=teacher.id, diagnostic_id=diagnostic.id,
                  items=[RouteItem(offer_id=offer.id, status="approved")]),
            RouteUnmetNeed(diagnostic_id=diagnostic.id, teacher_id=teacher.id,
                           competency="PK-02", reason="no_seats", text=f"PK-02 {lastname}",
                           explanation={"v": 1, "level": "deficit", "score": 0.2,
                                        "threshold": 0.5, "stage": "entry"}),
            OutboxMessage(kind="enrol", dedupe_key=f"enrol:{mid}", status="sent",
                          payload={"user_id": mid, "course_id": 501}),
            OutboxMessage(kind="message", dedupe_key=f"message:{mid}", status="pending",
                          payload={"user_id": mid, "text": f"Маршрут {lastname}"}),
            statement(mid)])
        pending = statement(mid)
        db.session.add(OutboxMessage(kind="xapi", dedupe_key=f"xapi:{mid}",
                                     payload={"statement": pending.statement}))
    db.session.add(statement(11, OTHER_SITE))  # another site's user 11: another person
    db.session.flush()
    first = db.session.scalars(select(XapiStatement).filter_by(
        actor_account_name="11", actor_home_page=SITE)).first()
    db.session.add(XapiStatementLink(statement_id=first.id, kind="related_activity",
                                     key=f"{SITE}/course/view.php?id=501"))
    about = statement(50)  # a methodologist's statement whose object is teacher 11
    about.statement["object"] = {"objectType": "Agent",
                                 "account": {"homePage": SITE, "name": "11"}}
    db.session.add(about)
    db.session.flush()
    db.session.add(XapiStatementLink(statement_id=about.id, kind="agent",
                                     key=f"account:{SITE} 11"))
    platform = LtiPlatform(issuer=SITE, client_id="c", auth_login_url=SITE,
                           auth_token_url=SITE, key_set_url=SITE)
    login = WebUser(login="moodle1-11", name="Петрова Анна", password_hash="!lti")
    db.session.add_all([platform, login])
    db.session.flush()
    db.session.add_all([
        LtiAccount(platform_id=platform.id, subject="11", web_user_id=login.id,
                   teacher_id=teacher_id(11), role="teacher"),
        RunLog(stage="sync", status="ok", summary={"without_school": ["u11 (id 11)",
                                                                      "u99 (id 99)"]}),
        AuditEvent(actor="cli:a", action="route.cancel", object_kind="teacher",
                   object_id="11", details={"teachers": [11]}),
        AuditEvent(actor="cli:a", action="route.cancel", object_kind="teacher",
                   object_id="12", details={"teachers": [12]})])
    db.session.commit()
    return diagnostic


def teacher_id(mid: int) -> int | None:
    return db.session.scalar(select(Teacher.id).filter_by(moodle_user_id=mid))


def held_rows(mid: int, tid: int | None = None) -> dict[str, int]:
    """How many rows of each kind name the teacher (of row id ``tid`` once erased)."""
    db.session.expire_all()
    tid = tid or teacher_id(mid)
    out = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)
                                                  .where(model.teacher_id == tid)) or 0
           for model in (Attempt, Deficit, CompetencyRating, CourseCompletion, Route,
                         TeacherUnavailable, RouteUnmetNeed)}
    out["outbox"] = sum(1 for r in db.session.scalars(select(OutboxMessage))
                        if r.payload.get("user_id") == mid or r.payload.get(
                            "statement", {}).get("actor", {}).get("account", {}).get(
                            "name") == str(mid))
    out["xapi"] = db.session.scalar(select(func.count()).select_from(XapiStatement).where(
        XapiStatement.actor_account_name == str(mid), XapiStatement.actor_home_page == SITE))
    return out


@pytest.fixture
def site_app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    return make_app(database_url=database_url, moodle_url=SITE + "/")


def run(app: Flask, *args: str, code: int = 0) -> Any:
    result = AppRunner(app).invoke(list(args))
    assert result.exit_code == code, result.output
    db.session.expire_all()
    return json.loads(result.stdout) if code == 0 and result.stdout.strip() else result


def test_the_export_holds_everything_about_the_teacher_and_nothing_of_another(
        site_app: Flask) -> None:
    seed()
    data = run(site_app, "teacher", "export", "u11")
    assert data["teacher"]["email"] == "petrova@school.example.ru"
    assert data["school"] == {"code": "S1", "name": "СОШ № 1", "municipality": "Альфа"}
    assert [a["moodle_attempt_id"] for a in data["attempts"]] == [911]
    assert data["attempts"][0]["marks"][0]["mark"] == pytest.approx(0.51)
    assert [(x["competency"], x["level"]) for x in data["levels"]] == [("PK-01", "deficit")]
    assert data["risk_group"]["member"] is True
    assert [i["offer"]["key"] for r in data["routes"] for i in r["items"]] == ["kpk"]
    assert [(u["competency"], u["text"], u["explanation"]["score"])
            for u in data["unmet_needs"]] == [("PK-02", "PK-02 Петрова", 0.2)]
    assert sorted(r["kind"] for r in data["outbox"]) == ["enrol", "message", "xapi"]
    assert [s["actor"]["account"]["name"] for s in data["xapi_statements"]] == [
        "11", "50"]  # not the other site's user 11; 50's statement is about 11
    assert [(a["login"], a["role"]) for a in data["lti_accounts"]] == [("moodle1-11", "teacher")]
    assert [(e["action"], e["object"]["id"]) for e in data["audit_events"]] == [
        ("route.cancel", "11")]
    assert [c["moodle_course_id"] for c in data["course_completions"]] == [711]
    assert [u["starts_on"] for u in data["unavailable_dates"]] == ["2027-03-11"]
    dumped = json.dumps(data, ensure_ascii=False)
    for other in ("Сидоров", "sidorov@", '"u12"', "Маршрут Сидоров"):  # 912, 712: above
        assert other not in dumped, other
    exported = db.session.scalars(select(AuditEvent).filter_by(action="teacher.export")).one()
    assert (exported.object_id, exported.actor[:4]) == ("11", "cli:")
    assert "petrova" not in json.dumps(event_dict(exported), ensure_ascii=False)


def test_an_admin_downloads_the_export_from_the_teacher_page(
        site_app: Flask, client: FlaskClient) -> None:
    seed()
    assert client.get("/teachers/11/personal-data.json").status_code == 302  # not signed in
    admin = signed_in(site_app)
    page = admin.get("/teachers/11").get_data(as_text=True)
    assert "/teachers/11/personal-data.json" in page
    answer = admin.get("/teachers/11/personal-data.json")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    assert answer.get_json()["teacher"]["lastname"] == "Петрова"
    assert admin.get("/teachers/404/personal-data.json").status_code == 404
    event = db.session.scalars(select(AuditEvent).filter_by(action="teacher.export")).one()
    assert (event.actor, event.address) == ("ivanova", "127.0.0.1")


def test_erase_removes_the_teacher_and_the_aggregates_stop_counting_them(
        site_app: Flask) -> None:
    diagnostic = seed()
    assert deficit_map(diagnostic).schools[0]["teachers"] == 2
    assert len(risk(diagnostic, Settings())) == 2
    before, erased_id = held_rows(12), teacher_id(11)
    assert all(held_rows(11).values())
    erased = run(site_app, "teacher", "erase", "11", "--yes")
    assert erased["removed"]["levels"] == 1 and erased["removed"]["outbox"] == 3
    assert teacher_id(11) is None
    assert held_rows(12) == before  # the other teacher keeps everything
    assert all(n == 0 for n in held_rows(11, erased_id).values())
    assert db.session.scalar(select(func.count()).select_from(XapiStatement).where(
        XapiStatement.actor_home_page == OTHER_SITE)) == 1  # another site's person stays
    assert db.session.scalar(select(func.count()).select_from(XapiStatementLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(XapiStatement).where(
        XapiStatement.actor_account_name == "50")) == 0  # the statement about them too
    db.session.expire_all()
    assert deficit_map(diagnostic).schools[0]["teachers"] == 1
    assert [r["user_id"] for r in risk(diagnostic, Settings())] == [teacher_id(12)]
    login = db.session.scalars(select(WebUser).filter_by(login="moodle1-11")).one()
    assert (login.active, login.name) == (False, "(удалено)")
    assert db.session.scalars(select(LtiAccount)).one().teacher_id is None
    assert db.session.scalars(select(RunLog).filter_by(stage="sync")).one().summary == {
        "without_school": ["(удалено)", "u99 (id 99)"]}
    event = db.session.scalars(select(AuditEvent).filter_by(action="teacher.erase")).one()
    assert event.object_id == "11" and event.details["removed"]["attempts"] == 1
    text = json.dumps(event_dict(event), ensure_ascii=False)
    assert "Петрова" not in text and "petrova" not in text and "u11" not in text


def test_erase_is_refused_while_a_push_is_sending_for_the_teacher(site_app: Flask) -> None:
    seed()
    row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key="enrol:11")).one()
    row.status = SENDING
    db.session.commit()
    before = held_rows(11)
    refused = run(site_app, "teacher", "erase", "11", "--yes", code=2)
    assert "sending" in refused.output and f"ids {row.id}" in refused.output
    assert teacher_id(11) is not None and held_rows(11) == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "teacher.erase")) == 0


def test_erase_asks_for_confirmation_without_yes(site_app: Flask) -> None:
    seed()
    result = AppRunner(site_app).invoke(["teacher", "erase", "11"], input="n\n")
    assert result.exit_code == 1 and teacher_id(11) is not None


def absent_teachers() -> None:
    """21 active; 22 absent 400 days; 23 absent 10 days; 24 inactive, absence unknown."""
    for mid, active, days in ((21, True, None), (22, False, 400), (23, False, 10),
                              (24, False, None)):
        db.session.add(Teacher(moodle_user_id=mid, username=f"u{mid}", active=active,
                               inactive_since=NOW - dt.timedelta(days=days) if days else None))
    diagnostic, pk = Diagnostic(moodle_quiz_id=1, moodle_course_id=9), Competency(idnumber="PK")
    db.session.add_all([diagnostic, pk])
    db.session.flush()
    for mid in (22, 23):
        db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=teacher_id(mid),
                               competency_id=pk.id, level="deficit"))
    db.session.commit()


def remaining() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(select(Teacher.moodle_user_id).order_by(
        Teacher.moodle_user_id)))


def test_retention_dry_run_lists_and_the_real_run_erases_only_the_stale(
        make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url=database_url, retention_days=365)
    absent_teachers()
    listed = run(app, "retention", "--dry-run")
    assert (listed["stale"], listed["erased"]) == ([22], [])
    assert remaining() == [21, 22, 23, 24]
    done = run(app, "retention")
    assert (done["stale"], done["erased"]) == ([22], [22])
    assert remaining() == [21, 23, 24]
    assert db.session.scalars(select(Deficit.teacher_id)).all() == [teacher_id(23)]
    erased = db.session.scalars(select(AuditEvent).filter_by(action="teacher.erase")).one()
    assert (erased.object_id, erased.details["reason"]) == ("22", "retention 365 days")
    assert db.session.scalars(select(AuditEvent).filter_by(action="retention.run")
                              ).one().details["erased"] == 1


def test_retention_off_by_default_erases_nobody(runner: AppRunner) -> None:
    absent_teachers()
    result = runner.invoke(["retention"])
    assert result.exit_code == 0 and "off" in result.stderr
    assert json.loads(result.stdout)["stale"] == [] and remaining() == [21, 22, 23, 24]


def test_a_sync_dates_absence_and_clears_it_when_the_teacher_is_back(app: Flask) -> None:
    db.session.add_all([Teacher(moodle_user_id=31), Teacher(moodle_user_id=32)])
    db.session.commit()
    assert deactivate_missing({31}) == 1
    db.session.commit()
    db.session.expire_all()
    gone = db.session.scalars(select(Teacher).filter_by(moodle_user_id=32)).one()
    assert gone.active is False and gone.inactive_since is not None
    upsert_teacher(rec.Teacher(moodle_user_id=32, username="u32", lastname="", firstname=""),
                   scored=True, summary=SyncSummary(mode="full"))
    db.session.commit()
    db.session.expire_all()
    back = db.session.scalars(select(Teacher).filter_by(moodle_user_id=32)).one()
    assert back.active is True and back.inactive_since is None


def test_an_admin_erases_from_the_teacher_page_after_repeating_the_id(site_app: Flask) -> None:
    seed()
    admin = signed_in(site_app)
    assert 'action="/teachers/11/erase"' in admin.get("/teachers/11").get_data(as_text=True)
    wrong = admin.post("/teachers/11/erase", data={"confirm": "12"})
    assert wrong.status_code == 400 and teacher_id(11) is not None
    row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key="message:11")).one()
    row.status = SENDING
    db.session.commit()
    busy = admin.post("/teachers/11/erase", data={"confirm": "11"})
    assert busy.status_code == 409 and "sending" in busy.get_data(as_text=True)
    assert teacher_id(11) is not None
    row.status = "pending"
    db.session.commit()
    done = admin.post("/teachers/11/erase", data={"confirm": "11"})
    assert done.status_code == 302 and teacher_id(11) is None and teacher_id(12) is not None
    event = db.session.scalars(select(AuditEvent).filter_by(action="teacher.erase")).one()
    assert (event.actor, event.object_id) == ("ivanova", "11")
    assert admin.post("/teachers/11/erase", data={"confirm": "11"}).status_code == 404


def test_erase_from_the_page_needs_sign_in(site_app: Flask, client: FlaskClient) -> None:
    seed()
    answer = client.post("/teachers/11/erase", data={"confirm": "11"})
    assert answer.status_code in (302, 400) and teacher_id(11) is not None
