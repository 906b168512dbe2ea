"""Competencies, diagnostics, attempts with their per-competency marks, and deficits."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

if TYPE_CHECKING:
    from app.models.network import Teacher


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class CompetencyFramework(db.Model):  # type: ignore[name-defined]
    """A competency framework (Moodle's own or the region's)."""

    __tablename__ = "competency_framework"
    id: Mapped[int] = mapped_column(primary_key=True)
    idnumber: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(512), default="")
    moodle_id: Mapped[int | None] = mapped_column(Integer)


class Competency(db.Model):  # type: ignore[name-defined]
    """A competency, keyed by its idnumber (e.g. PK-01), with its group."""

    __tablename__ = "competency"
    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("competency_framework.id"))
    idnumber: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(512), default="")
    group: Mapped[str] = mapped_column("group_name", String(255), default="")
    moodle_id: Mapped[int | None] = mapped_column(Integer)

    framework: Mapped[CompetencyFramework | None] = relationship()


class Diagnostic(db.Model):  # type: ignore[name-defined]
    """A diagnostic test: a Moodle quiz, entry or final."""

    __tablename__ = "diagnostic"
    id: Mapped[int] = mapped_column(primary_key=True)
    moodle_quiz_id: Mapped[int] = mapped_column(Integer, unique=True)
    moodle_course_id: Mapped[int] = mapped_column(Integer)
    moodle_cmid: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(512), default="")
    kind: Mapped[str] = mapped_column(String(16), default="entry")
    grademethod: Mapped[int] = mapped_column(Integer, default=1)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("competency_framework.id"))


class DiagnosticMapping(db.Model):  # type: ignore[name-defined]
    """Which competency a quiz grade item (by name) or a slot (by number) measures."""

    __tablename__ = "diagnostic_mapping"
    __table_args__ = (UniqueConstraint("diagnostic_id", "source", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # grade_item | slot
    key: Mapped[str] = mapped_column(String(512))
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competency.id"))


class Attempt(db.Model):  # type: ignore[name-defined]
    """A finished quiz attempt pulled from Moodle."""

    __tablename__ = "attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    moodle_attempt_id: Mapped[int] = mapped_column(Integer, unique=True)
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    time_finish: Mapped[int] = mapped_column(Integer, default=0)
    sumgrades: Mapped[float | None] = mapped_column(Float)

    results: Mapped[list[AttemptResult]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan")


class AttemptResult(db.Model):  # type: ignore[name-defined]
    """Marks of one grade item or slot in an attempt, as Moodle gave them."""

    __tablename__ = "attempt_result"
    __table_args__ = (UniqueConstraint("attempt_id", "source", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # grade_item | slot
    key: Mapped[str] = mapped_column(String(512))
    mark: Mapped[float | None] = mapped_column(Float)
    max_mark: Mapped[float] = mapped_column(Float)

    attempt: Mapped[Attempt] = relationship(back_populates="results")


class TeacherGrade(db.Model):  # type: ignore[name-defined]
    """When Moodle's gradebook last changed a teacher's diagnostic grade, as last pulled.

    An incremental sync re-reads a teacher only when the gradebook shows another time.
    """

    __tablename__ = "teacher_grade"
    __table_args__ = (UniqueConstraint("diagnostic_id", "teacher_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    graded_at: Mapped[int] = mapped_column(Integer, default=0)


class Deficit(db.Model):  # type: ignore[name-defined]
    """A teacher's score and level in one competency for one diagnostic."""

    __tablename__ = "deficit"
    __table_args__ = (UniqueConstraint("diagnostic_id", "teacher_id", "competency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id"))
    score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[float] = mapped_column(Float, default=0.0)
    max_grade: Mapped[float] = mapped_column(Float, default=0.0)
    questions: Mapped[float] = mapped_column(Float, default=0.0)
    level: Mapped[str] = mapped_column(String(16))
    moodle_attempt_id: Mapped[int | None] = mapped_column(Integer)
    thresholds: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    moodle_proficient: Mapped[bool | None] = mapped_column(Boolean)
    agreement: Mapped[str | None] = mapped_column(String(16))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    teacher: Mapped[Teacher] = relationship()
    competency: Mapped[Competency] = relationship()



class CompetencyRating(db.Model):  # type: ignore[name-defined]
    """Moodle's own rating of a teacher in a competency (``competency_usercomp``).

    The second source beside the diagnostic: ``proficient`` is None while Moodle has no
    rating (a user competency without a grade).
    """

    __tablename__ = "competency_rating"
    __table_args__ = (UniqueConstraint("teacher_id", "competency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id", ondelete="CASCADE"))
    proficient: Mapped[bool | None] = mapped_column(Boolean)
    grade: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[int] = mapped_column(Integer, default=0)  # Moodle's timemodified
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyRevision(db.Model):  # type: ignore[name-defined]
    """One saved version of the methodologist's scoring policy; the newest applies.

    ``document`` holds the thresholds file's structure (``default``, ``frameworks``,
    ``groups``, ``competency_groups``) plus ``attempt_policy``.
    """

    __tablename__ = "policy_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author: Mapped[str] = mapped_column(String(255), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
