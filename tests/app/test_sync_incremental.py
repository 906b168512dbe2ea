"""Incremental sync: constant calls when nothing changed; only changed teachers re-read."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from support import AppRunner, pulled_data, sandbox_post, sandbox_state

from app.extensions import db
from app.models import Attempt, Teacher


@pytest.fixture
def sync_app(make_app: Callable[..., Flask], database_url: str,
             moodle: tuple[str, str]) -> Flask:
    url, token = moodle
    return make_app(database_url=database_url, moodle_url=url, moodle_token=token)


def sync(app: Flask, *args: str) -> dict:
    result = AppRunner(app).invoke(["sync", *args], catch_exceptions=False)
    db.session.expire_all()
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_resync_with_nothing_new_costs_a_constant_number_of_calls(
        sync_app: Flask, moodle: tuple[str, str]) -> None:
    url, token = moodle
    first = sync(sync_app)
    assert first["mode"] == "full" and first["teachers"] >= 150
    before = pulled_data()
    calls = sandbox_state(url, token)["calls"]
    again = sync(sync_app)
    assert again["mode"] == "incremental" and again["changed"] == 0
    assert again["moodle_calls"] <= 5
    spent = sum(sandbox_state(url, token)["calls"].values()) - sum(calls.values())
    assert spent == again["moodle_calls"]
    assert pulled_data() == before


def test_only_the_teacher_with_a_new_attempt_is_read_again(
        sync_app: Flask, moodle: tuple[str, str]) -> None:
    url, token = moodle
    sync(sync_app)
    teacher = db.session.scalars(select(Teacher).where(Teacher.active)
                                 .order_by(Teacher.moodle_user_id.desc())).first()
    assert teacher is not None
    sandbox_post(url, token, "attempts", {"userid": teacher.moodle_user_id, "fraction": 0.25})
    attempts_before = sandbox_state(url, token)["calls"].get("mod_quiz_get_user_attempts", 0)
    result = sync(sync_app)
    assert result["mode"] == "incremental" and result["changed"] == 1
    attempts_after = sandbox_state(url, token)["calls"].get("mod_quiz_get_user_attempts", 0)
    assert attempts_after - attempts_before == 1
    stored = db.session.scalars(select(Attempt).where(Attempt.teacher_id == teacher.id)).all()
    assert 0.25 * 24 in {a.sumgrades for a in stored}


def test_full_flag_rereads_everything(sync_app: Flask) -> None:
    sync(sync_app)
    again = sync(sync_app, "--full")
    assert again["mode"] == "full" and again["teachers"] == sync(sync_app)["teachers"]
