"""The whole pipeline over real HTTP against the Moodle sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support import AppRunner, sandbox_post, sandbox_state

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Deficit, OutboxMessage, RouteItem, Teacher
from config import DEMO_DIR


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> Flask:
    """The app on the sandbox with the demo catalogue and thresholds file."""
    url, token = moodle
    return make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                    catalogue_dir=str(DEMO_DIR), thresholds_file=str(DEMO_DIR / "thresholds.toml"))


def run_through_push(app: Flask) -> None:
    """sync → deficits → recommend → approve all → push."""
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    run(app, "approve", "--all")
    run(app, "push")


def run(app: Flask, *args: str) -> str:
    result = AppRunner(app).invoke(args, catch_exceptions=False)
    db.session.expire_all()  # the command ran in its own app context and session
    assert result.exit_code == 0, result.output
    return result.output


def test_pipeline_from_quiz_to_enrolments_is_idempotent(app: Flask,
                                                        moodle: tuple[str, str]) -> None:
    url, token = moodle
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    teachers = db.session.scalar(select(func.count(Teacher.id)).where(Teacher.active))
    assert teachers >= 150
    deficits = db.session.scalar(select(func.count(Deficit.id)).where(Deficit.level == "deficit"))
    assert deficits > 0
    proposed = db.session.scalars(select(RouteItem)).all()
    assert proposed and all(item.status == "proposed" and item.reasons for item in proposed)

    run(app, "approve", "--all")
    before = {(e["userid"], e["courseid"]): e for e in sandbox_state(url, token)["enrolments"]}
    summary = json.loads(run(app, "push"))
    state = sandbox_state(url, token)
    after = {(e["userid"], e["courseid"]): e for e in state["enrolments"]}
    untouched = [pair for pair in before if after[pair] != before[pair]]
    assert untouched == []  # enrolments Moodle already had are read back and left alone
    assert summary["already_enrolled"] > 0 and summary["enrolments_sent"] > 0
    course_items = [i for i in db.session.scalars(select(RouteItem))
                    if i.offer.moodle_course_id is not None]
    pushed = {(i.route.teacher.moodle_user_id, i.offer.moodle_course_id) for i in course_items}
    in_moodle = {(e["userid"], e["courseid"]) for e in state["enrolments"]}
    assert pushed <= in_moodle
    assert all(i.status == "enrolled" for i in course_items)
    routes_with_items = {i.route_id for i in db.session.scalars(select(RouteItem))}
    assert len(state["messages"]) == len(routes_with_items)

    enrol_calls = state["calls"].get("enrol_manual_enrol_users", 0)
    run(app, "push")
    again = sandbox_state(url, token)
    assert again["calls"].get("enrol_manual_enrol_users", 0) == enrol_calls
    assert len(again["messages"]) == len(state["messages"])
    assert len(again["enrolments"]) == len(state["enrolments"])


def test_rejected_batch_is_split_until_the_bad_row_is_isolated(
        app: Flask, runner: AppRunner, moodle: tuple[str, str]) -> None:
    url, token = moodle
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    run(app, "approve", "--all")
    ghost = db.session.scalars(select(Teacher).where(Teacher.active)).first()
    assert ghost is not None
    ghost.moodle_user_id = 987654  # as if the user was deleted in Moodle
    db.session.commit()

    result = runner.invoke(["push"])
    db.session.expire_all()
    assert result.exit_code == 1  # some rows failed

    failed = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol", OutboxMessage.status == "failed")).all()
    assert failed and {f.payload["user_id"] for f in failed} == {987654}
    assert all("TypeError" in f.last_error or "crash" in f.last_error.lower() for f in failed)
    state = sandbox_state(url, token)
    sent = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol", OutboxMessage.status == "sent")).all()
    assert {(e["userid"], e["courseid"]) for e in state["enrolments"]} >= {
        (s.payload["user_id"], s.payload["course_id"]) for s in sent}
    assert len(sent) > 0
    assert 987654 not in {e["userid"] for e in state["enrolments"]}
    ghost_items = [i for i in db.session.scalars(select(RouteItem))
                   if i.route.teacher_id == ghost.id and i.offer.moodle_course_id]
    assert len(failed) == len(ghost_items) and all(i.status == "approved" for i in ghost_items)


def test_new_attempt_in_moodle_is_picked_up_by_a_resync(app: Flask,
                                                        moodle: tuple[str, str]) -> None:
    url, token = moodle
    run(app, "sync")
    run(app, "deficits")
    teacher = db.session.scalars(select(Teacher).where(Teacher.active)
                                 .order_by(Teacher.moodle_user_id)).first()
    assert teacher is not None
    sandbox_post(url, token, "attempts", {"userid": teacher.moodle_user_id, "fraction": 1.0})
    run(app, "sync")
    run(app, "deficits")
    levels = set(db.session.scalars(select(Deficit.level).where(
        Deficit.teacher_id == teacher.id)))
    assert levels == {"ok"}  # highest grade: the perfect attempt wins


def test_pages_show_the_deficit_map_and_a_route(app: Flask, client: FlaskClient) -> None:
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    page = client.get("/").get_data(as_text=True)
    assert "Карта профессиональных дефицитов" in page
    assert "PK-01" in page and "МБОУ" in page and "Муниципалитет" in page
    assert "Без образовательной организации" in page  # teachers with no school are shown

    item = db.session.scalars(select(RouteItem)).first()
    assert item is not None
    moodle_id = item.route.teacher.moodle_user_id
    teacher_page = client.get(f"/teachers/{moodle_id}").get_data(as_text=True)
    assert item.offer.title in teacher_page and item.reasons[0] in teacher_page
    assert "предложено" in teacher_page

    found = client.get("/teachers", query_string={"q": item.route.teacher.lastname})
    assert f"/teachers/{moodle_id}" in found.get_data(as_text=True)

    api_map = client.get("/api/deficit-map").get_json()
    assert api_map["thresholds"]["deficit_below"] == 0.5
    assert all(0 <= v <= 1 for s in api_map["schools"] for v in s["shares"].values()
               if v is not None)
    route = client.get(f"/api/teachers/{moodle_id}/route").get_json()
    assert route["items"] and route["items"][0]["reasons"]
    missing = client.get("/api/teachers/999999/route")
    assert missing.status_code == 404 and missing.get_json()["code"] == 404
    assert client.get("/teachers/999999").status_code == 404


def test_cancelled_item_suspends_the_enrolment_and_reapproval_reactivates(
        app: Flask, moodle: tuple[str, str]) -> None:
    url, token = moodle
    run_through_push(app)
    item = next(i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
                if i.offer.moodle_course_id and i.status == "enrolled")
    user, course = item.route.teacher.moodle_user_id, item.offer.moodle_course_id

    def enrolment() -> dict:
        return next(e for e in sandbox_state(url, token)["enrolments"]
                    if (e["userid"], e["courseid"]) == (user, course))

    assert enrolment()["suspend"] == 0
    run(app, "cancel", "--teacher", str(user), "--offer", item.offer.key)
    run(app, "push")
    assert enrolment()["suspend"] == 1
    calls = sandbox_state(url, token)["calls"]["enrol_manual_enrol_users"]
    run(app, "push")  # nothing changed: nothing sent
    assert sandbox_state(url, token)["calls"]["enrol_manual_enrol_users"] == calls

    db.session.get(RouteItem, item.id).move_to("proposed")
    db.session.commit()
    run(app, "approve", "--teacher", str(user))
    run(app, "push")
    assert enrolment()["suspend"] == 0
    assert db.session.get(RouteItem, item.id).status == "enrolled"


def test_push_builds_network_cohorts_intern_groups_events_and_plans_once(
        app: Flask, moodle: tuple[str, str]) -> None:
    from app import settings_of
    from app.common.moodle import moodle_api
    from app.models import Offer, Partnership, School

    url, token = moodle
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    run(app, "approve", "--all")
    first = json.loads(run(app, "push"))
    assert first["network_changes"] > 0 and first["errors"] == []
    api = moodle_api(settings_of(app))

    centre = db.session.get(School, db.session.scalars(
        select(Partnership.resource_centre_id)).first())
    cohort = api.cohort_by_idnumber(f"profroute-net-{centre.code}")
    assert cohort is not None
    network_ids = {centre.id} | set(db.session.scalars(select(Partnership.school_id).where(
        Partnership.resource_centre_id == centre.id)))
    expected = set(db.session.scalars(select(Teacher.moodle_user_id).where(
        Teacher.school_id.in_(network_ids), Teacher.active)))
    assert api.cohort_members([cohort.cohort_id])[cohort.cohort_id] == expected

    internship = next(i for i in db.session.scalars(select(RouteItem))
                      if i.offer.kind == "internship" and i.status == "enrolled")
    offer: Offer = internship.offer
    groups = [g for g in api.course_groups(offer.moodle_course_id)
              if g.idnumber == f"profroute-rc-{offer.host_school.code}"]
    assert len(groups) == 1
    members = api.group_members([groups[0].group_id])[groups[0].group_id]
    assert internship.route.teacher.moodle_user_id in members
    events = [e for e in api.calendar_events(course_ids=[offer.moodle_course_id],
                                             group_ids=[groups[0].group_id])
              if e.name == f"Стажировка: {offer.title}"]
    assert len(events) == 1 and events[0].timeduration > 0

    route_user = internship.route.teacher.moodle_user_id
    plans = [p for p in api.user_plans(route_user) if p.name.startswith("ИОМ ProfRoute")]
    assert len(plans) == 1 and plans[0].status == 1
    assert api.plan_competencies(plans[0].plan_id)

    creates = {k: v for k, v in sandbox_state(url, token)["calls"].items()
               if "create" in k or "add_" in k}
    again = json.loads(run(app, "push"))
    assert again["network_changes"] == 0
    assert {k: v for k, v in sandbox_state(url, token)["calls"].items()
            if "create" in k or "add_" in k} == creates


@pytest.mark.parametrize("plugin", [True, False])
def test_completed_course_moves_the_route_item_to_completed(
        make_app: Callable[..., Flask], database_url: str, plugin: bool) -> None:
    token = secrets.token_hex(16)
    with running_sandbox(token, plugin=plugin) as url:
        app = make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                       catalogue_dir=str(DEMO_DIR))
        run_through_push(app)
        item = next(i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
                    if i.status == "enrolled" and i.offer.kind == "course")
        user, course = item.route.teacher.moodle_user_id, item.offer.moodle_course_id
        sandbox_post(url, token, "completions", {"userid": user, "courseid": course})
        summary = json.loads(run(app, "sync"))
        assert summary["items_completed"] == 1, summary
        assert db.session.get(RouteItem, item.id).status == "completed"
        assert summary["mode"] == "incremental"


def test_a_deficit_closed_by_the_final_test_is_rated_once_in_moodle(
        app: Flask, moodle: tuple[str, str]) -> None:
    from app.models import Competency, CompetencyRating, Diagnostic

    url, token = moodle
    for stage in ("sync", "deficits"):
        run(app, stage)
    entry = db.session.scalars(select(Diagnostic)).one()
    final = Diagnostic(moodle_quiz_id=999, moodle_course_id=entry.moodle_course_id,
                       name="Итоговая диагностика", kind="final")
    db.session.add(final)
    db.session.flush()
    closed = db.session.scalars(select(Deficit).where(
        Deficit.diagnostic_id == entry.id, Deficit.level == "deficit")).all()[:3]
    for row in db.session.scalars(select(Deficit).where(Deficit.diagnostic_id == entry.id)):
        better = row in closed
        db.session.add(Deficit(diagnostic_id=final.id, teacher_id=row.teacher_id,
                               competency_id=row.competency_id, questions=row.questions,
                               score=1.0 if better else row.score,
                               level="ok" if better else row.level))
    db.session.commit()

    first = json.loads(run(app, "push"))
    assert first["ratings_sent"] == 3
    for deficit in closed:  # Moodle's rating as the push left it, beside the final level
        now = db.session.scalars(select(Deficit).filter_by(
            diagnostic_id=final.id, teacher_id=deficit.teacher_id,
            competency_id=deficit.competency_id)).one()
        assert (now.moodle_proficient, now.agreement) == (True, "agrees")
        rating = db.session.scalars(select(CompetencyRating).filter_by(
            teacher_id=deficit.teacher_id, competency_id=deficit.competency_id)).one()
        assert (rating.proficient, rating.grade) == (True, 2)
    assert sandbox_state(url, token)["calls"]["core_competency_grade_competency"] == 3
    again = json.loads(run(app, "push"))
    assert again["ratings_sent"] == 0
    assert sandbox_state(url, token)["calls"]["core_competency_grade_competency"] == 3
    rated = {db.session.get(Competency, d.competency_id).idnumber for d in closed}
    assert rated <= {c.idnumber for c in db.session.scalars(select(Competency))}


def test_cancel_can_unenrol_instead_of_suspending(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> None:
    url, token = moodle
    app = make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                   catalogue_dir=str(DEMO_DIR), cancel_action="unenrol")
    run_through_push(app)
    item = next(i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
                if i.offer.moodle_course_id and i.status == "enrolled"
                and not _preexisting(i))
    pair = (item.route.teacher.moodle_user_id, item.offer.moodle_course_id)
    run(app, "cancel", "--teacher", str(pair[0]), "--offer", item.offer.key)
    summary = json.loads(run(app, "push"))
    assert summary["enrolments_sent"] == 1
    assert pair not in {(e["userid"], e["courseid"])
                        for e in sandbox_state(url, token)["enrolments"]}


def _preexisting(item: RouteItem) -> bool:
    key = f"enrol:{item.route.teacher.moodle_user_id}:{item.offer.moodle_course_id}:1"
    row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key=key)).first()
    return bool(row and row.payload.get("preexisting"))


def test_views_by_school_type_ranking_risk_group_and_over_time(
        app: Flask, client: FlaskClient) -> None:
    for stage in ("sync", "deficits"):
        run(app, stage)
    types = client.get("/api/deficit-map/by-type").get_json()["rows"]
    assert {r["school_type"] for r in types} == {"low_results", "adverse_context",
                                                 "resource_centre", "other"}
    low = [r["deficit_share"] for r in types if r["school_type"] == "low_results"]
    centre = [r["deficit_share"] for r in types if r["school_type"] == "resource_centre"]
    assert sum(low) > sum(centre)  # the seed makes low-results schools weaker
    ranked = client.get("/api/deficit-map/ranking").get_json()["rows"]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    needs = [r["need_score"] for r in ranked if r["need_score"] is not None]
    assert needs == sorted(needs, reverse=True)
    risky = client.get("/api/deficit-map/risk-group").get_json()["rows"]
    assert risky and all(r["in_risk_group"] and r["reason"] for r in risky)
    over = client.get("/api/deficit-map/over-time").get_json()["rows"]
    assert {r["period"] for r in over} == {"entry: Входная диагностика профессиональных "
                                           "компетенций"}
    assert client.get("/api/deficit-map/nonsense").status_code == 404
    report = json.loads(run(app, "report"))
    assert report["ranking"] and report["by_school_type"] and "risk_group" in report
