"""Offers and teachers as the sync completes them.

A teacher's subjects come from Moodle's profile field (the ``field_subject`` setting names
it); an availability table's subjects win over it, and a later sync keeps them. An offer
delivered in a Moodle course takes the course's competencies."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from support import AppRunner, app_for

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Offer, Teacher
from app.registry.catalogue import import_catalogue
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


def test_an_offer_in_a_moodle_course_takes_the_courses_competencies(
        database_url: str, moodle: tuple[str, str], tmp_path: Path) -> None:
    url, token = moodle
    (tmp_path / "offers.csv").write_text(
        "key;kind;title;competencies;moodle_course_shortname\n"
        "digital;course;Цифровые инструменты;PK-01;pk-digital\n"
        "outside;course;Курс вне Moodle;PK-02;\n", encoding="utf-8")
    with app_for(Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                          teacher_cohort="school-16101", catalogue_dir=str(tmp_path))) as app:
        assert import_catalogue(tmp_path).errors == []
        assert AppRunner(app).invoke(["sync"]).exit_code == 0
        db.session.expire_all()
        comps = {o.key: sorted(c.idnumber for c in o.competencies)
                 for o in db.session.scalars(select(Offer))}
    assert comps == {"digital": ["PK-04"], "outside": ["PK-02"]}
