"""The push never trusts a participants list Moodle shortened without an error: a course in
separate groups mode, read by a role without moodle/site:accessallgroups, is held (nothing
sent there, its rows pending with the error naming the capability, foreign enrolments
untouched) and goes out once the role is fixed. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sandbox.sandbox_support import TOKEN, serving
from sqlalchemy import select
from support import AppRunner, sandbox_state, signed_in

from app import settings_of
from app.common.moodle import moodle_api
from app.extensions import db
from app.models import OutboxMessage, RouteItem
from config import DEMO_DIR
from lms_connectors.moodle.api import Enrolment
from lms_connectors.moodle.sandbox import PLUGIN_ROLE, create_app
from lms_connectors.moodle.sandbox.store import SEPARATEGROUPS

ALL_GROUPS = "moodle/site:accessallgroups"


@pytest.fixture
def sandbox() -> Iterator[tuple[Flask, str]]:
    """A sandbox whose token's role is the plugin's less accessallgroups."""
    app = create_app(TOKEN, capabilities=PLUGIN_ROLE - {ALL_GROUPS}, teachers=40)
    with serving(app) as url:
        yield app, url


def invoke(app: Flask, *args: str) -> Any:
    result = AppRunner(app).invoke(args, catch_exceptions=False)
    db.session.expire_all()
    return result


def by_pair(url: str) -> dict[tuple[int, int], dict[str, Any]]:
    return {(e["userid"], e["courseid"]): e for e in sandbox_state(url, TOKEN)["enrolments"]}


def test_a_separate_groups_course_without_accessallgroups_is_held_not_written_blind(
        make_app: Callable[..., Flask], database_url: str,
        sandbox: tuple[Flask, str]) -> None:
    moodle, url = sandbox
    site = moodle.extensions["moodle_sandbox"].site
    app = make_app(database_url=database_url, moodle_url=url, moodle_token=TOKEN,
                   catalogue_dir=str(DEMO_DIR))
    for stage in (["sync"], ["deficits"], ["recommend"], ["approve", "--all"]):
        assert invoke(app, *stage).exit_code == 0
    pairs = sorted({(i.route.teacher.moodle_user_id, i.offer.moodle_course_id)
                    for i in db.session.scalars(select(RouteItem))
                    if i.offer.moodle_course_id is not None})
    wanted = [p for p in pairs if p not in by_pair(url)]
    courses = sorted({c for _, c in wanted})
    assert len(courses) >= 2
    blind = courses[0]
    site.courses[blind].groupmode = SEPARATEGROUPS
    # someone else enrolled a teacher ProfRoute wants there, with a window, suspended
    foreign = next(p for p in wanted if p[1] == blind)
    moodle_api(settings_of(app)).enrol([Enrolment(
        user_id=foreign[0], course_id=blind, role_id=5, timestart=1_800_000_000,
        timeend=1_800_086_400, suspend=True)])
    before = by_pair(url)
    # what the role would read there: nobody, with no error (enrol/externallib.php:876-888)
    assert list(moodle_api(settings_of(app)).enrolled_users(blind)) == []

    result = invoke(app, "push")
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    after = by_pair(url)
    assert [c["course_id"] for c in summary["held_courses"]] == [blind]
    assert ALL_GROUPS in summary["held_courses"][0]["error"]
    assert {p: e for p, e in after.items() if p[1] == blind} == {
        p: e for p, e in before.items() if p[1] == blind}  # nothing sent there
    assert after[foreign] == before[foreign]  # window and suspension kept
    waiting = [r for r in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol")) if r.payload["course_id"] == blind]
    assert waiting and all(r.status == "pending" and ALL_GROUPS in r.last_error
                           for r in waiting)
    assert summary["enrolments_held"] == len(waiting)
    others = [p for p in wanted if p[1] != blind]
    assert all(p in after for p in others)  # the courses read whole went out
    page = signed_in(app).get("/push").get_data(as_text=True)
    assert f"курс {blind}" in page and ALL_GROUPS in page

    moodle.extensions["moodle_sandbox_tokens"][TOKEN].capabilities.add(ALL_GROUPS)
    result = invoke(app, "push")
    again = json.loads(result.stdout)
    assert again["held_courses"] == []
    final = by_pair(url)
    assert all((r.payload["user_id"], blind) in final for r in waiting)
    assert final[foreign] == before[foreign]  # now seen: someone else's, never rewritten
    assert {"user_id": foreign[0], "course_id": blind} in again["foreign_enrolments"]
