"""The push against the Moodle sandbox: a failed read-back holds its course, foreign
enrolments stay as they are, the calls reported equal the calls made, messages go in
batches and a lost answer is left to a person, plans cost at most one read per teacher,
and a second push makes no call. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from support import AppRunner, sandbox_post, sandbox_state, signed_in

from app import settings_of
from app.common.moodle import moodle_api
from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import OutboxMessage, RouteItem
from config import DEMO_DIR
from lms_connectors.moodle.api import Enrolment

ENROLLED_USERS = "core_enrol_get_enrolled_users"
SEND = "core_message_send_instant_messages"
GROUPS = "core_group_get_course_groups"
TEACHERS = 40  # a small site keeps these tests fast


@pytest.fixture
def moodle() -> Iterator[tuple[str, str]]:
    """A small sandbox of its own per test."""
    token = secrets.token_hex(16)
    with running_sandbox(token, teachers=TEACHERS) as url:
        yield url, token


def approved_app(make_app: Callable[..., Flask], database_url: str,
                 moodle: tuple[str, str], **settings: Any) -> Flask:
    """The app on the sandbox, synced, scored, recommended and every item approved."""
    url, token = moodle
    app = make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                   catalogue_dir=str(DEMO_DIR), **settings)
    for stage in (["sync"], ["deficits"], ["recommend"], ["approve", "--all"]):
        assert invoke(app, *stage).exit_code == 0
    return app


def invoke(app: Flask, *args: str) -> Result:
    result = AppRunner(app).invoke(args, catch_exceptions=False)
    db.session.expire_all()
    return result


def push(app: Flask, moodle: tuple[str, str], exit_code: int = 0
         ) -> tuple[dict[str, Any], Counter[str]]:
    """Push; return its JSON summary and the calls the sandbox itself counted meanwhile."""
    before = Counter(sandbox_state(*moodle)["calls"])
    result = invoke(app, "push")
    assert result.exit_code == exit_code, result.output
    made = Counter(sandbox_state(*moodle)["calls"]) - before
    return json.loads(result.stdout), made


def by_pair(state: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    return {(e["userid"], e["courseid"]): e for e in state["enrolments"]}


def test_unreadable_course_gets_nothing_and_foreign_enrolments_are_never_rewritten(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> None:
    app = approved_app(make_app, database_url, moodle)
    api = moodle_api(settings_of(app))
    pairs = sorted({(i.route.teacher.moodle_user_id, i.offer.moodle_course_id)
                    for i in db.session.scalars(select(RouteItem))
                    if i.offer.moodle_course_id is not None})
    present = by_pair(sandbox_state(*moodle))
    wanted = [p for p in pairs if p not in present]
    courses = sorted({c for _, c in wanted})
    assert len(courses) >= 2
    # someone else enrolled a teacher ProfRoute wants in the last course: a window, suspended
    foreign = next(p for p in wanted if p[1] == courses[-1])
    api.enrol([Enrolment(user_id=foreign[0], course_id=foreign[1], role_id=5,
                         timestart=1_800_000_000, timeend=1_800_086_400, suspend=True)])
    before = sandbox_state(*moodle)
    # the read-back of the first course fails as Moodle answers a missing capability
    sandbox_post(*moodle, "faults", {"function": ENROLLED_USERS, "mode": "nopermissions",
                                     "times": 1})
    # and so does every read of course groups, which the groups and events are written after
    sandbox_post(*moodle, "faults", {"function": GROUPS, "mode": "nopermissions",
                                     "times": 100})

    summary, made = push(app, moodle, exit_code=1)
    after = sandbox_state(*moodle)
    held = courses[0]
    assert [c["course_id"] for c in summary["held_courses"]] == [held]
    assert "nopermissions" in summary["held_courses"][0]["error"]
    assert {p: e for p, e in by_pair(after).items() if p[1] == held} == {
        p: e for p, e in by_pair(before).items() if p[1] == held}
    waiting = [r for r in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol")) if r.payload["course_id"] == held]
    assert waiting and all(r.status == "pending" and "nopermissions" in r.last_error
                           for r in waiting)
    assert summary["enrolments_held"] == len(waiting)
    assert by_pair(after)[foreign] == by_pair(before)[foreign]  # window and suspension kept
    assert {"user_id": foreign[0], "course_id": foreign[1]} in summary["foreign_enrolments"]
    assert summary["calls_by_function"] == dict(made)  # what the push says it did, it did
    assert summary["calls"] == sum(made.values())
    assert made[GROUPS] > 0 and made["core_group_create_groups"] == 0
    assert made["core_calendar_create_calendar_events"] == 0
    network = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind.in_(("group", "event")))).all()
    assert network and all(r.status == "pending" and "nopermissions" in r.last_error
                           for r in network)

    page = signed_in(app).get("/push").get_data(as_text=True)
    assert f"курс {held}" in page and "nopermissions" in page

    sandbox_post(*moodle, "faults", {"function": GROUPS, "mode": "nopermissions", "times": 0})
    again, made = push(app, moodle)
    assert again["held_courses"] == [] and again["enrolments_sent"] == len(waiting)
    final = by_pair(sandbox_state(*moodle))
    assert all((r.payload["user_id"], held) in final for r in waiting)
    assert final[foreign] == by_pair(before)[foreign]
    assert again["calls_by_function"] == dict(made)
    assert made["core_group_create_groups"] > 0
    assert made["core_calendar_create_calendar_events"] > 0

    third, made = push(app, moodle)
    assert third["calls"] == 0 and not made  # nothing changed: not a single call


def test_messages_go_in_batches_and_a_lost_answer_is_left_to_a_person(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str],
        commits: list[int]) -> None:
    app = approved_app(make_app, database_url, moodle, message_batch_size=5)
    routes = {i.route_id for i in db.session.scalars(select(RouteItem))}
    assert len(routes) > 10
    sandbox_post(*moodle, "faults", {"function": SEND, "mode": "http500", "times": 1})

    first, made = push(app, moodle, exit_code=1)
    assert made[SEND] == 1 and first["messages_uncertain"] == 5
    assert len(first["uncertain"]) == 5 and sandbox_state(*moodle)["messages"] == []
    uncertain = db.session.scalars(select(OutboxMessage).filter_by(
        kind="message", status="uncertain")).all()
    assert len(uncertain) == 5

    commits.clear()
    second, made = push(app, moodle)
    rest = len(routes) - 5
    assert second["messages_sent"] == rest and made[SEND] == -(-rest // 5)
    assert len(sandbox_state(*moodle)["messages"]) == rest  # the uncertain five not re-sent
    assert len(second["uncertain"]) == 5
    # per batch, not two per message (+3: the push group's lock taken and given back)
    assert len(commits) <= 2 * made[SEND] + 8 + 3

    client = signed_in(app)
    page = client.get("/push").get_data(as_text=True)
    assert uncertain[0].dedupe_key in page and "Отправить снова" in page
    resend, delivered = uncertain[0], uncertain[1]
    assert client.post(f"/push/messages/{resend.id}",
                       data={"action": "resend"}).status_code == 302
    assert client.post(f"/push/messages/{delivered.id}",
                       data={"action": "delivered"}).status_code == 302
    assert client.post(f"/push/messages/{delivered.id}",
                       data={"action": "resend"}).status_code == 400  # already resolved
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/push/messages/{uncertain[2].id}",
                       data={"action": "resend"}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(OutboxMessage, uncertain[2].id).status == "uncertain"
    assert db.session.get(OutboxMessage, delivered.id).status == "sent"

    third, made = push(app, moodle)
    assert third["messages_sent"] == 1 and made[SEND] == 1
    sent = sandbox_state(*moodle)["messages"]
    assert len(sent) == rest + 1
    assert sent[-1]["clientmsgid"] == resend.payload["client_msg_id"]


def test_plans_cost_at_most_one_read_per_changed_teacher(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> None:
    app = approved_app(make_app, database_url, moodle)
    push(app, moodle)
    item = next(i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
                if i.competencies and len(i.route.items) > 1 and i.offer.moodle_course_id)
    teacher = item.route.teacher.moodle_user_id
    assert invoke(app, "cancel", "--teacher", str(teacher), "--offer",
                  item.offer.key).exit_code == 0
    summary, made = push(app, moodle)
    assert summary["network_changes"] >= 1  # the plan lost a competency
    assert made["core_competency_list_plan_competencies"] == 1  # the one read
    assert made["core_competency_list_user_plans"] == 0
    assert summary["calls_by_function"] == dict(made)


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """A list that grows by one at every commit of any session while the test runs."""
    seen: list[int] = []

    def record(_session: object) -> None:
        seen.append(1)

    event.listen(Session, "after_commit", record)
    yield seen
    event.remove(Session, "after_commit", record)
