"""An internship's calendar event never goes out without its group of interns: while the
group's push fails, the event waits (held, with the reason) and goes out for the group on
a later push. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select
from support import AppRunner, sandbox_post, sandbox_state, signed_in

from app import settings_of
from app.common.moodle import moodle_api
from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import OutboxMessage
from config import DEMO_DIR

CREATE_GROUPS = "core_group_create_groups"
CREATE_EVENTS = "core_calendar_create_calendar_events"


def rows(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).filter_by(kind=kind)))


def push(app: Flask, moodle: tuple[str, str], exit_code: int | None = 0
         ) -> tuple[dict[str, Any], Counter[str]]:
    """The push's JSON summary and the calls the sandbox counted meanwhile (``exit_code``
    None: not checked)."""
    before = Counter(sandbox_state(*moodle)["calls"])
    result = AppRunner(app).invoke(["push"], catch_exceptions=False)
    db.session.expire_all()
    assert exit_code is None or result.exit_code == exit_code, result.output
    return json.loads(result.stdout), Counter(sandbox_state(*moodle)["calls"]) - before


def test_an_event_waits_for_its_refused_group_then_goes_out_for_it(
        make_app: Callable[..., Flask], database_url: str) -> None:
    token = secrets.token_hex(16)
    with running_sandbox(token, teachers=40) as url:  # a small site keeps this fast
        moodle = (url, token)
        app = make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                       catalogue_dir=str(DEMO_DIR))
        for stage in (["sync"], ["deficits"], ["recommend"], ["approve", "--all"]):
            assert AppRunner(app).invoke(stage).exit_code == 0
        wait_then_push(app, moodle)


def wait_then_push(app: Flask, moodle: tuple[str, str]) -> None:
    """Refuse every group, check the events wait, then let the groups and events go out."""
    sandbox_post(*moodle, "faults", {"function": CREATE_GROUPS, "mode": "nopermissions",
                                     "times": 100})
    summary, made = push(app, moodle, exit_code=1)  # a refusal or a wait needs a person
    assert made[CREATE_GROUPS] > 0 and made[CREATE_EVENTS] == 0
    events = rows("event")
    assert events and all(r.status == "pending" and "ждёт группу стажёров" in r.last_error
                          and "nopermissions" in r.last_error for r in events)
    assert all(r.status == "failed" for r in rows("group"))
    assert sum("ждёт группу стажёров" in e for e in summary["errors"]) == len(events)
    page = signed_in(app).get("/push").get_data(as_text=True)
    assert page.count("ждёт группу стажёров") == len(events)

    sandbox_post(*moodle, "faults", {"function": CREATE_GROUPS, "mode": "nopermissions",
                                     "times": 0})
    _, made = push(app, moodle)
    assert made[CREATE_EVENTS] == len(events)
    groups = {r.payload["course_id"]: r.payload["result"] for r in rows("group")
              if r.status == "sent"}
    sent = {r.payload["result"]: r.payload["course_id"] for r in rows("event")
            if r.status == "sent" and not r.last_error}
    assert len(sent) == len(events)
    found = moodle_api(settings_of(app)).calendar_events(event_ids=sorted(sent))
    assert {e.event_id: (e.course_id, e.group_id) for e in found} == {
        event_id: (course, groups[course]) for event_id, course in sent.items()}
