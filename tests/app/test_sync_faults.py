"""Moodle failing mid-run: a clear one-line message, and a re-run that ends with full data."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select
from support import AppRunner, app_for, pulled_data, sandbox_post

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Attempt, Deficit, OutboxMessage, RouteItem, Teacher
from app.settings import Settings


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What an undisturbed sync stores (the sandbox is seeded the same every time)."""
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        settings = Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('r')}/r.db",
                            moodle_url=url, moodle_token=token)
        with app_for(settings) as app:
            assert AppRunner(app).invoke(["sync"]).exit_code == 0
            return pulled_data()




@pytest.fixture
def fault_app(make_app: Callable[..., Flask], moodle: tuple[str, str]) -> Flask:
    """The app on SQLite, retrying twice with a short timeout."""
    url, token = moodle
    return make_app(moodle_url=url, moodle_token=token, moodle_retries=2, moodle_timeout=2)


def invoke(app: Flask, *args: str) -> Result:
    result = AppRunner(app).invoke(args)
    db.session.expire_all()
    return result


@pytest.mark.parametrize(("mode", "words"), [
    ("http500", "HTTP 500"), ("html", "not JSON"), ("timeout", "no answer"),
    ("invalidtoken", "PROFROUTE_MOODLE_TOKEN")])
def test_failure_mid_sync_is_one_line_and_a_rerun_completes(
        fault_app: Flask, moodle: tuple[str, str], reference: dict, mode: str,
        words: str) -> None:
    url, token = moodle
    sandbox_post(url, token, "faults", {"function": "mod_quiz_get_user_attempts",
                                        "mode": mode, "times": 1000})
    failed = invoke(fault_app, "sync")
    assert failed.exit_code == 2
    lines = failed.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("profroute: error:")
    assert words.lower() in lines[0].lower(), lines[0]
    assert token not in failed.output
    sandbox_post(url, token, "faults", {"function": "mod_quiz_get_user_attempts",
                                        "mode": mode, "times": 0})
    assert invoke(fault_app, "sync").exit_code == 0
    assert pulled_data() == reference


def test_a_transient_5xx_is_retried_for_reads(fault_app: Flask, moodle: tuple[str, str],
                                              reference: dict) -> None:
    url, token = moodle
    sandbox_post(url, token, "faults", {"function": "mod_quiz_get_user_attempts",
                                        "mode": "http500", "times": 2})
    assert invoke(fault_app, "sync").exit_code == 0
    assert pulled_data() == reference


def test_in_progress_attempts_are_never_scored(fault_app: Flask) -> None:
    assert invoke(fault_app, "sync").exit_code == 0
    assert invoke(fault_app, "deficits").exit_code == 0
    states = set(db.session.scalars(select(Attempt.state)))
    assert states == {"finished"}
    scored = set(db.session.scalars(select(Deficit.teacher_id)))
    with_attempts = set(db.session.scalars(select(Attempt.teacher_id)))
    assert scored == with_attempts
    active = set(db.session.scalars(select(Teacher.id).where(Teacher.active)))
    assert len(active - with_attempts) > 5  # in progress or not started: no levels at all


def test_a_deleted_course_fails_only_its_enrolments(fault_app: Flask) -> None:
    for stage in ("sync", "deficits", "recommend"):
        assert invoke(fault_app, stage).exit_code == 0
    assert invoke(fault_app, "approve", "--all").exit_code == 0
    item = next(i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
                if i.offer.moodle_course_id)
    gone = item.offer
    gone.moodle_course_id = 99999  # the course was deleted in Moodle
    db.session.commit()
    result = invoke(fault_app, "push")
    assert result.exit_code == 1
    # its read-back fails: nothing is sent to it, its rows wait with the error on them
    held = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol", OutboxMessage.status == "pending")).all()
    assert held and {h.payload["course_id"] for h in held} == {99999}
    assert all("invalidrecord" in h.last_error for h in held)
    sent = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "enrol", OutboxMessage.status == "sent")).all()
    assert len(sent) > 20
    items = [i for i in db.session.scalars(select(RouteItem)) if i.offer_id == gone.id]
    assert all(i.status == "approved" for i in items)


def test_a_teacher_removed_from_the_course_stops_being_scored(
        fault_app: Flask, moodle: tuple[str, str]) -> None:
    url, token = moodle
    assert invoke(fault_app, "sync").exit_code == 0
    teacher = db.session.scalars(select(Teacher).where(Teacher.active)
                                 .order_by(Teacher.moodle_user_id)).first()
    assert teacher is not None
    from app import settings_of
    from app.common.moodle import moodle_api

    moodle_api(settings_of(fault_app)).unenrol([(teacher.moodle_user_id, 2)])
    result = invoke(fault_app, "sync")
    assert result.exit_code == 0, result.output
    assert db.session.get(Teacher, teacher.id).active is False
