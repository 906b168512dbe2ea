"""Pull from Moodle: teachers, competencies, the diagnostic quiz's attempts, completions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    CompetencyFramework,
    CourseCompletion,
    Diagnostic,
    DiagnosticMapping,
    Municipality,
    Offer,
    OfferCompetency,
    School,
    Teacher,
)
from app.services.moodle import profile_fields
from app.services.store import get_or_create
from app.settings import Settings, SettingsError
from courses.records import MoodleCourse
from deficits import records as rec
from deficits.mapping import competency_of_item
from deficits.slot_table import parse_slot_table
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)
GRADE_ITEM, SLOT = "grade_item", "slot"


@dataclass
class SyncSummary:
    """What a sync pulled and what it found wrong."""

    teachers: int = 0
    not_scored: int = 0
    attempts: int = 0
    completions: int = 0
    competencies: int = 0
    offers_from_moodle: int = 0
    without_school: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    mapping_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain values for the run log and JSON."""
        return dict(self.__dict__)


def sync(api: MoodleAPI, settings: Settings) -> SyncSummary:
    """Pull everything the pipeline needs; re-running it converges to the same data.

    Work is committed teacher by teacher, so a run killed half-way loses nothing and the
    next run finishes it.

    :raise SettingsError: the diagnostic course or quiz named in the settings is not found.
    :raise ConnectorError: Moodle failed (see lms_connectors.exceptions).
    """
    summary = SyncSummary()
    course = find_course(api, settings.diagnostic_course)
    quiz = find_quiz(api, settings, course)
    known = sync_competencies(api, course.course_id, summary)
    diagnostic = upsert_diagnostic(quiz, settings)
    if settings.slot_map:
        load_slot_map(diagnostic, Path(settings.slot_map), known, summary)
    summary.offers_from_moodle = sync_moodle_offers(api, settings)
    resolve_offer_courses(api)
    db.session.commit()
    seen: set[int] = set()
    for teacher in api.enrolled_users(course.course_id, fields=profile_fields(settings),
                                      page_size=settings.page_size):
        scored = settings.student_role in teacher.roles
        row = upsert_teacher(teacher, scored, summary)
        seen.add(teacher.moodle_user_id)
        if scored:
            summary.teachers += 1
            summary.attempts += sync_attempts(api, diagnostic, row, known, summary)
            summary.completions += sync_completions(api, row)
        else:
            summary.not_scored += 1
        db.session.commit()
    _deactivate_missing(seen)
    db.session.commit()
    summary.unmapped = sorted(set(summary.unmapped))
    return summary


def find_course(api: MoodleAPI, ref: str) -> MoodleCourse:
    """The course by id (digits) or shortname.

    :raise SettingsError: no such course.
    """
    field_name = "id" if ref.isdigit() else "shortname"
    found = api.courses_by_field(field_name, ref)
    if not found:
        raise SettingsError(
            f"diagnostic course {ref!r} not found in Moodle (by {field_name}): set "
            "PROFROUTE_DIAGNOSTIC_COURSE to the course id or shortname holding the quiz")
    return found[0]


def find_quiz(api: MoodleAPI, settings: Settings, course: MoodleCourse) -> rec.QuizInfo:
    """The diagnostic quiz: by id or name, or the course's only quiz.

    :raise SettingsError: no quiz, or several and none chosen.
    """
    quizzes = api.quizzes([course.course_id])
    ref = settings.diagnostic_quiz.strip()
    if ref:
        chosen = [q for q in quizzes if str(q.quiz_id) == ref or q.name == ref]
    else:
        chosen = quizzes if len(quizzes) == 1 else []
    if len(chosen) != 1:
        names = "; ".join(f"{q.quiz_id}: {q.name}" for q in quizzes) or "none"
        raise SettingsError(
            f"cannot pick the diagnostic quiz in course {course.shortname!r} "
            f"(quizzes: {names}): set PROFROUTE_DIAGNOSTIC_QUIZ to the quiz id")
    return chosen[0]


def sync_competencies(api: MoodleAPI, course_id: int, summary: SyncSummary) -> set[str]:
    """Upsert the competencies linked to the diagnostic course; return their idnumbers."""
    found = api.course_competencies(course_id)
    for comp in found:
        framework = None
        if comp.framework_idnumber:
            framework = get_or_create(CompetencyFramework, idnumber=comp.framework_idnumber)
        row = get_or_create(Competency, idnumber=comp.idnumber)
        row.name = comp.name or row.name
        row.moodle_id = comp.moodle_id
        if comp.group:
            row.group = comp.group
        if framework is not None:
            row.framework = framework
    summary.competencies = len(found)
    known = set(db.session.scalars(select(Competency.idnumber)))
    return known


def upsert_diagnostic(quiz: rec.QuizInfo, settings: Settings) -> Diagnostic:
    """The Diagnostic row for the quiz."""
    row = get_or_create(Diagnostic, moodle_quiz_id=quiz.quiz_id,
                         defaults={"moodle_course_id": quiz.course_id})
    row.moodle_course_id = quiz.course_id
    row.moodle_cmid = quiz.cmid
    row.name = quiz.name
    row.grademethod = quiz.grademethod
    row.kind = settings.diagnostic_kind
    db.session.flush()
    return row


