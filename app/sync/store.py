"""Sync storage: teachers, attempts with their marks, mappings seen, course completions."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from app.common.store import get_or_create
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    CourseCompletion,
    Diagnostic,
    DiagnosticMapping,
    Municipality,
    School,
    Teacher,
)
from app.sync.structure import GRADE_ITEM, SLOT, SyncSummary
from courses.records import CourseCompletion as CompletionRecord
from deficits import records as rec
from deficits.mapping import competency_of_item

logger = logging.getLogger(__name__)


def upsert_teacher(teacher: rec.Teacher, scored: bool, summary: SyncSummary) -> Teacher:
    """The Teacher row for a Moodle user; a missing school is reported, not invented."""
    row = get_or_create(Teacher, moodle_user_id=teacher.moodle_user_id)
    row.username, row.email, row.idnumber = teacher.username, teacher.email, teacher.idnumber
    row.lastname, row.firstname = teacher.lastname, teacher.firstname
    row.middlename = teacher.middlename
    row.subjects = ", ".join(teacher.subjects)
    row.active = scored
    row.school = _school_for(teacher)
    if row.school is None and scored:
        summary.without_school.append(f"{teacher.username} (id {teacher.moodle_user_id})")
    db.session.flush()
    return row


def _school_for(teacher: rec.Teacher) -> School | None:
    if not teacher.school_code:
        return None
    school = get_or_create(School, code=teacher.school_code,
                            defaults={"name": teacher.school_name or teacher.school_code})
    if teacher.school_name and school.name in ("", school.code):
        school.name = teacher.school_name
    if teacher.municipality and school.municipality is None:
        school.municipality = get_or_create(Municipality, name=teacher.municipality)
    return school


def store_attempts(diagnostic: Diagnostic, teacher: Teacher, attempts: list[rec.QuizAttempt],
                   mapper: Mapper) -> int:
    """Store the teacher's scorable attempts and marks; drop those Moodle no longer has."""
    kept: set[int] = set()
    for attempt in attempts:
        if not attempt.is_scorable:
            continue
        store_attempt(diagnostic, teacher, attempt)
        mapper.record(attempt)
        kept.add(attempt.attempt_id)
    stale = select(Attempt).where(Attempt.teacher_id == teacher.id,
                                  Attempt.diagnostic_id == diagnostic.id,
                                  Attempt.moodle_attempt_id.not_in(kept or {-1}))
    for row in db.session.scalars(stale):
        db.session.delete(row)
    return len(kept)


def store_attempt(diagnostic: Diagnostic, teacher: Teacher, attempt: rec.QuizAttempt) -> None:
    """Upsert one attempt and its per-item or per-slot marks."""
    row = get_or_create(Attempt, moodle_attempt_id=attempt.attempt_id, defaults={
        "diagnostic_id": diagnostic.id, "teacher_id": teacher.id,
        "attempt_no": attempt.attempt_no, "state": attempt.state})
    row.diagnostic_id, row.teacher_id = diagnostic.id, teacher.id
    row.attempt_no, row.state = attempt.attempt_no, attempt.state
    row.time_finish, row.sumgrades = attempt.time_finish, attempt.sumgrades
    marks: dict[tuple[str, str], tuple[float | None, float]] = {
        (GRADE_ITEM, m.name): (m.grade, m.maxgrade) for m in attempt.item_marks}
    if not marks:
        marks = {(SLOT, str(s.slot)): (s.mark, s.maxmark) for s in attempt.slot_marks}
    existing = {(r.source, r.key): r for r in row.results}
    for key, (mark, max_mark) in marks.items():
        result = existing.pop(key, None) or AttemptResult(source=key[0], key=key[1], max_mark=0)
        result.mark, result.max_mark = mark, max_mark
        if result.id is None:
            row.results.append(result)
    for stale in existing.values():
        row.results.remove(stale)


class Mapper:
    """Records which competency each grade item or slot measures, once per key per sync.

    Grade items map by name (first token = competency idnumber) unless mapped explicitly;
    slots map only through an explicit table. What maps to nothing is reported.
    """

    def __init__(self, diagnostic: Diagnostic, known: set[str], summary: SyncSummary) -> None:
        self.diagnostic_id = diagnostic.id
        self.known = known
        self.summary = summary
        rows = db.session.execute(
            select(DiagnosticMapping.source, DiagnosticMapping.key, Competency.idnumber)
            .outerjoin(Competency, Competency.id == DiagnosticMapping.competency_id)
            .where(DiagnosticMapping.diagnostic_id == diagnostic.id)).all()
        self.explicit = {GRADE_ITEM: {}, SLOT: {}}  # type: dict[str, dict[str, str]]
        self.stored: dict[tuple[str, str], str | None] = {}
        for source, key, idnumber in rows:
            self.stored[(source, key)] = idnumber
            if idnumber is not None:
                self.explicit[source][key] = idnumber
        self.seen: set[tuple[str, str]] = set()

    def record(self, attempt: rec.QuizAttempt) -> None:
        """Note the attempt's grade items (or slots); store mappings of new keys."""
        if attempt.item_marks:
            for item in attempt.item_marks:
                self._note(GRADE_ITEM, item.name, competency_of_item(
                    item.name, self.known, self.explicit[GRADE_ITEM]))
        else:
            for slot in attempt.slot_marks:
                key = str(slot.slot)
                self._note(SLOT, key, self.explicit[SLOT].get(key))

    def _note(self, source: str, key: str, idnumber: str | None) -> None:
        if (source, key) in self.seen:
            return
        self.seen.add((source, key))
        if idnumber is None:
            label = "grade item" if source == GRADE_ITEM else "slot"
            self.summary.unmapped.append(f"{label} {key!r}" if source == GRADE_ITEM
                                         else f"{label} {key}")
        if (source, key) in self.stored and self.stored[(source, key)] == idnumber:
            return
        row = get_or_create(DiagnosticMapping, diagnostic_id=self.diagnostic_id, source=source,
                            key=key)
        if row.competency_id is None and idnumber is not None:
            row.competency_id = db.session.scalar(
                select(Competency.id).where(Competency.idnumber == idnumber))
        self.stored[(source, key)] = idnumber


def store_completions(teacher_id: int, completions: list[CompletionRecord]) -> int:
    """Upsert a teacher's course completions; return how many are completed."""
    count = 0
    for completion in completions:
        row = get_or_create(CourseCompletion, teacher_id=teacher_id,
                            moodle_course_id=completion.course_id)
        row.completed, row.progress = completion.completed, completion.progress
        row.time_completed = completion.time_completed
        count += int(completion.completed)
    return count


def deactivate_missing(seen: set[int]) -> int:
    """Teachers no longer scored in the diagnostic course stop being active; return how many."""
    gone = [tid for tid, uid in db.session.execute(
        select(Teacher.id, Teacher.moodle_user_id).where(Teacher.active.is_(True))).all()
        if uid not in seen]
    for start in range(0, len(gone), 500):
        db.session.execute(update(Teacher).where(Teacher.id.in_(gone[start:start + 500]))
                           .values(active=False))
    return len(gone)
