"""The risk-group rule as part of a policy revision, and «Пересчитать дефициты» for every
diagnostic (entry and final), worked out by hand on three teachers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app, settings_of
from app.analyse.levels import compute_deficits
from app.analyse.policy import risk_rule
from app.analyse.revisions import PolicyError, save_revision
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    Deficit,
    Diagnostic,
    PolicyRevision,
    RunLog,
    Teacher,
)
from app.reports.analytics import risk
from app.settings import Settings
from app.sync.structure import GRADE_ITEM
from deficits.risk import RiskRule


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client

DEFAULT = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0}
FORM = {"deficit_below": "50", "risk_below": "70", "min_questions": "2",
        "attempt_policy": "quiz", "overrides": "", "comment": ""}
COMPETENCIES = (("PK-01", "Предметные знания", "subject"),
                ("PK-02", "Методика обучения", "method"),
                ("PK-03", "Цифровые инструменты", "digital"))
# Marks out of 2 per competency (PK-01, PK-02, PK-03); below 1.0 (50 %) is a deficit.
# Петрова: a deficit in "subject" only; Сидоров: in "method" and "digital"; Орлова: "method".
MARKS = {"Петрова": (0.8, 1.8, 1.8), "Сидоров": (1.8, 0.6, 0.8), "Орлова": (1.8, 0.8, 1.6)}


def three_teachers(quiz_id: int = 11, name: str = "Входная диагностика", kind: str = "entry",
                   shift: float = 0.0) -> Diagnostic:
    """One finished attempt per teacher of ``MARKS`` (each mark + ``shift``)."""
    if not db.session.scalar(select(func.count(Competency.id))):
        db.session.add_all([Competency(idnumber=idnumber, name=title, group=group)
                            for idnumber, title, group in COMPETENCIES])
    diagnostic = Diagnostic(moodle_quiz_id=quiz_id, moodle_course_id=2, name=name, kind=kind,
                            grademethod=1)
    db.session.add(diagnostic)
    db.session.flush()
    for number, (lastname, marks) in enumerate(MARKS.items(), start=1):
        teacher = db.session.scalars(select(Teacher).filter_by(lastname=lastname)).first()
        if teacher is None:
            teacher = Teacher(moodle_user_id=100 + number, username=f"t{number}",
                              lastname=lastname, firstname="Анна")
            db.session.add(teacher)
            db.session.flush()
        db.session.add(Attempt(
            moodle_attempt_id=quiz_id * 100 + number, diagnostic_id=diagnostic.id,
            teacher_id=teacher.id, attempt_no=1, state="finished",
            time_finish=1_760_000_000 + quiz_id, sumgrades=sum(marks) + 3 * shift,
            results=[AttemptResult(source=GRADE_ITEM, key=f"{idnumber} {title}",
                                   mark=mark + shift, max_mark=2.0)
                     for (idnumber, title, _), mark in zip(COMPETENCIES, marks, strict=True)]))
    db.session.commit()
    return diagnostic


def in_risk_group(diagnostic: Diagnostic, rule: RiskRule | None = None) -> set[str]:
    names = {t.id: t.lastname for t in db.session.scalars(select(Teacher))}
    found = risk(diagnostic, settings_of(current_app), rule)
    return {names[int(str(row["user_id"]))] for row in found}


def revisions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(PolicyRevision.id))) or 0


def levels_of(diagnostic_id: int) -> dict[tuple[str, str], str]:
    db.session.expire_all()
    return {(t, c): level for t, c, level in db.session.execute(
        select(Teacher.lastname, Competency.idnumber, Deficit.level)
        .join(Deficit, Deficit.teacher_id == Teacher.id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.diagnostic_id == diagnostic_id))}


def test_a_revision_with_a_risk_rule_changes_who_is_in_the_risk_group(
        app: Flask, client: FlaskClient) -> None:
    diagnostic = three_teachers()
    compute_deficits(diagnostic, settings_of(app))
    # The settings' rule (2, subject): Петрова by her subject deficit, Сидоров by 2 groups.
    assert in_risk_group(diagnostic) == {"Петрова", "Сидоров"}

    save_revision({"default": DEFAULT, "risk": {"min_groups": 2, "groups": []}}, "Иванова", "")
    assert risk_rule(settings_of(app)) == RiskRule(2, ())
    assert in_risk_group(diagnostic) == {"Сидоров"}  # one group is not enough any more

    save_revision({"default": DEFAULT, "risk": {"min_groups": 2, "groups": ["method"]}},
                  "Иванова", "")
    assert in_risk_group(diagnostic) == {"Сидоров", "Орлова"}  # Орлова: a method deficit

    save_revision({"default": DEFAULT, "risk": {"min_groups": 1, "groups": []}}, "Иванова", "")
    assert in_risk_group(diagnostic) == {"Петрова", "Сидоров", "Орлова"}
    rows = scored_rows(client, "/api/deficit-map/risk-group")
    assert len(rows) == 3 and all("порог — 1" in r["reason"] for r in rows)


def scored_rows(client: FlaskClient, url: str) -> list[dict[str, object]]:
    answer = client.get(url)
    assert answer.status_code == 200
    return list(answer.get_json()["rows"])


def test_the_page_shows_and_saves_the_risk_rule_with_group_labels(
        app: Flask, signed_in_client: FlaskClient) -> None:
    diagnostic = three_teachers()
    compute_deficits(diagnostic, settings_of(app))
    page = signed_in_client.get("/policy").get_data(as_text=True)
    assert ("Группа риска: дефициты не менее чем в 2 группах компетенций или хотя бы один "
            "дефицит в группе «subject»") in page
    assert "Откуда правило: настройки сервера (задаёт администратор)" in page
    assert 'name="risk_min_groups" value="2"' in page
    assert 'name="risk_groups" value="subject" checked' in page
    assert 'name="risk_groups" value="method">' in page

    saved = signed_in_client.post("/policy", follow_redirects=True, data=FORM | {
        "overrides": '[groups.method]\nlabel = "Методический блок"\n',
        "risk_min_groups": "3", "risk_groups": ["method", "digital"], "risk_groups_other": "",
        "comment": "риск по методике"})
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Сохранена редакция №1" in page
    wording = ("дефициты не менее чем в 3 группах компетенций или хотя бы один дефицит в "
               "одной из групп «Методический блок», «digital»")
    assert f"Группа риска: {wording}" in page and "Откуда правило: редакция №1" in page
    assert f'<td class="name">{wording}</td>' in page  # the history
    assert in_risk_group(diagnostic) == {"Сидоров", "Орлова"}

    data = signed_in_client.get("/api/policy").get_json()
    assert data["risk"]["min_groups"] == 3 and data["risk"]["groups"] == ["method", "digital"]
    assert data["risk"]["from"] == "revision" and data["risk"]["unknown_groups"] == []
    assert {"key": "method", "label": "Методический блок"} in data["risk"]["known_groups"]
    assert data["revisions"][0]["risk_ru"] == wording
    assert db.session.get(PolicyRevision, 1).document["risk"] == {
        "min_groups": 3, "groups": ["method", "digital"]}


@pytest.mark.parametrize(("form", "message"), [
    ({"risk_groups_other": "subject, предметный"},
     "Группа риска, группы, где хватает одного дефицита: группа «предметный» не найдена среди "
     "групп компетенций; известные группы: «digital», «method», «subject»"),
    ({"risk_min_groups": "0"}, "Группа риска, число групп компетенций с дефицитами: число групп "
                               "с дефицитами — не меньше 1"),
    ({"risk_min_groups": "два"}, "Группа риска, число групп компетенций с дефицитами: «два» — "
                                 "не целое число"),
])
def test_a_bad_risk_rule_is_refused_with_the_message_and_nothing_is_saved(
        form: dict[str, str], message: str, signed_in_client: FlaskClient) -> None:
    three_teachers()
    answer = signed_in_client.post("/policy", data=FORM | {"risk_min_groups": "2",
                                                 "risk_groups": ["subject"]} | form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in page
    assert revisions() == 0
    assert 'name="risk_groups" value="subject" checked' in page  # the form keeps the ticks


def test_before_any_competency_the_settings_group_is_flagged_and_must_be_cleared(
        app: Flask, signed_in_client: FlaskClient) -> None:
    page = signed_in_client.get("/policy").get_data(as_text=True)
    assert "«subject»: такой группы нет среди групп компетенций" in page
    assert 'name="risk_groups_other" value="subject"' in page
    form = FORM | {"risk_min_groups": "2", "risk_groups_other": "subject"}
    answer = signed_in_client.post("/policy", data=form)
    assert answer.status_code == 422 and revisions() == 0
    assert "группа «subject» не найдена среди групп компетенций; групп пока нет: загрузите " \
           "компетенции из Moodle (profroute sync)" in answer.get_data(as_text=True)
    cleared = signed_in_client.post("/policy", data=form | {"risk_groups_other": ""})
    assert cleared.status_code == 302
    assert risk_rule(settings_of(app)) == RiskRule(2, ())


def test_known_groups_are_the_stored_ones_under_the_revisions_competency_groups(
        app: Flask) -> None:
    three_teachers()
    with pytest.raises(PolicyError, match="группа «inclusive» не найдена.*известные группы: "
                                          "«digital», «method», «subject»"):
        save_revision({"default": DEFAULT, "risk": {"min_groups": 2, "groups": ["inclusive"]}},
                      "Иванова", "")
    moved = {"default": DEFAULT, "competency_groups": {"PK-03": "inclusive"}}
    with pytest.raises(PolicyError, match="группа «digital» не найдена"):  # PK-03 moved away
        save_revision(moved | {"risk": {"min_groups": 2, "groups": ["digital"]}}, "Иванова", "")
    with pytest.raises(PolicyError, match="risk.groups: укажите список имён групп"):
        save_revision({"default": DEFAULT, "risk": {"min_groups": 2, "groups": "subject"}},
                      "Иванова", "")
    assert revisions() == 0
    save_revision(moved | {"risk": {"min_groups": 2, "groups": ["inclusive", "inclusive"]}},
                  "Иванова", "")
    assert risk_rule(settings_of(app)) == RiskRule(2, ("inclusive",))


def test_a_revision_without_a_risk_rule_leaves_it_to_the_settings(
        app: Flask, client: FlaskClient) -> None:
    diagnostic = three_teachers()
    compute_deficits(diagnostic, settings_of(app))
    db.session.add(PolicyRevision(document={"default": DEFAULT, "attempt_policy": "quiz"},
                                  author="Иванова", comment="до правила группы риска"))
    db.session.commit()
    assert risk_rule(settings_of(app)) == RiskRule(2, ("subject",))
    assert in_risk_group(diagnostic) == {"Петрова", "Сидоров"}
    other = settings_of(app).replace(risk_min_groups=1, risk_groups="")
    assert risk_rule(other) == RiskRule(1, ())
    assert in_risk_group(diagnostic, risk_rule(other)) == {"Петрова", "Сидоров", "Орлова"}

    page = client.get("/policy").get_data(as_text=True)
    assert ("Откуда правило: настройки сервера (задаёт администратор) "
            "(редакция №1 правила группы риска не задаёт)") in page
    assert '<td class="name">по настройкам сервера</td>' in page
    assert "PROFROUTE_" not in page
    assert client.get("/api/policy").get_json()["risk"]["from"] == "settings"


def test_without_a_usable_database_the_settings_rule_applies(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", risk_min_groups=3,
                        risk_groups="subject, method")
    assert risk_rule(settings) == RiskRule(3, ("subject", "method"))  # no app context
    with create_app(settings, {"TESTING": True}).app_context():  # no schema yet
        assert risk_rule(settings) == RiskRule(3, ("subject", "method"))
        db.session.remove()
        db.engine.dispose()


def test_recompute_processes_the_entry_and_the_final_diagnostic(
        signed_in_client: FlaskClient) -> None:
    entry = three_teachers()
    final = three_teachers(12, "Итоговая диагностика", "final", shift=0.2)
    signed_in_client.post("/policy", data=FORM | {"deficit_below": "60", "risk_below": "80"})

    answer = signed_in_client.post("/policy/recompute")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Дефициты пересчитаны" in page
    assert page.index("«Входная диагностика» (входная)") < page.index(
        "«Итоговая диагностика» (итоговая)")
    assert page.count("По умолчанию: дефицит ниже 60 %, риск ниже 80 %") == 2
    assert page.count("педагогов 3;") == 2
    # Entry, 60 %: 0.8, 0.6, 0.8 of 2 are deficits; 1.6 (80 %) is ok, 1.8 ok.
    assert "дефицит — 4" in page
    # Final, +0.2: Петрова's PK-01 1.0 of 2 (50 %) is a deficit below 60 %; 1.8 (90 %) ok.
    assert levels_of(final.id)[("Петрова", "PK-01")] == "deficit"
    assert levels_of(final.id)[("Орлова", "PK-03")] == "ok"
    assert levels_of(entry.id)[("Петрова", "PK-01")] == "deficit"
    runs = db.session.scalars(select(RunLog).where(RunLog.stage == "deficits")
                              .order_by(RunLog.id)).all()
    assert [r.status for r in runs] == ["ok", "ok"]
    assert [r.summary["teachers"] for r in runs] == [3, 3]


def test_a_failed_diagnostic_is_named_and_the_others_are_recomputed(
        app: Flask, signed_in_client: FlaskClient) -> None:
    entry = three_teachers()
    final = three_teachers(12, "Итоговая диагностика", "final", shift=0.2)
    compute_deficits(entry, settings_of(app))
    compute_deficits(final, settings_of(app))
    before = levels_of(final.id)
    assert before[("Петрова", "PK-01")] == "risk"  # 50 % under 50 / 70 %
    final.grademethod = 9  # not one of Moodle's grading methods
    db.session.commit()
    save_revision({"default": DEFAULT | {"deficit_below": 0.6, "risk_below": 0.8}},
                  "Иванова", "")

    answer = signed_in_client.post("/policy/recompute")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert ("Дефициты диагностики «Итоговая диагностика» (итоговая) не пересчитаны: unknown "
            "grading method 9") in page and "Уровни остальных диагностик пересчитаны." in page
    assert levels_of(final.id) == before  # unchanged
    used = dict(db.session.execute(select(Deficit.diagnostic_id, Deficit.thresholds)).all())
    assert used[entry.id]["deficit_below"] == 0.6 and used[final.id]["deficit_below"] == 0.5
    runs = db.session.scalars(select(RunLog).where(RunLog.stage == "deficits")
                              .order_by(RunLog.id)).all()
    assert [r.status for r in runs] == ["ok", "failed"]
    assert "unknown grading method 9" in runs[1].error
