"""The teacher page does a fixed amount of database work whatever the number of teachers, and
its stored risk-group reason and entry → final change follow every change of their inputs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import delete, event, select, text, update
from support import signed_in

from app import settings_of
from app.analyse.levels import compute_deficits
from app.analyse.revisions import save_revision
from app.analyse.teacher_memo import CHANGES, RISK
from app.common.marker import current_version
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    Deficit,
    Diagnostic,
    Teacher,
    TeacherMemo,
)
from app.sync.structure import GRADE_ITEM

DEFAULT = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0}
COMPETENCIES = (("PK-01", "Предметные знания", "subject"),
                ("PK-02", "Методика обучения", "method"),
                ("PK-03", "Цифровые инструменты", "digital"))
# Marks out of 2 per competency; below 1.0 (50 %) is a deficit. Петрова: "subject" only;
# Сидоров: "method" and "digital"; Орлова: "method" only.
MARKS = {"Петрова": (0.8, 1.8, 1.8), "Сидоров": (1.8, 0.6, 0.8), "Орлова": (1.8, 0.8, 1.6)}
SIDOROV_REASON = "дефициты в 2 группах компетенций («digital», «method»), порог — 2"


def scored(teachers: int, quiz_id: int, kind: str, shift: float = 0.0) -> Diagnostic:
    """A diagnostic whose first three teachers have ``MARKS`` (each + ``shift``) and the
    others alternate between them, scored by the deficits stage."""
    if not db.session.scalar(select(Competency.id).limit(1)):
        db.session.add_all([Competency(idnumber=code, name=name, group=group)
                            for code, name, group in COMPETENCIES])
    names = list(MARKS)
    people = {t.moodle_user_id: t for t in db.session.scalars(select(Teacher))}
    diagnostic = Diagnostic(moodle_quiz_id=quiz_id, moodle_course_id=2, name=kind, kind=kind)
    db.session.add(diagnostic)
    db.session.flush()
    for number in range(teachers):
        teacher = people.get(100 + number)
        if teacher is None:
            teacher = Teacher(moodle_user_id=100 + number, username=f"t{number}",
                              lastname=names[number % 3] if number < 3 else f"Учитель{number}",
                              firstname="Анна")
            db.session.add(teacher)
            db.session.flush()
        marks = MARKS[names[number % 3]]
        db.session.add(Attempt(
            moodle_attempt_id=quiz_id * 10_000 + number, diagnostic_id=diagnostic.id,
            teacher_id=teacher.id, attempt_no=1, state="finished", time_finish=1_760_000_000,
            sumgrades=sum(marks) + 3 * shift,
            results=[AttemptResult(source=GRADE_ITEM, key=f"{code} {name}", mark=mark + shift,
                                   max_mark=2.0)
                     for (code, name, _), mark in zip(COMPETENCIES, marks, strict=True)]))
    db.session.commit()
    compute_deficits(diagnostic, settings_of(current_app))
    return diagnostic


@dataclass
class Work:
    """Statements sent and SQLite virtual-machine steps (in thousands) they took."""

    statements: int = 0
    steps: int = 0


@contextmanager
def database_work() -> Iterator[Work]:
    """Count the statements and, on SQLite, the VM steps: a scan of every teacher's levels
    costs steps in proportion to the teachers; an index lookup does not."""
    work = Work()
    handled: list[Any] = []

    def step() -> int:
        work.steps += 1
        return 0  # go on

    def counted(conn: Any, *_: Any) -> None:
        work.statements += 1
        raw = conn.connection.driver_connection
        if db.engine.dialect.name == "sqlite" and raw not in handled:
            raw.set_progress_handler(step, 1000)
            handled.append(raw)

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        yield work
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
        for raw in handled:
            raw.set_progress_handler(None, 1000)


def page_work(client: FlaskClient, moodle_user_id: int) -> tuple[Work, str]:
    client.get(f"/teachers/{moodle_user_id}")  # the session's own first queries, the warm-up
    with database_work() as work:
        answer = client.get(f"/teachers/{moodle_user_id}")
    assert answer.status_code == 200
    return work, answer.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_teacher_page_work_does_not_grow_with_the_teachers(make_app: Any,
                                                               database_url: str) -> None:
    measured = {}
    for teachers in (50, 500):
        app = make_app(database_url=database_url.replace("profroute.db", f"{teachers}.db"))
        with app.app_context():
            scored(teachers, 11, "entry")
            scored(teachers, 12, "final")  # the same marks: Сидоров stays in the risk group
            client = signed_in(app)
            measured[teachers] = page_work(client, 101)  # Сидоров
    (small, page_small), (large, page_large) = measured[50], measured[500]
    assert SIDOROV_REASON in page_small and SIDOROV_REASON in page_large
    assert "Входная → итоговая" in page_large  # the change is on the page too
    assert small.statements == large.statements
    # The change counters (one query, which also validates the sign-in check's copy of the
    # account), the teacher and school, the levels of the latest diagnostics, the stored
    # results, the needs left uncovered, the routes (with their items' events): the account,
    # policy, competencies and diagnostics come from the worker's own copy while the counters
    # stay the same.
    assert large.statements == 6, large
    # Ten times the teachers: the old page (the whole population's risk group on every
    # view) took about ten times the steps; an index lookup takes the same.
    assert large.steps <= small.steps * 1.2 + 2, (small, large)


def test_the_stored_reason_is_what_the_page_shows_and_a_policy_revision_replaces_it(
        app: Flask, signed_in_client: FlaskClient) -> None:
    diagnostic = scored(3, 11, "entry")
    sidorov = db.session.scalars(select(Teacher).filter_by(lastname="Сидоров")).one()
    stored = db.session.get(TeacherMemo, (RISK, diagnostic.id, sidorov.id))
    assert stored is not None and stored.value == {"reason": SIDOROV_REASON}
    # The page shows the stored row (it does not recompute the group on each view) ...
    db.session.execute(update(TeacherMemo).where(
        TeacherMemo.kind == RISK, TeacherMemo.teacher_id == sidorov.id).values(
        value={"reason": "сохранённая причина"}))
    db.session.commit()
    assert "сохранённая причина" in signed_in_client.get("/teachers/101").get_data(as_text=True)

    # ... until the policy changes: one group is not enough under min_groups 3.
    save_revision({"default": DEFAULT, "risk": {"min_groups": 3, "groups": []}}, "Иванова", "")
    page = signed_in_client.get("/teachers/101").get_data(as_text=True)
    assert "Группа риска" not in page and "сохранённая причина" not in page
    orlova = signed_in_client.get("/teachers/102").get_data(as_text=True)
    assert "Группа риска" not in orlova
    save_revision({"default": DEFAULT, "risk": {"min_groups": 3, "groups": ["method"]}},
                  "Иванова", "")
    orlova = signed_in_client.get("/teachers/102").get_data(as_text=True)
    assert ("Группа риска:</b> дефицит в группе «method» (всегда группа риска)") in orlova
    # A competency moved to another group by the policy counts there.
    save_revision({"default": DEFAULT, "risk": {"min_groups": 2, "groups": []},
                   "competency_groups": {"PK-03": "method"}}, "Иванова", "")
    page = signed_in_client.get("/teachers/101").get_data(as_text=True)
    assert "Группа риска" not in page  # both deficits are in "method" now


def test_new_levels_replace_the_stored_reason_and_change(
        app: Flask, signed_in_client: FlaskClient) -> None:
    entry = scored(3, 11, "entry")
    final = scored(3, 12, "final", shift=1.2)
    page = signed_in_client.get("/teachers/101").get_data(as_text=True)
    assert "Группа риска" not in page  # every final mark is 1.8 or more: no deficit left
    assert page.count("дефицит закрыт") == 2  # PK-02 and PK-03
    sidorov = db.session.scalars(select(Teacher).filter_by(lastname="Сидоров")).one()

    # The final test rescored lower: the deficits stage replaces the stored results.
    db.session.execute(update(AttemptResult).where(AttemptResult.attempt_id.in_(
        select(Attempt.id).where(Attempt.diagnostic_id == final.id))).values(
        mark=AttemptResult.mark - 1.2))
    db.session.commit()
    compute_deficits(final, settings_of(app))
    page = signed_in_client.get("/teachers/101").get_data(as_text=True)
    assert f"Группа риска:</b> {SIDOROV_REASON}" in page
    assert "дефицит закрыт" not in page

    # Levels changed outside the stage (a teacher's levels erased): the page follows too.
    db.session.execute(delete(Deficit).where(Deficit.teacher_id == sidorov.id))
    db.session.commit()
    page = signed_in_client.get("/teachers/101").get_data(as_text=True)
    assert "Группа риска" not in page and "Входная → итоговая" not in page
    assert "Нет завершённых попыток." in page
    memo = db.session.get(TeacherMemo, (CHANGES, final.id, sidorov.id))
    assert memo is not None and memo.value == {}
    assert entry.id != final.id


def test_a_change_made_through_another_process_shows_on_the_next_page(
        make_app: Any, database_url: str) -> None:
    """Two apps on one database stand for two gunicorn workers (or a worker and the CLI):
    what one keeps of the policy, the competencies and the diagnostics follows a change
    another commits, from the very next request."""
    writer = make_app(database_url=database_url)
    reader = make_app(database_url=database_url)
    with writer.app_context():
        scored(3, 11, "entry")
    with reader.app_context():
        client = signed_in(reader)
        assert SIDOROV_REASON in client.get("/teachers/101").get_data(as_text=True)
        kept_at = current_version()
        db.session.rollback()
        # Served again from the reader's own copy: nothing changed.
        assert SIDOROV_REASON in client.get("/teachers/101").get_data(as_text=True)

    with writer.app_context():  # a new policy revision, committed by the other app
        save_revision({"default": DEFAULT, "risk": {"min_groups": 3, "groups": []}},
                      "Иванова", "")
    with reader.app_context():
        assert current_version() != kept_at
        db.session.rollback()
        page = client.get("/teachers/101").get_data(as_text=True)
        assert "Группа риска" not in page and SIDOROV_REASON not in page

    with writer.app_context():  # a competency moved to another group by plain SQL
        save_revision({"default": DEFAULT, "risk": {"min_groups": 1, "groups": []}},
                      "Иванова", "")
    with reader.app_context():
        assert "Группа риска" in client.get("/teachers/102").get_data(as_text=True)  # Орлова
    with writer.app_context():
        db.session.execute(text("UPDATE competency SET group_name = 'subject' "
                                "WHERE idnumber = 'PK-02'"))
        db.session.commit()
    with reader.app_context():
        page = client.get("/teachers/102").get_data(as_text=True)
        assert "группе компетенций («subject»)" in page

    with writer.app_context():  # a newer diagnostic becomes the one the page shows
        scored(3, 12, "final", shift=1.2)
    with reader.app_context():
        page = client.get("/teachers/101").get_data(as_text=True)
        assert "Группа риска" not in page and page.count("дефицит закрыт") == 2


def test_every_write_to_a_watched_table_replaces_the_change_marker(app: Flask) -> None:
    """Migration 0020's triggers: insert, update and delete of each table the workers keep
    replace its change counter."""
    from app.models import CompetencyFramework, LtiPlatform

    seen = {current_version()}

    def changed() -> None:
        db.session.commit()
        version = current_version()
        assert version not in seen, "the change marker did not move (or repeated a value)"
        seen.add(version)

    framework = CompetencyFramework(idnumber="F-1", name="Рамка")
    db.session.add(framework)
    changed()
    competency = Competency(idnumber="PK-09", name="Новая", group="subject",
                            framework_id=framework.id)
    db.session.add(competency)
    changed()
    competency.group = "method"
    changed()
    diagnostic = Diagnostic(moodle_quiz_id=99, moodle_course_id=2, name="entry", kind="entry")
    db.session.add(diagnostic)
    changed()
    db.session.delete(diagnostic)
    changed()
    db.session.add(LtiPlatform(issuer="https://moodle.example", client_id="c",
                               auth_login_url="https://moodle.example/auth",
                               auth_token_url="https://moodle.example/token",
                               key_set_url="https://moodle.example/keys"))
    changed()
    save_revision({"default": DEFAULT}, "Иванова", "")
    changed()
    db.session.execute(delete(Competency).where(Competency.idnumber == "PK-09"))
    changed()
    # Writes elsewhere leave it alone (the teacher's own rows are not kept per worker).
    db.session.add(Teacher(moodle_user_id=5, username="t5", lastname="Л", firstname="А"))
    db.session.commit()
    assert current_version() in seen


def test_a_rolled_back_write_leaves_no_number_a_later_write_repeats(app: Flask) -> None:
    """A transaction that writes, reads the new counters (and could load what it wrote under
    them) and rolls back: the next committed write must not give the same counters — for
    the tables kept per worker and for the deficit map's inputs alike."""
    from app.reports.map_store import marker

    def write(idnumber: str) -> None:
        db.session.add(Competency(idnumber=idnumber, name="Новая", group="subject"))
        db.session.flush()

    db.session.commit()
    write("PK-91")
    seen_version, seen_map = current_version(), marker()
    db.session.rollback()
    write("PK-92")
    db.session.commit()
    assert current_version() != seen_version
    assert marker() != seen_map
