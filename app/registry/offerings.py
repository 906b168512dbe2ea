"""Imports the catalogue's offer tables (external courses, internships, mentoring, methodical
events) with their sessions, and the teachers' availability (excluded dates, subjects)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.common import audit
from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import Municipality, Offer, OfferSession, School, Teacher, TeacherUnavailable
from app.models.catalogue import sum_sessions
from app.sync.structure import link_competencies
from courses.catalogue import CatalogueFile
from courses.offer_tables import (
    AVAILABILITY,
    OFFER_TABLES,
    AvailabilityRow,
    OfferSpec,
    read_availability,
    read_offer_table,
)
from tabular import SCHOOL_CODE_PATTERN, RowError

logger = logging.getLogger(__name__)
TABLES = (*OFFER_TABLES, AVAILABILITY)  # the kinds this module imports


@dataclass
class TableSummary(Summary):
    """What one table's import stored and which rows it refused ("row N, field: reason")."""

    kind: str = ""
    offers: int = 0
    sessions: int = 0
    teachers: int = 0
    exclusions: int = 0
    errors: list[str] = field(default_factory=list)
    refused: bool = False
    unread: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


def preview_table(kind: str, data: bytes, *, name: str = "",
                  mapping: Mapping[str, str] | None = None,
                  code_pattern: str = SCHOOL_CODE_PATTERN) -> CatalogueFile[Any]:
    """How ``import_table`` would read a table, storing nothing (unknown schools and
    teachers refused on their row as the import refuses them).

    :raise KeyError: ``kind`` is not one of ``TABLES``.
    """
    if kind == AVAILABILITY:
        found = read_availability(data, name=name, mapping=mapping)
        return _known_teachers(found)[0]
    schools = set(db.session.scalars(select(School.code)))
    return read_offer_table(data, kind, schools=schools, name=name, code_pattern=code_pattern,
                            mapping=mapping)


def import_table(kind: str, data: bytes, *, name: str = "",
                 mapping: Mapping[str, str] | None = None,
                 code_pattern: str = SCHOOL_CODE_PATTERN) -> TableSummary:
    """Import one table of ``kind``: good rows stored, bad ones refused with their row and
    reason; a re-import of the same file changes nothing.

    An offer's sessions are those its rows give (a session no longer listed is removed).
    An availability row's dates are the teacher's excluded dates as imported: a teacher
    listed keeps only the ranges the file gives (ranges set on the page stay).

    :raise KeyError: ``kind`` is not one of ``TABLES``.
    """
    found = preview_table(kind, data, name=name, mapping=mapping, code_pattern=code_pattern)
    summary = TableSummary(kind=kind, refused=found.refused, unread=list(found.unread),
                           present=sorted(found.present))
    summary.errors = [f"{name or kind}, row {e.row}, {e.field}: {e.message}"
                      for e in found.errors]
    if kind == AVAILABILITY:
        _store_availability(found.rows, found.present, summary)
    else:
        for spec in found.rows:
            _store_offer(spec, found.present, summary)
    audit.record(f"import.{kind}", None, {"file": name, "errors": len(summary.errors)}
                 | audit.figures(summary))
    db.session.commit()
    for line in summary.errors:
        logger.warning("%s: %s", kind, line)
    return summary


