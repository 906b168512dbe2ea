"""Moodle's own competency ratings pulled by sync and set beside the diagnostic levels."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from support import AppRunner

from app.common.moodle import moodle_api
from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Competency, CompetencyRating, Deficit, Teacher
from lms_connectors.moodle.sandbox.seed import generate

NOT_YET, COMPETENT = 1, 2  # Moodle's default competence scale


@pytest.fixture
def rated_app(make_app: Callable[..., Flask], database_url: str,
              moodle: tuple[str, str]) -> Flask:
    url, token = moodle
    return make_app(database_url=database_url, moodle_url=url, moodle_token=token)


def run(app: Flask, *args: str) -> dict:
    result = AppRunner(app).invoke(args, catch_exceptions=False)
    db.session.expire_all()
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def api(app: Flask):
    return moodle_api(app.config["PROFROUTE_SETTINGS"])


def stored() -> dict[tuple[int, str], bool | None]:
    return {(uid, code): proficient for uid, code, proficient in db.session.execute(
        select(Teacher.moodle_user_id, Competency.idnumber, CompetencyRating.proficient)
        .join(Teacher, Teacher.id == CompetencyRating.teacher_id)
        .join(Competency, Competency.id == CompetencyRating.competency_id))}


def seeded_ratings() -> dict[tuple[int, str], bool]:
    site = generate()
    return {(uid, site.competencies[cid].idnumber): uc.proficiency
            for (uid, cid), uc in site.user_competencies.items()}


def level_of(moodle_user_id: int, code: str) -> Deficit:
    return db.session.scalars(
        select(Deficit).join(Teacher, Teacher.id == Deficit.teacher_id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Teacher.moodle_user_id == moodle_user_id, Competency.idnumber == code)).one()


def test_full_sync_pulls_every_rating_in_one_call_and_deficits_set_them_beside(
        rated_app: Flask) -> None:
    summary = run(rated_app, "sync")
    expected = {k: v for k, v in seeded_ratings().items()
                if k[0] in set(db.session.scalars(select(Teacher.moodle_user_id)))}
    assert len(expected) > 50
    assert stored() == expected
    assert summary["ratings"] == len(expected)

    deficits = run(rated_app, "deficits")
    agreement = deficits["moodle_ratings"]
    assert agreement["agrees"] + agreement["disagrees"] + agreement.get("no evidence", 0) \
        == len([k for k in expected if _scored(k)])
    for (uid, code), proficient in expected.items():
        if not _scored((uid, code)):
            continue
        row = level_of(uid, code)
        assert row.moodle_proficient is proficient
        contradiction = (row.level == "deficit" and proficient) or \
            (row.level == "ok" and not proficient)
        if row.level != "insufficient":
            assert row.agreement == ("disagrees" if contradiction else "agrees")


def _scored(key: tuple[int, str]) -> bool:
    return db.session.scalars(
        select(Deficit.id).join(Teacher, Teacher.id == Deficit.teacher_id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Teacher.moodle_user_id == key[0], Competency.idnumber == key[1])).first() \
        is not None


def test_incremental_sync_reads_only_ratings_changed_since(rated_app: Flask) -> None:
    run(rated_app, "sync")
    run(rated_app, "deficits")
    deficit = db.session.scalars(select(Deficit).where(Deficit.level == "deficit")
                                 .order_by(Deficit.id)).first()
    assert deficit is not None
    teacher = db.session.get(Teacher, deficit.teacher_id)
    competency = db.session.get(Competency, deficit.competency_id)
    # A methodologist rates in Moodle that this teacher masters the competency.
    api(rated_app).grade_competency(teacher.moodle_user_id, competency.moodle_id, COMPETENT)

    again = run(rated_app, "sync")
    assert again["mode"] == "incremental" and again["ratings"] == 1
    assert stored()[(teacher.moodle_user_id, competency.idnumber)] is True
    run(rated_app, "deficits")
    row = level_of(teacher.moodle_user_id, competency.idnumber)
    assert (row.level, row.moodle_proficient, row.agreement) == ("deficit", True, "disagrees")
    assert run(rated_app, "sync")["ratings"] == 0


def test_a_changed_rating_replaces_the_stored_one(rated_app: Flask) -> None:
    run(rated_app, "sync")
    (uid, code), proficient = next(iter(
        (k, v) for k, v in stored().items() if v is True))
    competency = db.session.scalars(select(Competency).filter_by(idnumber=code)).one()
    api(rated_app).grade_competency(uid, competency.moodle_id, NOT_YET)

    run(rated_app, "sync")

    assert stored()[(uid, code)] is False
    assert db.session.query(CompetencyRating).count() == len(stored())


def test_without_the_plugin_ratings_come_from_learning_plans(
        make_app: Callable[..., Flask], database_url: str) -> None:
    token = secrets.token_hex(16)
    with running_sandbox(token, plugin=False) as url:
        app = make_app(database_url=database_url, moodle_url=url, moodle_token=token)
        moodle = api(app)
        run(app, "sync")
        assert stored() == {}  # the seeded ratings are in no plan: not visible this way
        teacher = db.session.scalars(select(Teacher).where(Teacher.active)
                                     .order_by(Teacher.moodle_user_id)).first()
        competency = db.session.scalars(select(Competency).order_by(Competency.id)).first()
        plan = moodle.create_plan(teacher.moodle_user_id, "ИОМ 2026/27")
        moodle.add_competency_to_plan(plan.plan_id, competency.moodle_id)
        moodle.grade_competency(teacher.moodle_user_id, competency.moodle_id, NOT_YET)

        assert run(app, "sync")["ratings"] == 0  # incremental: plans are read on full syncs
        summary = run(app, "sync", "--full")

        assert summary["ratings"] == 1
        assert stored() == {(teacher.moodle_user_id, competency.idnumber): False}
