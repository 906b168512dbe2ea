"""The school network: municipalities, schools, partnerships and teachers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from app.extensions import db


class Municipality(db.Model):  # type: ignore[name-defined]
    """A municipality (МОУО): the unit indicators are reported for."""

    __tablename__ = "municipality"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class School(db.Model):  # type: ignore[name-defined]
    """A school, keyed by the code teachers carry in their Moodle profile."""

    __tablename__ = "school"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(512), default="")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    low_results: Mapped[bool] = mapped_column(Boolean, default=False)
    adverse_context: Mapped[bool] = mapped_column(Boolean, default=False)
    resource_centre: Mapped[bool] = mapped_column(Boolean, default=False)
    # WGS 84 degrees from the schools file (optional): the network map places the school
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    municipality: Mapped[Municipality | None] = relationship()

    @property
    def kind(self) -> str:
        """The school type used to split deficit maps."""
        if self.resource_centre:
            return "resource_centre"
        if self.low_results:
            return "low_results"
        if self.adverse_context:
            return "adverse_context"
        return "other"


class Partnership(db.Model):  # type: ignore[name-defined]
    """A network partnership: a resource centre supports another school for a period."""

    __tablename__ = "partnership"
    __table_args__ = (UniqueConstraint("resource_centre_id", "school_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_centre_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    agreement_no: Mapped[str] = mapped_column(String(128), default="")

    resource_centre: Mapped[School] = relationship(foreign_keys=[resource_centre_id])
    school: Mapped[School] = relationship(foreign_keys=[school_id])


def fold(text: str) -> str:
    """``text`` as the teacher search compares it: lower case, «ё» as «е», words separated by
    one space (Python folds Cyrillic case; SQLite's ``lower``/``LIKE`` fold only ASCII)."""
    return " ".join(text.lower().replace("ё", "е").split())


NAME_PARTS = ("lastname", "firstname", "middlename", "username")


def search_name_of(values: dict[str, Any]) -> str:
    """The folded «фамилия имя отчество логин» stored in ``teacher.search_name``."""
    return fold(" ".join(str(values.get(name) or "") for name in NAME_PARTS))


def _search_name_default(context: Any) -> str:
    """A Core ``INSERT`` without ``search_name`` (bulk seeding, benches): from the row's
    own name values."""
    return search_name_of(context.get_current_parameters())


class Teacher(db.Model):  # type: ignore[name-defined]
    """A teacher: a Moodle user scored by the diagnostic."""

    __tablename__ = "teacher"
    # The teacher list pages in name order: the index walks it without sorting.
    __table_args__ = (Index("ix_teacher_search_name", "search_name", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    moodle_user_id: Mapped[int] = mapped_column(Integer, unique=True)
    username: Mapped[str] = mapped_column(String(255), default="")
    lastname: Mapped[str] = mapped_column(String(255), default="")
    firstname: Mapped[str] = mapped_column(String(255), default="")
    middlename: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    idnumber: Mapped[str] = mapped_column(String(255), default="")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    subjects: Mapped[str] = mapped_column(String(512), default="")  # from Moodle's profile
    # Subjects set by an availability table or a page, winning over Moodle's (None: none set)
    subjects_override: Mapped[str | None] = mapped_column(String(512))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When a sync last found them no longer scored (None while active): retention counts from it
    inactive_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # search_name_of(the row): kept by the ORM events below on every insert and update of a
    # name, and by the column default on a Core insert. A Core UPDATE of a name must set it.
    search_name: Mapped[str] = mapped_column(String(1024), default=_search_name_default,
                                             server_default="")

    school: Mapped[School | None] = relationship()

    @property
    def subject_list(self) -> list[str]:
        """The teacher's subjects: the override when set, else Moodle's profile field."""
        text = self.subjects if self.subjects_override is None else self.subjects_override
        return [s.strip() for s in text.replace(";", ",").split(",") if s.strip()]

    @property
    def full_name(self) -> str:
        """Фамилия Имя Отчество, as Russian documents write it."""
        return " ".join(p for p in (self.lastname, self.firstname, self.middlename) if p)


@event.listens_for(Teacher, "before_insert")
@event.listens_for(Teacher, "before_update")
def _keep_search_name(mapper: Mapper[Teacher], connection: Connection, target: Teacher) -> None:
    folded = search_name_of({name: getattr(target, name) for name in NAME_PARTS})
    if target.search_name != folded:
        target.search_name = folded


class SchoolResult(db.Model):  # type: ignore[name-defined]
    """A school's result in a national assessment (ВПР, ОГЭ, ЕГЭ) for one year and subject."""

    __tablename__ = "school_result"
    __table_args__ = (UniqueConstraint("school_code", "year", "assessment", "subject", "grade"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_code: Mapped[str] = mapped_column(String(64), index=True)
    year: Mapped[int] = mapped_column(Integer)
    assessment: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    grade: Mapped[int] = mapped_column(Integer, default=0)
    mean_score: Mapped[float | None] = mapped_column()
    share_below_min: Mapped[float | None] = mapped_column()
    participants: Mapped[int | None] = mapped_column(Integer)
    adverse_context: Mapped[bool | None] = mapped_column(Boolean)


class SchoolIdentification(db.Model):  # type: ignore[name-defined]
    """What the identification rules proposed for a school, with the reasons (not the flags)."""

    __tablename__ = "school_identification"
    school_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    low_results: Mapped[bool] = mapped_column(Boolean, default=False)
    resource_centre_candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    adverse_context: Mapped[bool] = mapped_column(Boolean, default=False)
    years: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[str] = mapped_column(String(4000), default="")


class SchoolStatus(db.Model):  # type: ignore[name-defined]
    """When a school held a status: ``flag`` is low_results, adverse_context or stably_high.

    One row per continuous stretch; ``valid_to`` None while it still holds. Written when a
    flag changes (identification applied, catalogue import), so indicators of a past period
    count the schools identified then, not as they stand now.
    """

    __tablename__ = "school_status"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_code: Mapped[str] = mapped_column(String(64), index=True)
    flag: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32), default="")  # rules | catalogue
    reason: Mapped[str] = mapped_column(String(4000), default="")
