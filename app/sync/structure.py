"""Sync of the diagnostic's structure: course, quiz, competencies, mappings, Moodle offers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import (
    Competency,
    CompetencyFramework,
    Diagnostic,
    DiagnosticMapping,
    Offer,
    OfferCompetency,
)
from app.models.catalogue import mirror_default_session
from app.settings import Settings, SettingsError
from courses.records import MoodleCourse
from deficits import records as rec
from deficits.mapping import competency_of_question
from deficits.slot_table import parse_slot_table
from lms_connectors.exceptions import AccessDenied, RecordNotFound
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)
GRADE_ITEM, SLOT, QUESTION = "grade_item", "slot", "question"


@dataclass
class SyncSummary(Summary):
    """What a sync pulled, what it cost, and what it found wrong."""

    mode: str = "full"
    teachers: int = 0
    not_scored: int = 0
    deactivated: int = 0
    changed: int = 0
    attempts: int = 0
    completions: int = 0
    ratings: int = 0
    competencies: int = 0
    offers_from_moodle: int = 0
    items_completed: int = 0
    moodle_calls: int = 0
    without_school: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    mapping_errors: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # fields Moodle left out, see store.py



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
    """Upsert the competencies linked to the diagnostic course and their whole frameworks.

    Read through Moodle's own competency API, so a framework the region already defined
    (its groups = parent competencies) is reused as is. Returns the known idnumbers.
    """
    found = api.course_competencies(course_id)
    linked = {c.idnumber for c in found}
    for comp in found:
        _upsert_competency(comp, None)
    for framework in api.frameworks():
        members = api.competencies(framework.framework_id,
                                   framework_idnumber=framework.idnumber)
        if not linked & {c.idnumber for c in members}:
            continue
        row = get_or_create(CompetencyFramework, idnumber=framework.idnumber)
        row.name, row.moodle_id = framework.shortname, framework.framework_id
        for comp in members:
            _upsert_competency(comp, row)
    summary.competencies = len(found)
    return set(db.session.scalars(select(Competency.idnumber)))


def _upsert_competency(comp: rec.Competency, framework: CompetencyFramework | None) -> None:
    row = get_or_create(Competency, idnumber=comp.idnumber)
    row.name = comp.name or row.name
    row.moodle_id = comp.moodle_id
    if comp.group:
        row.group = comp.group
    if framework is not None:
        row.framework = framework


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


def map_slots_by_question(api: MoodleAPI, diagnostic: Diagnostic, known: set[str],
                          summary: SyncSummary) -> None:
    """Map each slot through its question's identity, read by the plugin's function.

    An uploaded question → competency table (source ``question``: by question idnumber or
    name) wins over the question's category, idnumber and tags.
    """
    uploaded = dict(db.session.execute(
        select(DiagnosticMapping.key, Competency.idnumber)
        .join(Competency, Competency.id == DiagnosticMapping.competency_id)
        .where(DiagnosticMapping.diagnostic_id == diagnostic.id,
               DiagnosticMapping.source == QUESTION)).all())
    for slot in api.quiz_slots(diagnostic.moodle_quiz_id):
        found = uploaded.get(slot.idnumber) or uploaded.get(slot.name)
        idnumber, evidence = (found, "table") if found else competency_of_question(
            slot.category_idnumber, slot.idnumber, slot.tags, known)
        if evidence.startswith("conflict"):
            summary.mapping_errors.append(f"slot {slot.slot} ({slot.name}): {evidence}")
        if idnumber is None:
            continue
        row = get_or_create(DiagnosticMapping, diagnostic_id=diagnostic.id, source=SLOT,
                            key=str(slot.slot))
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
        mirror_default_session(offer)
        count += 1
    return count


def resolve_offer_courses(api: MoodleAPI) -> None:
    """Find the Moodle course id of catalogue offers that name a course by shortname; an
    offer delivered in a Moodle course takes the course's competencies when the site links
    any to it (else it keeps the catalogue's)."""
    pending = db.session.scalars(select(Offer).where(
        Offer.moodle_course_shortname.is_not(None), Offer.moodle_course_id.is_(None)))
    for offer in pending:
        found = api.courses_by_field("shortname", offer.moodle_course_shortname or "")
        if found:
            offer.moodle_course_id = found[0].course_id
        else:
            logger.warning("offer %s: Moodle course %r not found", offer.key,
                           offer.moodle_course_shortname)
    linked = db.session.scalars(select(Offer).where(
        Offer.source == "catalogue", Offer.moodle_course_id.is_not(None)))
    for offer in linked:
        try:
            comps = [c.idnumber for c in api.course_competencies(offer.moodle_course_id or 0)]
        except (AccessDenied, RecordNotFound) as err:  # gone or hidden: the catalogue's stay
            logger.warning("offer %s: course competencies not read (%s)", offer.key, err)
            continue
        if comps:
            link_competencies(offer, comps)


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


def sync_structure(api: MoodleAPI, settings: Settings, summary: SyncSummary, *,
                   plugin: bool = False) -> tuple[Diagnostic, set[str]]:
    """Course, quiz, competencies, slot mapping and Moodle offers; return the diagnostic.

    The slot → competency mapping comes from the table in the settings or, with the
    ProfRoute plugin, from each slot's question (category idnumber, idnumber, tags).
    """
    course = find_course(api, settings.diagnostic_course)
    quiz = find_quiz(api, settings, course)
    known = sync_competencies(api, course.course_id, summary)
    diagnostic = upsert_diagnostic(quiz, settings)
    if settings.slot_map:
        load_slot_map(diagnostic, Path(settings.slot_map), known, summary)
    elif plugin:
        map_slots_by_question(api, diagnostic, known, summary)
    summary.offers_from_moodle = sync_moodle_offers(api, settings)
    resolve_offer_courses(api)
    db.session.commit()
    return diagnostic, known
