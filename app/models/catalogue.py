"""The catalogue's sessions and the teachers' availability (excluded dates)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

if TYPE_CHECKING:
    from app.models.network import Teacher
    from app.models.route import Offer

DEFAULT_SESSION = "default"  # the key of the one session an offer without explicit ones gets


class OfferSession(db.Model):  # type: ignore[name-defined]
    """One run of an offer: its own dates, place and seats (``None``: no limit).

    ``hours`` overrides the offer's hours when set.
    """

    __tablename__ = "offer_session"
    __table_args__ = (UniqueConstraint("offer_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64), default=DEFAULT_SESSION)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(255), default="")
    seats: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[int | None] = mapped_column(Integer)

    offer: Mapped[Offer] = relationship(back_populates="sessions")


class TeacherUnavailable(db.Model):  # type: ignore[name-defined]
    """Dates a teacher cannot attend anything (both days included)."""

    __tablename__ = "teacher_unavailable"
    __table_args__ = (UniqueConstraint("teacher_id", "starts_on", "ends_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(16), default="import")  # import | page

    teacher: Mapped[Teacher] = relationship()


def mirror_default_session(offer: Offer) -> None:
    """Keep the ``default`` session of an offer without explicit sessions equal to the
    offer's own seats and dates (created if missing); explicit sessions are left alone."""
    if any(s.key != DEFAULT_SESSION for s in offer.sessions):
        return
    session = next(iter(offer.sessions), None)
    if session is None:
        session = OfferSession(key=DEFAULT_SESSION, place="")
        offer.sessions.append(session)
    session.seats, session.starts_on, session.ends_on = offer.seats, offer.starts_on, offer.ends_on


def sum_sessions(offer: Offer) -> None:
    """Set the offer's seats (``None`` if a session has no limit) and its first and last day
    from its sessions."""
    sessions = offer.sessions
    if not sessions:
        return
    seats = [s.seats for s in sessions]
    offer.seats = None if any(n is None for n in seats) else sum(n for n in seats if n is not None)
    starts = [s.starts_on for s in sessions if s.starts_on]
    ends = [s.ends_on or s.starts_on for s in sessions if s.ends_on or s.starts_on]
    offer.starts_on = min(starts) if starts else None
    offer.ends_on = max(e for e in ends if e) if ends else None
