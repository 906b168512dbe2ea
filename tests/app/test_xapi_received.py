"""Statements Moodle sent to ProfRoute's own endpoint become domain events, once each."""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import CourseCompletion, Teacher
from app.xapi.credentials import create_credential
from app.xapi.sync import pull_received

SITE = "http://www.example.org"
GOLDEN = Path(os.environ.get("PROFROUTE_XAPI_STATEMENTS_DIR", Path(__file__).resolve()
                             .parents[2].parent / "shared" / "xapi" / "logstore_xapi_statements"))


def completed_course_statements() -> list[dict]:
    common = json.loads((GOLDEN / "common.statement.json").read_text())
    raw = json.loads((GOLDEN / "core__course_completed__completing_existing_course"
                      ".statements.json").read_text())
    out = []
    for item in raw:
        merged = copy.deepcopy(common)
        merged.update(item)
        out.append(merged)
    return out


def test_received_statements_are_mapped_once(app: Flask, client: FlaskClient) -> None:
    settings = app.config["PROFROUTE_SETTINGS"]
    app.config["PROFROUTE_SETTINGS"] = settings = settings.replace(moodle_url=SITE)
    teacher = Teacher(moodle_user_id=1, username="t", lastname="Т", firstname="Т")
    db.session.add(teacher)
    credential, secret = create_credential(SITE)
    db.session.commit()
    auth = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    answer = client.post("/xapi/statements", json=completed_course_statements(),
                         headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)

    first = pull_received(settings)
    assert first.statements == 1 and first.completions == 1
    rows = db.session.scalars(select(CourseCompletion).where(
        CourseCompletion.teacher_id == teacher.id)).all()
    assert [(r.moodle_course_id, r.completed) for r in rows] == [(2, True)]
    again = pull_received(settings)
    assert again.statements == 0
