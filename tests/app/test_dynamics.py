"""Entry → final: the change per competency, per school and per teacher, on page and API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support import AppRunner

from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Teacher


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> Flask:
    url, token = moodle
    return make_app(database_url=database_url, moodle_url=url, moodle_token=token)


@pytest.fixture
def scored_app(app: Flask, runner: AppRunner) -> Flask:
    for stage in ("sync", "deficits"):
        result = runner.invoke([stage], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return app


def add_final(closed: list[Deficit], worse: list[Deficit]) -> Diagnostic:
    """A final diagnostic equal to the entry, but ``closed`` rows at 100 % and ``worse`` at 0."""
    entry = db.session.scalars(select(Diagnostic)).one()
    final = Diagnostic(moodle_quiz_id=999, moodle_course_id=entry.moodle_course_id,
                       name="Итоговая диагностика", kind="final")
    db.session.add(final)
    db.session.flush()
    for row in db.session.scalars(select(Deficit).where(Deficit.diagnostic_id == entry.id)):
        score, level = row.score, row.level
        if row in closed:
            score, level = 1.0, "ok"
        elif row in worse:
            score, level = 0.0, "deficit"
        db.session.add(Deficit(diagnostic_id=final.id, teacher_id=row.teacher_id,
                               competency_id=row.competency_id, questions=row.questions,
                               score=score, level=level))
    db.session.commit()
    return final


def test_dynamics_counts_what_changed_between_entry_and_final(
        scored_app: Flask, client: FlaskClient) -> None:
    assert client.get("/api/deficit-map/change").status_code == 404
    assert "нужны входная и итоговая" in client.get("/dynamics").get_data(as_text=True)

    entry_rows = db.session.scalars(select(Deficit).order_by(Deficit.id)).all()
    deficits = [r for r in entry_rows if r.level == "deficit" and r.score is not None
                and r.score < 0.5][:4]
    oks = [r for r in entry_rows if r.level == "ok"][:2]
    add_final(closed=deficits, worse=oks)
    code = {c.id: c.idnumber for c in db.session.scalars(select(Competency))}

    data = client.get("/api/deficit-map/change").get_json()

    by_comp = {r["competency"]: r for r in data["competencies"]}
    assert Counter(code[r.competency_id] for r in deficits) == Counter(
        {k: v["closed"] for k, v in by_comp.items() if v["closed"]})
    assert Counter(code[r.competency_id] for r in oks) == Counter(
        {k: v["level_down"] for k, v in by_comp.items() if v["level_down"]})
    assert sum(r["level_up"] for r in data["competencies"]) == len(deficits)
    comparable = [r for r in entry_rows if r.level != "insufficient"]
    assert sum(r["compared"] for r in data["competencies"]) == len(comparable)
    assert sum(r["closed"] for r in data["schools"]) == len(deficits)
    assert {(c["moodle_user_id"], c["competency"]) for c in data["closed"]} == {
        (db.session.get(Teacher, r.teacher_id).moodle_user_id, code[r.competency_id])
        for r in deficits}

    page = client.get("/dynamics").get_data(as_text=True)
    assert "Закрытые дефициты (4)" in page
    teacher = db.session.get(Teacher, deficits[0].teacher_id)
    own = client.get(f"/teachers/{teacher.moodle_user_id}").get_data(as_text=True)
    assert "дефицит закрыт" in own and "Входная → итоговая" in own


def test_dynamics_rejects_a_bad_final_id(scored_app: Flask, client: FlaskClient) -> None:
    assert client.get("/dynamics?final=abc").status_code == 400


def test_syncing_the_entry_test_after_a_final_one_resumes_the_entry_test(
        scored_app: Flask, runner: AppRunner) -> None:
    entry = db.session.scalars(select(Diagnostic)).one()
    add_final(closed=[], worse=[])
    result = runner.invoke(["sync"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert '"mode": "incremental"' in result.output
    db.session.expire_all()
    final = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "final")).one()
    assert final.moodle_quiz_id == 999 and entry.kind == "entry"


def test_deficits_scores_the_diagnostic_the_settings_name_not_the_latest(
        scored_app: Flask, runner: AppRunner) -> None:
    final = add_final(closed=[], worse=[])
    kept = db.session.query(Deficit).filter_by(diagnostic_id=final.id).count()
    assert kept > 0
    result = runner.invoke(["deficits"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    # The entry settings (kind "entry") rescored the entry test; the final one is untouched.
    assert db.session.query(Deficit).filter_by(diagnostic_id=final.id).count() == kept


def test_the_map_shows_any_stored_diagnostic(scored_app: Flask, client: FlaskClient) -> None:
    entry = db.session.scalars(select(Diagnostic)).one()
    final = add_final(closed=[], worse=[])
    latest = client.get("/").get_data(as_text=True)
    assert "Диагностика: «Итоговая диагностика»" in latest
    assert f'href="/?diagnostic={entry.id}"' in latest
    chosen = client.get(f"/?diagnostic={entry.id}").get_data(as_text=True)
    assert f"Диагностика: «{entry.name}»" in chosen
    assert f'href="/?diagnostic={final.id}"' in chosen
    data = client.get(f"/api/deficit-map?diagnostic={entry.id}").get_json()
    assert data["schools"]
    assert client.get("/?diagnostic=999999").status_code == 404
    assert client.get("/api/deficit-map?diagnostic=999999").status_code == 404


def test_every_report_states_how_the_levels_were_produced(
        scored_app: Flask, client: FlaskClient) -> None:
    attempts = "Попытки: лучшая попытка (метод оценивания теста)"  # the quiz grades highest
    policy = client.get("/api/deficit-map").get_json()["policy"]
    assert attempts in policy and any(line.startswith("по умолчанию: дефицит ниже 50 %")
                                      for line in policy)
    assert attempts in client.get("/").get_data(as_text=True)
    assert attempts in client.get("/analytics").get_data(as_text=True)
    assert attempts in client.get("/indicators").get_data(as_text=True)
    # A final diagnostic stored without its policy: the comparison warns of different rules.
    add_final(closed=[], worse=[])
    page = client.get("/dynamics").get_data(as_text=True)
    assert attempts in page and "получены по разным правилам" in page
