"""A teacher's availability set by hand: excluded date ranges and subjects that win over
Moodle's profile field."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.common import audit
from app.extensions import db
from app.models import Teacher, TeacherUnavailable

MAX_REASON = 255


def exclusions(teacher_id: int) -> list[TeacherUnavailable]:
    """The teacher's excluded date ranges, earliest first."""
    return list(db.session.scalars(select(TeacherUnavailable).filter_by(teacher_id=teacher_id)
                                   .order_by(TeacherUnavailable.starts_on,
                                             TeacherUnavailable.id)))


def add_exclusion(teacher: Teacher, starts_on: dt.date, ends_on: dt.date | None,
                  reason: str = "") -> TeacherUnavailable:
    """Exclude a date range (one day when ``ends_on`` is None); the same range again only
    updates its reason.

    :raise ValueError: the range ends before it starts.
    """
    ends = ends_on or starts_on
    if ends < starts_on:
        raise ValueError("ends_on is before starts_on")
    found = db.session.scalars(select(TeacherUnavailable).filter_by(
        teacher_id=teacher.id, starts_on=starts_on, ends_on=ends)).first()
    if found is None:
        found = TeacherUnavailable(teacher_id=teacher.id, starts_on=starts_on, ends_on=ends,
                                   source="page")
        db.session.add(found)
    found.reason = reason.strip()[:MAX_REASON]
    audit.record("teacher.unavailable", ("teacher", teacher.moodle_user_id),
                 {"starts_on": starts_on.isoformat(), "ends_on": ends.isoformat()})
    db.session.commit()
    return found


def remove_exclusion(teacher: Teacher, exclusion_id: int) -> bool:
    """Remove one of the teacher's ranges; False when the teacher has no such range."""
    found = db.session.get(TeacherUnavailable, exclusion_id)
    if found is None or found.teacher_id != teacher.id:
        return False
    audit.record("teacher.available", ("teacher", teacher.moodle_user_id),
                 {"starts_on": found.starts_on.isoformat(), "ends_on": found.ends_on.isoformat()})
    db.session.delete(found)
    db.session.commit()
    return True


def set_subjects(teacher: Teacher, subjects: str | None) -> None:
    """Set the subjects that win over Moodle's (``None``: Moodle's profile field again)."""
    if subjects is not None:
        parts = (s.strip() for s in subjects.replace(";", ",").split(","))
        subjects = ", ".join(dict.fromkeys(p for p in parts if p))[:512]
    teacher.subjects_override = subjects
    audit.record("teacher.subjects", ("teacher", teacher.moodle_user_id),
                 {"override": subjects is not None})
    db.session.commit()
