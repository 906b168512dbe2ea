"""The policy page: the methodologist's revision changes the levels; a bad one saves nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support import signed_in

from app import create_app, settings_of
from app.analyse.levels import compute_deficits
from app.analyse.policy import load_policy, policy_source
from app.analyse.revisions import PolicyError, save_revision
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    CompetencyFramework,
    Deficit,
    Diagnostic,
    Municipality,
    PolicyRevision,
    Teacher,
)
from app.settings import Settings
from app.sync.structure import GRADE_ITEM


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client

DEFAULT = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0}
FORM = {"deficit_below": "50", "risk_below": "70", "min_questions": "2",
        "attempt_policy": "quiz", "overrides": "", "comment": ""}


def one_teacher_two_attempts() -> Diagnostic:
    """Attempt 1: PK-01 1.2/2 (60 %), PK-02 1.8/2 (90 %), sum 3.0.
    Attempt 2: PK-01 0.8/2 (40 %), PK-02 1.2/2 (60 %), sum 2.0. The quiz grades the highest.
    """
    framework = CompetencyFramework(idnumber="PKU-2026", name="Профстандарт «Педагог»")
    db.session.add_all([
        Competency(idnumber="PK-01", name="Предметные знания", framework=framework,
                   group="Предметный блок"),
        Competency(idnumber="PK-02", name="Методика обучения", framework=framework,
                   group="Методический блок")])
    diagnostic = Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная диагностика",
                            grademethod=1)
    teacher = Teacher(moodle_user_id=101, username="t.petrova", lastname="Петрова",
                      firstname="Анна")
    db.session.add_all([diagnostic, teacher])
    db.session.flush()
    for number, (first, second) in enumerate(((1.2, 1.8), (0.8, 1.2)), start=1):
        db.session.add(Attempt(
            moodle_attempt_id=500 + number, diagnostic_id=diagnostic.id, teacher_id=teacher.id,
            attempt_no=number, state="finished", time_finish=1_760_000_000 + number,
            sumgrades=first + second, results=[
                AttemptResult(source=GRADE_ITEM, key="PK-01 Предметные знания", mark=first,
                              max_mark=2.0),
                AttemptResult(source=GRADE_ITEM, key="PK-02 Методика обучения", mark=second,
                              max_mark=2.0)]))
    db.session.commit()
    return diagnostic


def levels() -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(Competency.idnumber, Deficit.level)
                                   .join(Deficit, Deficit.competency_id == Competency.id)).all())


def revisions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(PolicyRevision.id))) or 0


def test_the_page_shows_the_default_policy_its_source_and_the_competencies(
        app: Flask, client: FlaskClient) -> None:
    one_teacher_two_attempts()
    db.session.add(Municipality(name="Альфа"))
    db.session.commit()
    local = signed_in(app, "local", ("--role", "methodologist", "--municipality", "Альфа"))
    page = local.get("/policy").get_data(as_text=True)
    assert "Дефицит — результат ниже</td><td>50 %" in page
    assert "Риск — результат ниже</td><td>70 %" in page
    assert "Действует: <b>настройки по умолчанию</b>" in page
    assert "PK-02 Методика обучения" in page and "Методический блок" in page
    # The policy holds for every municipality: a municipality's methodologist reads it only.
    assert "меняет методист всего региона" in page and 'action="/policy"' not in page
    assert local.post("/policy", data=FORM).status_code == 403 and revisions() == 0
    assert 'action="/policy"' in client.get("/policy").get_data(as_text=True)
    data = local.get("/api/policy").get_json()
    assert data["default"] == DEFAULT and data["attempt_policy"] == "quiz"
    assert data["source"] == "настройки по умолчанию" and data["revisions"] == []
    assert [c["idnumber"] for c in data["competencies"]] == ["PK-01", "PK-02"]
    assert data["competencies"][0]["moodle_group"] == "Предметный блок"


def test_a_saved_revision_changes_the_levels_the_recompute_button_computes(
        app: Flask, signed_in_client: FlaskClient) -> None:
    diagnostic = one_teacher_two_attempts()
    compute_deficits(diagnostic, settings_of(app))
    assert levels() == {"PK-01": "risk", "PK-02": "ok"}  # best attempt: 60 %, 90 % vs 50/70

    saved = signed_in_client.post("/policy", data=FORM | {"deficit_below": "65", "risk_below": "80",
                                                "comment": "Порог по решению методсовета"},
                        follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Сохранена редакция №1" in page
    assert "при следующем запуске «profroute deficits»" in page
    assert "Действует: <b>редакция №1 от " in page and "автор Иванова" in page
    assert "Порог по решению методсовета" in page  # the history
    assert levels() == {"PK-01": "risk", "PK-02": "ok"}  # nothing recomputed yet

    answer = signed_in_client.post("/policy/recompute")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Дефициты пересчитаны" in page
    assert "По умолчанию: дефицит ниже 65 %, риск ниже 80 %" in page
    assert levels() == {"PK-01": "deficit", "PK-02": "ok"}  # 60 % < 65 %; 90 % ≥ 80 %
    stored = db.session.scalars(select(Deficit)).first()
    assert stored.thresholds["deficit_below"] == 0.65 and stored.thresholds["source"] == "default"


def test_attempt_policy_group_override_and_minimum_evidence_from_revisions(app: Flask) -> None:
    diagnostic = one_teacher_two_attempts()
    settings = settings_of(app)
    save_revision({"default": DEFAULT, "attempt_policy": "last",
                   "groups": {"method": {"label": "Методический блок", "deficit_below": 0.55}},
                   "competency_groups": {"PK-02": "method"}}, "Иванова", "последняя попытка")
    summary = compute_deficits(diagnostic, settings)
    # last attempt: PK-01 40 % < 50 % → deficit; PK-02 60 %: group 55 %..70 % → risk
    assert levels() == {"PK-01": "deficit", "PK-02": "risk"}
    assert "Попытки: последняя попытка" in summary.thresholds
    assert "Методический блок: дефицит ниже 55 %, риск ниже 70 %, не менее 2 вопросов" \
        in summary.thresholds
    row = db.session.scalars(select(Deficit).join(Competency).where(
        Competency.idnumber == "PK-02")).one()
    assert row.thresholds["source"] == "group" and row.thresholds["label"] == "Методический блок"

    save_revision({"default": DEFAULT | {"min_questions": 3}, "attempt_policy": "first"},
                  "Иванова", "не меньше трёх вопросов")
    compute_deficits(diagnostic, settings)
    assert levels() == {"PK-01": "insufficient", "PK-02": "insufficient"}  # 2 questions < 3
    assert policy_source(settings).startswith("редакция №2 от ")


@pytest.mark.parametrize(("form", "message"), [
    ({"deficit_below": "80", "risk_below": "60"},
     "Порог дефицита по умолчанию: порог дефицита (80 %) выше порога риска (60 %)"),
    ({"risk_below": "170"}, "Порог риска по умолчанию: укажите процент от 0 до 100, указано 170"),
    ({"min_questions": "-1"},
     "Минимум вопросов на компетенцию: минимум вопросов не может быть меньше 0, указано -1"),
    ({"deficit_below": "пятьдесят"}, "Порог дефицита по умолчанию: «пятьдесят» — не число"),
    ({"attempt_policy": "max"}, "Какая попытка учитывается: &#39;max&#39; — неизвестное правило"),
    ({"overrides": "[groups.subject]\nlabel = \"Предметный блок\"\ndeficit_below = 0.8\n"},
     "Переопределения, строка 3, groups.subject.deficit_below: порог дефицита (80 %) выше "
     "порога риска (70 %)"),
    ({"overrides": "[frameworks.PKU-2026]\ndeficit = 0.4\n"},
     "Переопределения, строка 2, frameworks.PKU-2026.deficit: неизвестный ключ"),
    ({"overrides": "[groups.subject]\ndeficit_below = \n"},
     "Переопределения, строка 2, столбец 17: ошибка синтаксиса TOML"),
    ({"overrides": "[default]\ndeficit_below = 0.4\n"},
     "Переопределения, default: здесь допустимы только разделы"),
])
def test_an_invalid_revision_is_refused_with_the_field_and_nothing_is_saved(
        form: dict[str, str], message: str, signed_in_client: FlaskClient) -> None:
    answer = signed_in_client.post("/policy", data=FORM | form | {"comment": "ошибка"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in page
    assert revisions() == 0
    assert 'value="ошибка"' in page  # the form keeps what was typed


def test_a_stored_revision_breaking_a_rule_is_refused_by_the_service(app: Flask) -> None:
    with pytest.raises(PolicyError, match="attempt_policy"):
        save_revision({"default": DEFAULT, "attempt_policy": "highest"}, "Иванова", "")
    with pytest.raises(PolicyError, match=r"default\.risk_below: порог риска — доля от 0 до 1"):
        save_revision({"default": DEFAULT | {"risk_below": 70}}, "Иванова", "")
    assert revisions() == 0


def test_the_file_is_the_fallback_and_a_revision_takes_precedence(
        app: Flask, tmp_path: Path) -> None:
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text('[frameworks.PKU-2026]\nlabel = "Рамка ПКУ"\ndeficit_below = 0.45\n',
                          encoding="utf-8")
    settings = settings_of(app).replace(thresholds_file=str(thresholds))
    assert policy_source(settings) == ("файл порогов на сервере (задаёт администратор) "
                                       "(пороги по умолчанию: настройки по умолчанию)")
    changed = settings.replace(deficit_below=0.4, attempt_policy="best")
    assert policy_source(changed).endswith(
        "(пороги по умолчанию: настройки сервера (порог дефицита, правило попыток))")
    assert load_policy(settings).frameworks["PKU-2026"].deficit_below == 0.45
    save_revision({"default": DEFAULT | {"deficit_below": 0.4}}, "Иванова", "без рамок")
    assert load_policy(settings).frameworks == {}
    assert load_policy(settings).default.deficit_below == 0.4


def test_without_a_usable_database_the_file_and_settings_apply(tmp_path: Path) -> None:
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[groups.subject]\ndeficit_below = 0.6\nrisk_below = 0.8\n",
                          encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}",
                        thresholds_file=str(thresholds), deficit_below=0.4)
    assert load_policy(settings).groups["subject"].risk_below == 0.8  # no app context
    with create_app(settings, {"TESTING": True}).app_context():  # no schema yet
        assert load_policy(settings).default.deficit_below == 0.4
        assert policy_source(settings).startswith("файл порогов на сервере")
        db.session.remove()
        db.engine.dispose()


def test_recompute_without_a_diagnostic_says_what_to_run(signed_in_client: FlaskClient) -> None:
    answer = signed_in_client.post("/policy/recompute")
    assert answer.status_code == 409 and "profroute sync" in answer.get_data(as_text=True)


def test_the_form_starts_from_the_policy_in_force(signed_in_client: FlaskClient) -> None:
    save_revision({"default": DEFAULT, "groups": {"subject": {"label": "Предметный блок",
                                                              "risk_below": 0.75}},
                   "attempt_policy": "best"}, "Иванова", "")
    page = signed_in_client.get("/policy").get_data(as_text=True)
    assert re.search(r'<option value="best" selected>', page)
    assert 'name="deficit_below" value="50"' in page
    assert 'name="groups-0-key" value="subject"' in page
    assert 'name="groups-0-label" value="Предметный блок"' in page
    assert 'name="groups-0-risk_below" value="75"' in page
    assert 'name="groups-0-deficit_below" value=""' in page  # not set: the default


def test_the_planners_weights_are_set_in_the_form_shown_and_kept_by_the_next_revision(
        signed_in_client: FlaskClient) -> None:
    page = signed_in_client.get("/policy").get_data(as_text=True)
    assert "Подбор маршрутов: веса и ограничения" in page
    assert "<code>partner_bonus</code></td><td>0,15 <span class=\"muted\">(по умолчанию)" in page
    saved = signed_in_client.post("/policy", data=FORM | {
        "overrides": "[matching]\npartner_bonus = 0.3\nhours_cap = 36\n"}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Сохранена редакция №1" in page
    assert "<code>partner_bonus</code></td><td>0,3</td>" in page
    assert "<code>hours_cap</code></td><td>36</td>" in page
    assert 'name="matching-hours_cap" value="36"' in page  # the form keeps them
    assert 'name="matching-partner_bonus" value="0,3"' in page
    refused = signed_in_client.post("/policy", data=FORM | {
        "overrides": "[matching]\nitem_penalty = -1\n"})
    assert refused.status_code == 422 and revisions() == 1
    assert "matching.item_penalty" in refused.get_data(as_text=True)


def test_group_thresholds_competency_groups_and_weights_are_form_fields(
        signed_in_client: FlaskClient) -> None:
    one_teacher_two_attempts()
    db.session.commit()
    page = signed_in_client.get("/policy").get_data(as_text=True)
    assert "<textarea" not in page  # no TOML to write
    assert 'name="groups-0-key"' in page and 'name="cg-PK-01"' in page
    saved = signed_in_client.post("/policy", data=FORM | {
        "overrides": "", "structured": "1",
        "groups-0-key": "subject", "groups-0-label": "Предметный блок",
        "groups-0-deficit_below": "55", "groups-0-risk_below": "80",
        "groups-1-key": "", "frameworks-0-key": "PKU-2026", "frameworks-0-min_questions": "3",
        "cg-PK-01": "subject", "cg-PK-02": "", "matching-effect_weight": "0,25",
        "matching-max_items_per_competency": "2"}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "Сохранена редакция №1" in page
    document = db.session.scalars(select(PolicyRevision)).one().document
    assert document["groups"] == {"subject": {"label": "Предметный блок",
                                              "deficit_below": 0.55, "risk_below": 0.8}}
    assert document["frameworks"] == {"PKU-2026": {"min_questions": 3.0}}
    assert document["competency_groups"] == {"PK-01": "subject"}
    assert document["matching"] == {"effect_weight": 0.25, "max_items_per_competency": 2}
    # The page shows the revision in the fields, with blank rows to add more.
    assert 'name="groups-0-deficit_below" value="55"' in page
    assert 'name="groups-2-key" value=""' in page and 'name="groups-3-key"' not in page
    assert 'name="cg-PK-01" value="subject"' in page


@pytest.mark.parametrize(("fields", "said"), [
    ({"groups-0-deficit_below": "55"}, "Группа, строка 0: группа без ключа"),
    ({"groups-0-key": "subject", "groups-0-deficit_below": "много"},
     "Группа «subject», порог дефицита: «много» — не число"),
    ({"groups-0-key": "subject", "groups-0-risk_below": "120"},
     "Группа «subject», порог риска: укажите процент от 0 до 100"),
    ({"matching-item_penalty": "-1"}, "Подбор маршрутов, штраф за каждую позицию маршрута"),
    ({"matching-effect_weight": "2"}, "ожидается число от 0 до 1"),
])
def test_a_refused_field_is_named_in_russian_and_nothing_is_saved(
        signed_in_client: FlaskClient, fields: dict[str, str], said: str) -> None:
    refused = signed_in_client.post("/policy", data=FORM | {"structured": "1", **fields})
    assert refused.status_code == 422 and revisions() == 0
    page = refused.get_data(as_text=True)
    assert said in page
    for name, value in fields.items():  # what was typed stays in the form
        assert f'name="{name}" value="{value}"' in page
