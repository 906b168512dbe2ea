"""Stored levels read into frames: the same on both backends (PostgreSQL reads them with
COPY, SQLite as rows), NULLs missing, text kept as text, scope and teacher honoured."""

from __future__ import annotations

import math

import pandas as pd
from flask import Flask

from app.accounts.roles import Scope
from app.analyse.outcomes import levels_frame
from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Municipality, School, Teacher


def world() -> tuple[Diagnostic, Municipality]:
    """Two municipalities' schools (one coded with a comma and a quote), a teacher without a
    school, competencies named NA and with a comma; one score NULL."""
    north, south = Municipality(name="Север"), Municipality(name="Юг")
    odd = School(code='S,1"', name="Школа, «кавычки»", municipality=north)
    plain = School(code="NA", name="Школа NA", municipality=south)
    people = [Teacher(moodle_user_id=n, lastname=f"Т{n}", firstname="А", username=f"t{n}",
                      school=school) for n, school in ((1, odd), (2, plain), (3, None))]
    na, comma = Competency(idnumber="NA", name="NA"), Competency(idnumber="PK,2", name="К")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    db.session.add_all([odd, plain, *people, na, comma, entry])
    db.session.flush()
    for person in people:
        for competency, score in ((na, None if person.moodle_user_id == 2 else 0.125),
                                  (comma, 1 / 3)):
            db.session.add(Deficit(diagnostic_id=entry.id, teacher_id=person.id,
                                   competency_id=competency.id, score=score,
                                   level="insufficient" if score is None else "deficit",
                                   questions=2.5))
    db.session.commit()
    return entry, north


def test_levels_and_teachers_read_alike_on_both_backends(app: Flask) -> None:
    entry, north = world()
    levels, teachers = levels_frame(entry)
    rows = sorted(levels.itertuples(index=False), key=lambda r: (r.user_id, r.competency))
    ids = {t.moodle_user_id: t.id for t in db.session.query(Teacher)}
    assert [(r.user_id, r.competency, r.level, r.questions) for r in rows] == [
        (ids[1], "NA", "deficit", 2.5), (ids[1], "PK,2", "deficit", 2.5),
        (ids[2], "NA", "insufficient", 2.5), (ids[2], "PK,2", "deficit", 2.5),
        (ids[3], "NA", "deficit", 2.5), (ids[3], "PK,2", "deficit", 2.5)]
    assert rows[0].score == 0.125 and rows[1].score == 1 / 3  # exactly, not rounded
    assert math.isnan(rows[2].score)  # NULL: missing
    assert str(levels["score"].dtype) == "float64" and str(levels["user_id"].dtype) == "int64"
    codes = dict(zip(teachers["user_id"], teachers["school_code"], strict=True))
    assert codes[ids[1]] == 'S,1"' and codes[ids[2]] == "NA" and pd.isna(codes[ids[3]])
    # a municipality's scope: its teachers only; one teacher: theirs only
    scoped, people = levels_frame(entry, scope=Scope(False, frozenset({north.id}), None))
    assert set(scoped["user_id"]) == {ids[1]} and list(people["user_id"]) == [ids[1]]
    own, _ = levels_frame(entry, teacher_id=ids[2])
    assert set(own["user_id"]) == {ids[2]} and len(own) == 2


def test_a_diagnostic_without_levels_reads_as_empty_frames(app: Flask) -> None:
    entry, north = world()
    empty = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    db.session.add(empty)
    db.session.commit()
    levels, _ = levels_frame(empty)
    assert levels.empty and list(levels.columns) == [
        "user_id", "competency", "score", "level", "questions"]
    _, nobody = levels_frame(entry, scope=Scope(False, frozenset({-1}), None))
    assert nobody.empty
