"""The app's xAPI stages against a real LRS: pull into completions, emit the route lifecycle."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.common.outbox import StatementRecord, new_row
from app.extensions import db
from app.models import (
    CourseCompletion,
    Diagnostic,
    Offer,
    OutboxMessage,
    Route,
    RouteItem,
    Teacher,
    UnmappedStatement,
)
from app.xapi.sync import emit, lrs_client, pull_from_lrs
from xapi.client import LRSClient


@pytest.fixture
def xapi_app(make_app: Callable[..., Flask], database_url: str,
             lrs) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(database_url=database_url, moodle_url=lrs.site, lrs_endpoint=lrs.url,
                    lrs_username=lrs.username, lrs_password=lrs.password, lrs_timeout=10)


def golden(load_case, case_names, site: str) -> list[dict]:  # type: ignore[no-untyped-def]
    out = []
    for name in case_names:
        _, statements, _ = load_case(name)
        for statement in statements:
            out.append(json.loads(json.dumps(statement).replace("http://www.example.org", site)))
    return out


def test_pull_maps_moodle_statements_once_and_resumes_from_the_cursor(
        xapi_app: Flask, lrs, client: LRSClient, load_case, case_names) -> None:
    teacher = Teacher(moodle_user_id=1, username="test", lastname="Тест", firstname="Тест")
    db.session.add(teacher)
    db.session.flush()  # the web-service pull saw course 2 not yet completed
    db.session.add(CourseCompletion(teacher_id=teacher.id, moodle_course_id=2, completed=False))
    db.session.commit()
    statements = golden(load_case, case_names, lrs.site)
    stored, rejected = client.post_batch_split(statements)
    assert not rejected and len(stored) == len(statements)

    settings = xapi_app.config["PROFROUTE_SETTINGS"]
    first = pull_from_lrs(lrs_client(settings), settings)
    assert first.kinds.get("course_completed", 0) >= 1
    assert first.unmapped and all(": " in line for line in first.unmapped)
    kept = db.session.scalars(select(UnmappedStatement)).all()
    assert len(kept) == first.kinds["unmapped"] and all(k.reason and k.statement for k in kept)
    rows = db.session.scalars(select(CourseCompletion).where(
        CourseCompletion.teacher_id == teacher.id, CourseCompletion.moodle_course_id == 2)).all()
    assert len(rows) == 1 and rows[0].completed  # the web-service row, now completed: once

    again = pull_from_lrs(lrs_client(settings), settings)
    assert again.kinds.get("course_completed", 0) == 0  # the cursor moved past them


def make_route(site: str) -> RouteItem:
    teacher = Teacher(moodle_user_id=77, username="u77", lastname="Иванова", firstname="Анна")
    offer = Offer(key="pk-assess", kind="course", title="Формирующее оценивание",
                  moodle_course_id=3)
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=2, name="Входная")
    db.session.add_all([teacher, offer, diagnostic])
    db.session.flush()
    route = Route(teacher_id=teacher.id, diagnostic_id=diagnostic.id)
    db.session.add(route)
    db.session.flush()
    item = RouteItem(route_id=route.id, offer_id=offer.id, status="enrolled",
                     competencies=["PK-03"], reasons=["PK-03: 25 % — дефицит"],
                     updated_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    db.session.add(item)
    db.session.commit()
    return item


def test_emit_sends_each_lifecycle_step_once_with_deterministic_ids(
        xapi_app: Flask, lrs, client: LRSClient) -> None:
    make_route(lrs.site)
    settings = xapi_app.config["PROFROUTE_SETTINGS"]
    first = emit(lrs_client(settings), settings)
    assert first.queued == 3 and first.sent == 3 and not first.rejected  # proposed/approved/enrolled
    agent = {"account": {"homePage": lrs.site, "name": "77"}}
    ids = {s["id"] for s in client.get_statements(agent=agent)}
    assert len(ids) == 3

    again = emit(lrs_client(settings), settings)
    assert again.queued == 0 and again.sent == 0
    db.session.execute(OutboxMessage.__table__.update().values(status="pending"))
    db.session.commit()
    replay = emit(lrs_client(settings), settings)  # resent: the LRS keeps one of each
    assert not replay.rejected
    assert {s["id"] for s in client.get_statements(agent=agent)} == ids


def test_a_statement_the_lrs_rejects_is_isolated(xapi_app: Flask, lrs, client) -> None:
    make_route(lrs.site)
    bad = {"id": "00000000-0000-4000-8000-000000000001", "actor": {"account": {
        "homePage": lrs.site, "name": "77"}}, "object": {"id": "urn:x"}}  # no verb
    db.session.add(new_row(StatementRecord(statement=bad), "xapi:bad"))
    db.session.commit()
    settings = xapi_app.config["PROFROUTE_SETTINGS"]
    result = emit(lrs_client(settings), settings)
    assert result.sent == 3 and len(result.rejected) == 1 and "xapi:bad" in result.rejected[0]
    failed = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "failed"))
    assert failed == 1
