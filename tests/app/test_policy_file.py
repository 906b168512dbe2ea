"""The thresholds file becomes a policy revision when a run stores levels and the file changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import settings_of
from app.analyse.levels import compute_deficits, recompute_all
from app.analyse.policy import (
    attempt_policy_of,
    import_thresholds_file,
    load_policy,
    policy_overview,
    risk_rule,
)
from app.analyse.revisions import save_revision
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    Deficit,
    Diagnostic,
    PolicyRevision,
    Teacher,
)
from app.settings import SettingsError
from app.sync.structure import GRADE_ITEM
from deficits.risk import RiskRule

DEFAULT = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0}
SUBJECT = ('[competency_groups]\nPK-01 = "subject"\n\n[groups.subject]\n'
           'label = "Предметный блок"\ndeficit_below = {low}\nrisk_below = 0.8\n')


def one_teacher() -> Diagnostic:
    """One finished attempt: PK-01 1.2 of 2 (60 %), PK-02 1.8 of 2 (90 %)."""
    db.session.add_all([Competency(idnumber="PK-01", name="Предметные знания"),
                        Competency(idnumber="PK-02", name="Методика обучения")])
    diagnostic = Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная диагностика",
                            grademethod=1)
    teacher = Teacher(moodle_user_id=101, username="t1", lastname="Петрова", firstname="Анна")
    db.session.add_all([diagnostic, teacher])
    db.session.flush()
    db.session.add(Attempt(
        moodle_attempt_id=501, diagnostic_id=diagnostic.id, teacher_id=teacher.id,
        attempt_no=1, state="finished", time_finish=1_760_000_000, sumgrades=3.0, results=[
            AttemptResult(source=GRADE_ITEM, key="PK-01 Предметные знания", mark=1.2,
                          max_mark=2.0),
            AttemptResult(source=GRADE_ITEM, key="PK-02 Методика обучения", mark=1.8,
                          max_mark=2.0)]))
    db.session.commit()
    return diagnostic


def levels() -> dict[str, str]:
    db.session.expire_all()
    return dict(db.session.execute(select(Competency.idnumber, Deficit.level)
                                   .join(Deficit, Deficit.competency_id == Competency.id)).all())


def authors() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(PolicyRevision.author).order_by(PolicyRevision.id)))


def test_the_file_is_imported_when_it_changed_and_a_later_revision_stays_in_force(
        app: Flask, tmp_path: Path) -> None:
    diagnostic = one_teacher()
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(SUBJECT.format(low=0.65), encoding="utf-8")
    settings = settings_of(app).replace(thresholds_file=str(thresholds))
    imported = f"файл порогов {thresholds}"

    compute_deficits(diagnostic, settings)
    assert levels() == {"PK-01": "deficit", "PK-02": "ok"}  # 60 % < 65 % of "subject"
    assert authors() == [imported]
    revision = db.session.scalars(select(PolicyRevision)).one()
    assert "в базе ещё не было политики" in revision.comment
    assert revision.document["groups"] == {"subject": {"label": "Предметный блок",
                                                       "deficit_below": 0.65,
                                                       "risk_below": 0.8}}
    assert revision.document["default"] == DEFAULT  # the settings' defaults, inherited
    compute_deficits(diagnostic, settings)
    assert authors() == [imported]  # unchanged: nothing imported again

    save_revision({"default": DEFAULT | {"deficit_below": 0.65, "risk_below": 0.95}},
                  "Иванова", "без групп")
    assert "error" not in recompute_all(settings)[0]  # «Пересчитать дефициты», with the file
    assert authors() == [imported, "Иванова"]  # the file did not change: Иванова's applies
    assert levels() == {"PK-01": "deficit", "PK-02": "risk"}  # 90 % < 95 %

    thresholds.write_text(SUBJECT.format(low=0.55), encoding="utf-8")
    compute_deficits(diagnostic, settings)
    assert authors() == [imported, "Иванова", imported]  # edited: the file applies again
    assert levels() == {"PK-01": "risk", "PK-02": "ok"}
    newest = db.session.scalars(select(PolicyRevision).order_by(PolicyRevision.id.desc())
                                ).first()
    assert "изменилась с прошлого импорта" in newest.comment


def test_settings_alone_import_nothing_and_an_equal_revision_is_not_repeated(
        app: Flask, tmp_path: Path) -> None:
    diagnostic = one_teacher()
    compute_deficits(diagnostic, settings_of(app).replace(deficit_below=0.65))
    assert authors() == [] and levels() == {"PK-01": "deficit", "PK-02": "ok"}

    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(SUBJECT.format(low=0.65), encoding="utf-8")
    settings = settings_of(app).replace(thresholds_file=str(thresholds))
    document = {"default": DEFAULT, "competency_groups": {"PK-01": "subject"},
                "groups": {"subject": {"label": "Предметный блок", "deficit_below": 0.65,
                                       "risk_below": 0.8}}}
    save_revision(document, "Иванова", "то же, что в файле")
    assert import_thresholds_file(settings) is None  # the newest revision already holds it
    assert authors() == ["Иванова"]


def test_every_section_of_a_revision_may_be_in_the_file(app: Flask, tmp_path: Path) -> None:
    one_teacher()
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text('attempt_policy = "last"\n\n[default]\nrisk_below = 0.8\n\n'
                          '[risk]\nmin_groups = 1\ngroups = []\n', encoding="utf-8")
    settings = settings_of(app).replace(thresholds_file=str(thresholds), deficit_below=0.4)
    assert load_policy(settings).default.deficit_below == 0.4  # not in the file: the setting
    assert load_policy(settings).default.risk_below == 0.8
    assert attempt_policy_of(settings) == "last" and risk_rule(settings) == RiskRule(1, ())
    overview = policy_overview(settings)
    assert overview["risk"]["from"] == "file"
    assert overview["risk"]["source"] == "файл порогов на сервере (задаёт администратор)"
    assert str(tmp_path) not in str(overview)  # a methodologist never reads server paths

    revision = import_thresholds_file(settings)
    assert revision is not None and revision.document["risk"] == {"min_groups": 1,
                                                                   "groups": []}
    overview = policy_overview(settings_of(app))  # the file is no longer needed
    assert overview["risk"]["source"] == f"редакция №{revision.id}"
    assert overview["default"] == DEFAULT | {"deficit_below": 0.4, "risk_below": 0.8}


@pytest.mark.parametrize(("text", "setting", "message"), [
    ("[groups.subject]\nlabel = \"Предметный блок\"\n\ndeficit_below = 0.9\n", {},
     "строка 4: groups.subject.deficit_below: порог дефицита (90 %) выше порога риска (70 %)"),
    ("attempt_policy = \"median\"\n", {}, "строка 1: attempt_policy: 'median' — неизвестное"),
    ("[risk]\ngroups = [\"subject\"]\n", {},
     "строка 1: risk.min_groups: число групп с дефицитами — целое число, указано ничего"),
    ("[thresholds]\ndeficit_below = 0.4\n", {}, ": thresholds: неизвестный раздел"),
])
def test_a_refused_file_names_the_field_and_its_line_or_the_setting(
        app: Flask, tmp_path: Path, text: str, setting: dict[str, str], message: str) -> None:
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(text, encoding="utf-8")
    settings = settings_of(app).replace(thresholds_file=str(thresholds), **setting)
    with pytest.raises(SettingsError) as refused:
        import_thresholds_file(settings)
    assert message in str(refused.value)
    assert authors() == []


@pytest.mark.parametrize("with_file", [False, True])
def test_a_bad_setting_is_refused_by_name_before_any_policy_is_read(
        app: Flask, tmp_path: Path, with_file: bool) -> None:
    """The settings model refuses an unknown attempt policy when the settings are built, so
    neither the thresholds file nor the policy is read with it, and nothing is imported."""
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("", encoding="utf-8")
    extra = {"thresholds_file": str(thresholds)} if with_file else {}
    with pytest.raises(SettingsError, match="PROFROUTE_ATTEMPT_POLICY = 'median'"):
        settings_of(app).replace(attempt_policy="median", **extra)
    assert authors() == []
    load_policy(settings_of(app))  # the app's own settings still load a policy
