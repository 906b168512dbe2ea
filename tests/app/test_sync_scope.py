"""Teachers filtered by cohort or profile field; the next sync stays incremental."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from support import AppRunner, app_for

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Teacher
from app.settings import Settings


@pytest.fixture(scope="module")
def moodle() -> Iterator[tuple[str, str]]:
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        yield url, token


def sync_twice(database_url: str, moodle: tuple[str, str], **settings: str) -> tuple[dict, dict]:
    url, token = moodle
    with app_for(Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                          **settings)) as app:
        outputs = []
        for _ in range(2):
            result = AppRunner(app).invoke(["sync"])
            assert result.exit_code == 0, result.output
            outputs.append(json.loads(result.output))
        rows = [(t.moodle_user_id, t.subjects, t.school.code if t.school else None)
                for t in db.session.scalars(select(Teacher).where(Teacher.active))]
    return outputs[0], outputs[1] | {"rows": rows}


def test_cohort_scope(database_url: str, moodle: tuple[str, str]) -> None:
    full, again = sync_twice(database_url, moodle, teacher_cohort="school-16101")
    assert 0 < full["teachers"] < 40
    assert {school for _, _, school in again["rows"]} == {"16101"}
    assert again["mode"] == "incremental" and again["moodle_calls"] <= 5


def test_profile_field_scope(database_url: str, moodle: tuple[str, str]) -> None:
    full, again = sync_twice(database_url, moodle, teacher_filter="subject=Математика,Физика")
    assert 0 < full["teachers"] < 100
    assert all(set(s.split(", ")) & {"Математика", "Физика"} for _, s, _ in again["rows"])
    assert again["mode"] == "incremental"


def test_category_scope(database_url: str, moodle: tuple[str, str]) -> None:
    full, again = sync_twice(database_url, moodle, teacher_category="3")  # PD courses
    assert 0 < full["teachers"] < 180
    assert again["mode"] == "incremental"


@pytest.mark.parametrize(("value", "words"), [
    ("colour=red", "PROFROUTE_TEACHER_FILTER"), ("subject", "PROFROUTE_TEACHER_FILTER")])
def test_bad_filter_is_named(tmp_path, moodle, value, words) -> None:
    url, token = moodle
    with app_for(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", moodle_url=url,
                          moodle_token=token, teacher_filter=value)) as app:
        result = AppRunner(app).invoke(["sync"])
    assert result.exit_code == 2 and words in result.output


def test_unknown_cohort_is_named(tmp_path, moodle) -> None:
    url, token = moodle
    with app_for(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", moodle_url=url,
                          moodle_token=token, teacher_cohort="no-such-cohort")) as app:
        result = AppRunner(app).invoke(["sync"])
    assert result.exit_code == 2 and "PROFROUTE_TEACHER_COHORT" in result.output
