"""A teacher's subjects come from Moodle's profile field (the ``field_subject`` setting names
it); an availability table's subjects win over it, and a later sync keeps them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from support import AppRunner, app_for

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Teacher
from app.registry.offerings import import_table
from app.settings import Settings


@pytest.fixture(scope="module")
def moodle() -> Iterator[tuple[str, str]]:
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        yield url, token


def test_subjects_from_the_profile_field_and_the_table_override(
        database_url: str, moodle: tuple[str, str]) -> None:
    url, token = moodle
    with app_for(Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                          teacher_cohort="school-16101")) as app:
        runner = AppRunner(app)
        assert runner.invoke(["sync"]).exit_code == 0
        teachers = list(db.session.scalars(select(Teacher).where(Teacher.active)))
        assert teachers and all(t.subject_list for t in teachers)
        assert all(t.subject_list == [s.strip() for s in t.subjects.split(",")]
                   for t in teachers)
        chosen = teachers[0]
        table = f"teacher;subjects\n{chosen.moodle_user_id};\"Физика; Астрономия\"\n".encode()
        assert import_table("availability", table).errors == []
        assert runner.invoke(["sync", "--full"]).exit_code == 0
        db.session.expire_all()
        again = db.session.get(Teacher, chosen.id)
        assert again is not None and again.subject_list == ["Физика", "Астрономия"]
        assert again.subjects == chosen.subjects  # Moodle's value still kept beside it
