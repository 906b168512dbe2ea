"""The sync never stores blanks where Moodle withheld a field for want of a capability: it
keeps the known values and says which capability is missing; and it refuses a roster Moodle
answers short (separate groups without accessallgroups) instead of deactivating teachers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sandbox.sandbox_support import TOKEN, serving
from sqlalchemy import select
from support import AppRunner

from app.extensions import db
from app.models import Teacher
from lms_connectors.moodle.sandbox import PLUGIN_ROLE, create_app
from lms_connectors.moodle.sandbox.store import SEPARATEGROUPS

IDENTITY = {"moodle/site:viewuseridentity", "moodle/user:viewalldetails",
            "moodle/site:viewfullnames", "moodle/course:useremail"}


@pytest.fixture
def synced(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, Flask]]:
    """The sandbox (plugin role) and the app after a first full sync."""
    moodle = create_app(TOKEN, teachers=30)
    with serving(moodle) as url:
        app = make_app(moodle_url=url, moodle_token=TOKEN, moodle_retries=0)
        assert sync(app).exit_code == 0
        yield moodle, app


def sync(app: Flask) -> Any:
    result = AppRunner(app).invoke(("sync", "--full"))
    db.session.expire_all()
    return result


def stored() -> dict[int, tuple[Any, ...]]:
    return {t.moodle_user_id: (t.username, t.email, t.idnumber, t.lastname, t.firstname,
                               t.school_id, t.subjects, t.active)
            for t in db.session.scalars(select(Teacher))}


def set_role(moodle: Flask, capabilities: frozenset[str]) -> None:
    role = moodle.extensions["moodle_sandbox_tokens"][TOKEN].capabilities
    role.clear()
    role.update(capabilities)


def test_fields_withheld_by_the_role_keep_their_values_and_name_the_capability(
        synced: tuple[Flask, Flask]) -> None:
    moodle, app = synced
    before = stored()
    assert before and all(row[0] and row[1] and row[3] for row in before.values())
    assert any(row[2] for row in before.values())  # idnumbers known

    set_role(moodle, PLUGIN_ROLE - IDENTITY)
    result = sync(app)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert stored() == before  # not one blank written over a known value
    withheld = " ".join(summary["withheld"])
    for field, capability in (("username", "moodle/user:viewalldetails"),
                              ("email", "moodle/site:viewuseridentity"),
                              ("idnumber", "moodle/site:viewuseridentity"),
                              ("lastname", "moodle/site:viewfullnames")):
        assert any(line.startswith(f"{field}:") and capability in line
                   for line in summary["withheld"]), withheld
    assert not any(line.startswith(("school:", "subjects:")) for line in summary["withheld"])

    set_role(moodle, PLUGIN_ROLE)
    again = json.loads(sync(app).stdout)
    assert again["withheld"] == []
    assert stored() == before


def test_a_separate_groups_diagnostic_course_without_accessallgroups_deactivates_nobody(
        synced: tuple[Flask, Flask]) -> None:
    moodle, app = synced
    before = stored()
    assert sum(row[-1] for row in before.values()) > 0
    site = moodle.extensions["moodle_sandbox"].site
    next(c for c in site.courses.values() if c.shortname == "diag-2026").groupmode = \
        SEPARATEGROUPS
    set_role(moodle, PLUGIN_ROLE - {"moodle/site:accessallgroups"})
    result = sync(app)
    assert result.exit_code != 0
    assert "moodle/site:accessallgroups" in result.output
    assert stored() == before  # every teacher still active