def load_slot_map(diagnostic: Diagnostic, path: Path, known: set[str],
                  summary: SyncSummary) -> None:
    """Store the slot → competency table; refused rows and unknown competencies are reported.

    :raise SettingsError: the file cannot be read.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SettingsError(f"PROFROUTE_SLOT_MAP: cannot read {path}: {err.strerror}") from err
    table, errors = parse_slot_table(data)
    summary.mapping_errors += [f"{path.name}, row {e.row}: {e.message}" for e in errors]
    canonical = {k.casefold(): k for k in known}
    for slot, comp in sorted(table.items()):
        idnumber = canonical.get(comp.casefold())
        if idnumber is None:
            summary.mapping_errors.append(
                f"{path.name}: slot {slot} names {comp}, which is not a competency of the "
                "diagnostic course")
            continue
        row = get_or_create(DiagnosticMapping, diagnostic_id=diagnostic.id, source=SLOT,
                            key=str(slot))
        row.competency_id = db.session.scalar(
            select(Competency.id).where(Competency.idnumber == idnumber))


def sync_moodle_offers(api: MoodleAPI, settings: Settings) -> int:
    """With no catalogue, every PD-category course with competencies becomes an offer."""
    if settings.catalogue_dir or not settings.pd_category:
        return 0
    count = 0
    for course in api.courses_by_field("category", settings.pd_category):
        comps = [c.idnumber for c in api.course_competencies(course.course_id)]
        if not comps:
            continue
        offer = get_or_create(Offer, key=f"moodle-{course.course_id}",
                               defaults={"kind": "course", "title": course.fullname})
        offer.title, offer.source = course.fullname, "moodle"
        offer.moodle_course_id, offer.moodle_course_shortname = course.course_id, course.shortname
        link_competencies(offer, comps)
        count += 1
    return count


def resolve_offer_courses(api: MoodleAPI) -> None:
    """Find the Moodle course id of catalogue offers that name a course by shortname."""
    pending = db.session.scalars(select(Offer).where(
        Offer.moodle_course_shortname.is_not(None), Offer.moodle_course_id.is_(None)))
    for offer in pending:
        found = api.courses_by_field("shortname", offer.moodle_course_shortname or "")
        if found:
            offer.moodle_course_id = found[0].course_id
        else:
            logger.warning("offer %s: Moodle course %r not found", offer.key,
                           offer.moodle_course_shortname)


def link_competencies(offer: Offer, idnumbers: list[str]) -> None:
    """Set the offer's competencies, creating unknown ones by idnumber."""
    db.session.flush()
    wanted = {get_or_create(Competency, idnumber=i).id for i in idnumbers}
    db.session.flush()
    have = set(db.session.scalars(select(OfferCompetency.competency_id).where(
        OfferCompetency.offer_id == offer.id)))
    for comp_id in wanted - have:
        db.session.add(OfferCompetency(offer_id=offer.id, competency_id=comp_id))
    for comp_id in have - wanted:
        db.session.delete(db.session.get(OfferCompetency, (offer.id, comp_id)))


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


def sync_attempts(api: MoodleAPI, diagnostic: Diagnostic, teacher: Teacher, known: set[str],
                  summary: SyncSummary) -> int:
    """Store the teacher's finished attempts and marks; drop those Moodle no longer has."""
    attempts = [a for a in api.user_attempts(diagnostic.moodle_quiz_id, teacher.moodle_user_id)
                if a.is_scorable]
    kept: set[int] = set()
    for attempt in attempts:
        if not attempt.item_marks:
            attempt = api.attempt_review(attempt.attempt_id)
            if not attempt.is_scorable:
                continue
        store_attempt(diagnostic, teacher, attempt)
        record_mapping(diagnostic, attempt, known, summary)
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
    marks = {(GRADE_ITEM, m.name): (m.grade, m.maxgrade) for m in attempt.item_marks}
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


def record_mapping(diagnostic: Diagnostic, attempt: rec.QuizAttempt, known: set[str],
                   summary: SyncSummary) -> None:
    """Map grade items to competencies by name; report what maps to nothing."""
    explicit = _explicit_mapping(diagnostic.id, GRADE_ITEM)
    for item in attempt.item_marks:
        idnumber = competency_of_item(item.name, known, explicit)
        if idnumber is None:
            summary.unmapped.append(f"grade item {item.name!r}")
        _ensure_mapping(diagnostic.id, GRADE_ITEM, item.name, idnumber)
    if not attempt.item_marks:
        slots = _explicit_mapping(diagnostic.id, SLOT)
        for slot in attempt.slot_marks:
            if str(slot.slot) not in slots:
                summary.unmapped.append(f"slot {slot.slot}")
                _ensure_mapping(diagnostic.id, SLOT, str(slot.slot), None)


def _explicit_mapping(diagnostic_id: int, source: str) -> dict[str, str]:
    rows = db.session.execute(
        select(DiagnosticMapping.key, Competency.idnumber)
        .join(Competency, Competency.id == DiagnosticMapping.competency_id)
        .where(DiagnosticMapping.diagnostic_id == diagnostic_id,
               DiagnosticMapping.source == source))
    return {key: idnumber for key, idnumber in rows.all()}  # noqa: C416


def _ensure_mapping(diagnostic_id: int, source: str, key: str, idnumber: str | None) -> None:
    row = get_or_create(DiagnosticMapping, diagnostic_id=diagnostic_id, source=source, key=key)
    if row.competency_id is None and idnumber is not None:
        row.competency_id = db.session.scalar(
            select(Competency.id).where(Competency.idnumber == idnumber))


def sync_completions(api: MoodleAPI, teacher: Teacher) -> int:
    """Store the teacher's course completions (one call for all their courses)."""
    count = 0
    for completion in api.user_courses(teacher.moodle_user_id):
        row = get_or_create(CourseCompletion, teacher_id=teacher.id,
                             moodle_course_id=completion.course_id)
        row.completed, row.progress = completion.completed, completion.progress
        row.time_completed = completion.time_completed
        count += int(completion.completed)
    return count


def _deactivate_missing(seen: set[int]) -> None:
    for row in db.session.scalars(select(Teacher).where(Teacher.active.is_(True))):
        if row.moodle_user_id not in seen:
            row.active = False

