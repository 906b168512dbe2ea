"""The catalogue as a methodologist reads it: offers by kind, each session with its seats
used and left."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import N_
from app.models import Offer, RouteItem
from app.models.route import APPROVED, COMPLETED, ENROLLED, OFFER_KINDS

HOLDING = (APPROVED, ENROLLED, COMPLETED)  # statuses that hold a seat
# Plain Russian strs, translated where the catalogue page shows them.
KIND_RU = {"course": N_("Курс Moodle"), "external": N_("Внешний КПК"),
           "internship": N_("Стажировка"), "mentoring": N_("Наставничество"),
           "event": N_("Методическое мероприятие")}
FORMAT_RU = {"in_person": N_("очно"), "remote": N_("дистанционно"), "mixed": N_("смешанно")}


@dataclass(frozen=True)
class SessionLine:
    """One session as listed: its dates, place, seats (None: no limit), used and left."""

    key: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    place: str
    seats: int | None
    used: int

    @property
    def left(self) -> int | None:
        """Seats left (never below 0), None without a limit."""
        return None if self.seats is None else max(self.seats - self.used, 0)


@dataclass(frozen=True)
class OfferLine:
    """One offer as listed, with its sessions."""

    key: str
    kind: str
    title: str
    provider: str
    format: str | None
    hours: int | None
    place: str
    host_school: str
    mentor: str
    capacity: int | None
    subjects: tuple[str, ...]
    competencies: tuple[str, ...]
    sessions: tuple[SessionLine, ...]
    unassigned: int  # items holding a seat of the offer but of no session


def catalogue(kind: str | None = None) -> list[OfferLine]:
    """The offers (of one kind, or all) by kind and title.

    Items holding a seat count against their session; items of no session count against
    the offer's only session, else are shown as ``unassigned``.

    :raise ValueError: an unknown kind.
    """
    if kind is not None and kind not in OFFER_KINDS:
        raise ValueError(f"unknown offer kind {kind!r}")
    query = select(Offer).options(selectinload(Offer.sessions), selectinload(Offer.competencies),
                                  selectinload(Offer.host_school)).order_by(Offer.kind,
                                                                            Offer.title)
    if kind is not None:
        query = query.where(Offer.kind == kind)
    used: Counter[tuple[int, int | None]] = Counter({
        (offer_id, session_id): int(n) for offer_id, session_id, n in db.session.execute(
            select(RouteItem.offer_id, RouteItem.session_id, func.count())
            .where(RouteItem.status.in_(HOLDING))
            .group_by(RouteItem.offer_id, RouteItem.session_id))})
    lines = []
    for offer in db.session.scalars(query):
        loose = used[(offer.id, None)]
        only = len(offer.sessions) == 1
        sessions = tuple(SessionLine(
            s.key, s.starts_on, s.ends_on, s.place or offer.place, s.seats,
            used[(offer.id, s.id)] + (loose if only else 0)) for s in offer.sessions)
        lines.append(OfferLine(
            offer.key, offer.kind, offer.title, offer.provider, offer.format, offer.hours,
            offer.place, offer.host_school.name if offer.host_school else "",
            offer.mentor_name, offer.capacity, tuple(offer.subjects or ()),
            tuple(sorted(c.idnumber for c in offer.competencies)), sessions,
            0 if only else loose))
    return lines