def _store_offer(spec: OfferSpec, present: frozenset[str], summary: TableSummary) -> None:
    offer = get_or_create(Offer, key=spec.key, defaults={"kind": spec.kind, "title": spec.title})
    offer.kind, offer.title, offer.source = spec.kind, spec.title, "catalogue"
    school = spec.host_school
    values: dict[str, tuple[str, object]] = {  # column → attribute, value
        "provider": ("provider", spec.provider), "format": ("format", spec.format),
        "place": ("place", spec.place), "hours": ("hours", spec.hours),
        "subjects": ("subjects", list(spec.subjects)),
        "mentor_name": ("mentor_name", spec.mentor_name),
        "mentor_moodle_id": ("mentor_moodle_user_id", spec.mentor_moodle_id),
        "capacity": ("capacity", spec.capacity),
        "municipality": ("municipality_id", get_or_create(
            Municipality, name=spec.municipality).id if spec.municipality else None),
        "host_school_code": ("host_school_id", _school_id(school)),
        "mentor_school_code": ("host_school_id", _school_id(school))}
    for column, (attribute, value) in values.items():
        if column in present:  # a column the file lacks keeps what is stored
            setattr(offer, attribute, value)
    if "moodle_course_shortname" in present and \
            offer.moodle_course_shortname != spec.moodle_course_shortname:
        offer.moodle_course_shortname, offer.moodle_course_id = spec.moodle_course_shortname, None
    link_competencies(offer, list(spec.competencies))
    wanted = {s.key: s for s in spec.sessions}
    for stored in list(offer.sessions):
        if stored.key not in wanted:
            offer.sessions.remove(stored)
    have = {s.key: s for s in offer.sessions}
    for key, given in wanted.items():
        session = have.get(key)
        if session is None:
            session = OfferSession(key=key)
            offer.sessions.append(session)
        session.starts_on, session.ends_on, session.place = (given.starts_on, given.ends_on,
                                                             given.place)
        session.seats, session.hours = given.seats, given.hours
    sum_sessions(offer)
    summary.offers += 1
    summary.sessions += len(wanted)


def _school_id(code: str | None) -> int | None:
    return db.session.scalars(select(School.id).filter_by(code=code)).first() if code else None


def _teacher_ids() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Teacher id by Moodle id, by email (case folded) and by login."""
    rows = db.session.execute(select(Teacher.id, Teacher.moodle_user_id,
                                     func.lower(Teacher.email), Teacher.username)).all()
    return ({str(m): i for i, m, _, _ in rows}, {e: i for i, _, e, _ in rows if e},
            {u: i for i, _, _, u in rows if u})


def _resolve(text: str, ids: tuple[dict[str, int], dict[str, int], dict[str, int]]) -> int | None:
    by_moodle, by_email, by_login = ids
    if text.isdigit():
        return by_moodle.get(text)
    if "@" in text:
        return by_email.get(text.casefold())
    return by_login.get(text)


def _known_teachers(found: CatalogueFile[AvailabilityRow],
                    ) -> tuple[CatalogueFile[AvailabilityRow], dict[int, int]]:
    """The rows whose teacher is stored (row → teacher id); the others refused on their row."""
    ids = _teacher_ids()
    rows, errors, teachers = [], list(found.errors), {}
    for row in found.rows:
        teacher = _resolve(row.teacher, ids)
        if teacher is None:
            errors.append(RowError(row.row, "teacher", f"unknown teacher {row.teacher}; give "
                                   "their Moodle id, email or login (run a sync first)"))
        else:
            rows.append(row)
            teachers[row.row] = teacher
    errors.sort(key=lambda e: e.row)
    return CatalogueFile(rows, errors, found.present, found.unread, found.refused), teachers


def _store_availability(rows: list[AvailabilityRow], present: frozenset[str],
                        summary: TableSummary) -> None:
    teachers = _known_teachers(CatalogueFile(rows, []))[1]
    wanted: dict[int, set[tuple[Any, Any]]] = {}
    for row in rows:
        teacher_id = teachers[row.row]
        ranges = wanted.setdefault(teacher_id, set())
        if row.starts_on and row.ends_on:
            ranges.add((row.starts_on, row.ends_on))
            found = get_or_create(TeacherUnavailable, teacher_id=teacher_id,
                                  starts_on=row.starts_on, ends_on=row.ends_on,
                                  defaults={"source": "import"})
            found.reason = row.reason
        if row.subjects is not None:
            teacher = db.session.get(Teacher, teacher_id)
            if teacher is not None:
                teacher.subjects_override = ", ".join(row.subjects)
    for teacher_id, ranges in wanted.items():
        for stored in db.session.scalars(select(TeacherUnavailable).filter_by(
                teacher_id=teacher_id, source="import")):
            if (stored.starts_on, stored.ends_on) not in ranges:
                db.session.delete(stored)
    summary.teachers = len(wanted)
    summary.exclusions = sum(len(r) for r in wanted.values())
