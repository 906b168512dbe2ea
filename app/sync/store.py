"""Sync storage: teachers, attempts with their marks, mappings seen, course completions."""

from __future__ import annotations

import logging
from collections.abc import Sequence

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
from app.models.assessment import utcnow
from app.sync.structure import GRADE_ITEM, SLOT, SyncSummary
from courses.records import CourseCompletion as CompletionRecord
from deficits import records as rec
from deficits.mapping import competency_of_item

logger = logging.getLogger(__name__)


# Teacher fields Moodle 4.5 leaves out of ``core_enrol_get_enrolled_users``, WITHOUT an
# error, for a role lacking a capability (``user_get_user_details``), with what shows them.
WITHHELD_BY: dict[str, tuple[str, str]] = {
    "username": ("moodle/user:viewalldetails", "user/lib.php:375-378"),
    "firstname": ("moodle/site:viewfullnames", "user/lib.php:380-387"),
    "lastname": ("moodle/site:viewfullnames", "user/lib.php:380-387"),
    "email": ("moodle/site:viewuseridentity", "user/lib.php:495-505 (showuseridentity)"),
    "idnumber": ("moodle/site:viewuseridentity", "user/lib.php:515-519 (showuseridentity)"),
    "school": ("moodle/user:viewalldetails",
               "user/profile/lib.php:458-494 (a profile field not visible to everyone)"),
    "subjects": ("moodle/user:viewalldetails",
                 "user/profile/lib.php:458-494 (a profile field not visible to everyone)"),
}
_REQUIRED = frozenset({"username", "firstname", "lastname"})  # never empty in Moodle
_PULLED = {"username": lambda t: t.username, "firstname": lambda t: t.firstname,
           "lastname": lambda t: t.lastname, "email": lambda t: t.email,
           "idnumber": lambda t: t.idnumber, "school": lambda t: t.school_code,
           "subjects": lambda t: t.subjects}
_STORED = {**_PULLED, "school": lambda r: r.school_id}


def withheld_fields(page: Sequence[rec.Teacher], summary: SyncSummary) -> frozenset[str]:
    """The fields Moodle withheld from this page of users rather than left empty; each is
    reported once in ``summary.withheld`` with the capability that shows it.

    A field is withheld when no user of the page has it and it is one Moodle never leaves
    empty, or ProfRoute holds a value for one of these users: the role lost the capability
    (or Moodle emptied it for every one of them, which the report lets a person tell).
    """
    if not page:
        return frozenset()
    ids = [t.moodle_user_id for t in page]
    stored = list(db.session.scalars(select(Teacher).where(Teacher.moodle_user_id.in_(ids))))
    withheld = frozenset(
        name for name, value in _PULLED.items()
        if not any(value(t) for t in page)
        and (name in _REQUIRED or any(_STORED[name](row) for row in stored)))
    for name in sorted(withheld):
        capability, source = WITHHELD_BY[name]
        line = (f"{name}: Moodle не вернул это поле ни одному из пользователей — у роли "
                f"ProfRoute нет права {capability} ({source} Moodle 4.5); прежние значения "
                "сохранены, пустые не записаны: выдайте право роли ProfRoute")
        if line not in summary.withheld:
            logger.warning("sync: Moodle withheld %s (needs %s)", name, capability)
            summary.withheld.append(line)
    return withheld


def upsert_teacher(teacher: rec.Teacher, scored: bool, summary: SyncSummary,
                   withheld: frozenset[str] = frozenset()) -> Teacher:
    """The Teacher row for a Moodle user; a missing school is reported, not invented.

    The ``withheld`` fields (see :func:`withheld_fields`) keep their stored values.
    """
    row = get_or_create(Teacher, moodle_user_id=teacher.moodle_user_id)
    for name in ("username", "email", "idnumber", "lastname", "firstname"):
        if name not in withheld:
            setattr(row, name, getattr(teacher, name))
    row.middlename = teacher.middlename
    if "subjects" not in withheld:
        row.subjects = ", ".join(teacher.subjects)
    row.inactive_since = None if scored else (row.inactive_since or utcnow())
    row.active = scored
    if "school" not in withheld:
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
                           .values(active=False, inactive_since=utcnow()))
    return len(gone)
