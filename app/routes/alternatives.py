"""What a route item may be swapped for: alternatives ranked best first, each with why it was
not chosen, in Russian and English.

An item the planner proposed carries the planner's ranking (``route_item.alternatives``):
its alternatives are shown in that order, re-checked against today's state: a session whose
seats were taken since, one that clashes with the teacher's other items or would take them
over their hours cap, dates they are away now; offers already in the route, declined or
completed drop out, as do offers and sessions no longer in the catalogue (another session of
the item's own offer stays: taking it moves the item to that session). An item without a
stored ranking (approved earlier, planned by the old greedy pass) gets
:func:`ranked_alternatives`, ranked here by kind and place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    CourseCompletion,
    Offer,
    OfferSession,
    Partnership,
    Route,
    RouteItem,
    School,
    TeacherUnavailable,
)
from app.models.route import (
    APPROVED,
    COMPLETED,
    DECLINED,
    ENROLLED,
    PROPOSED,
    REPLANNED,
    VERIFIED,
)
from courses.plan_model import (
    PLACE_MUNICIPALITY,
    PLACE_OTHER,
    PLACE_PARTNER,
    PLACE_REMOTE,
    REASON_COMPETENCY_LIMIT,
    REASON_DATES_CLASH,
    REASON_HOURS_CAP,
    REASON_NO_SEATS,
    REASON_UNAVAILABLE,
)
from courses.plan_model import Alternative as PlanAlternative
from courses.records import COURSE, INTERNSHIP, MENTORING

HOLDING = (APPROVED, ENROLLED, COMPLETED, VERIFIED)  # statuses that hold a seat
LIVE = (PROPOSED, *HOLDING)  # a teacher's items that take their dates and hours
FREE = "free"
FILLED = "filled"  # free when planned, its seats taken since
DEFAULT_HOURS_CAP = 72.0
_EPS = 1e-6

# status: (ru, en)
STATUS_WORDS: dict[str, tuple[str, str]] = {
    FREE: ("есть свободное место", "a seat is free"),
    FILLED: ("места заняты после планирования", "its seats were taken since planning"),
    REASON_NO_SEATS: ("мест нет (или наставник занят)", "full (or the mentor is at capacity)"),
    REASON_DATES_CLASH: ("даты пересекаются с другим пунктом маршрута",
                         "its dates clash with another item of the route"),
    REASON_HOURS_CAP: ("превысит лимит часов педагога за полугодие",
                       "it would exceed the teacher's hours cap for the half-year"),
    REASON_COMPETENCY_LIMIT: ("компетенция уже закрыта другим пунктом маршрута",
                              "the competency is already covered by another item"),
    REASON_UNAVAILABLE: ("педагог недоступен в эти даты",
                         "the teacher is unavailable on these dates"),
}
PLACE_WORDS: dict[str, tuple[str, str]] = {
    PLACE_PARTNER: ("в ресурсном центре-партнёре школы",
                    "at the school's partner resource centre"),
    PLACE_MUNICIPALITY: ("в своём муниципалитете", "in the teacher's municipality"),
    PLACE_REMOTE: ("дистанционно", "remote"),
    PLACE_OTHER: ("очно в другом муниципалитете", "in person in another municipality"),
}
KIND_WORDS = {COURSE: ("КПК", "PD course"), "external": ("внешний КПК", "external PD course"),
              INTERNSHIP: ("стажировка", "internship"), MENTORING: ("наставничество", "mentoring"),
              "event": ("методическое мероприятие", "methodical event")}


@dataclass(frozen=True)
class Alternative:
    """An offer (and its session, when the planner named one) that could replace an item:
    ``status`` ``free`` or why it cannot be taken now; ``reason`` in Russian, ``reason_en``."""

    offer_id: int
    offer_key: str
    title: str
    kind: str
    seats_left: int | None
    reason: str
    session_id: int | None = None
    session_key: str = ""
    status: str = FREE
    reason_en: str = ""

    @property
    def possible(self) -> bool:
        """True when a swap may take it now."""
        return self.status == FREE

    def as_dict(self) -> dict[str, object]:
        """The alternative as plain data (the CLI's JSON)."""
        return {**self.__dict__, "possible": self.possible}


@dataclass
class OfferPool:
    """The catalogue and the seats its items take, read once for many items (a review page
    re-checks the alternatives of every item on it). ``used``: holding items per offer;
    ``session_used``: per session; ``proposed``/``session_proposed``: proposed items per
    (offer or session, diagnostic), which take seats in their own diagnostic's plan."""

    offers: list[Offer]
    used: dict[int, int]
    hours_cap: float = DEFAULT_HOURS_CAP
    session_used: dict[int, int] = field(default_factory=dict)
    proposed: dict[tuple[int, int], int] = field(default_factory=dict)
    session_proposed: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    def load(cls, hours_cap: float | None = None) -> OfferPool:
        """Every offer with its sessions, and the seats items take (``hours_cap``: the
        policy's cap per half-year, default 72 h)."""
        offers = list(db.session.scalars(select(Offer).options(
            selectinload(Offer.competencies), selectinload(Offer.host_school),
            selectinload(Offer.sessions))))
        pool = cls(offers, {}, DEFAULT_HOURS_CAP if hours_cap is None else hours_cap)
        rows = db.session.execute(
            select(RouteItem.offer_id, RouteItem.session_id, RouteItem.status,
                   Route.diagnostic_id, func.count(RouteItem.id))
            .join(Route, Route.id == RouteItem.route_id)
            .where(RouteItem.status.in_(LIVE))
            .group_by(RouteItem.offer_id, RouteItem.session_id, RouteItem.status,
                      Route.diagnostic_id))
        used: dict[int, int] = defaultdict(int)
        session_used: dict[int, int] = defaultdict(int)
        proposed: dict[tuple[int, int], int] = defaultdict(int)
        session_proposed: dict[tuple[int, int], int] = defaultdict(int)
        for offer_id, session_id, status, diagnostic_id, n in rows:
            if status == PROPOSED:
                proposed[(offer_id, diagnostic_id)] += int(n)
                if session_id is not None:
                    session_proposed[(session_id, diagnostic_id)] += int(n)
            else:
                used[offer_id] += int(n)
                if session_id is not None:
                    session_used[session_id] += int(n)
        pool.used, pool.session_used = dict(used), dict(session_used)
        pool.proposed, pool.session_proposed = dict(proposed), dict(session_proposed)
        return pool

    @cached_property
    def by_key(self) -> dict[str, Offer]:
        """The offers by key."""
        return {offer.key: offer for offer in self.offers}

    @cached_property
    def mentors(self) -> dict[str, list[Offer]]:
        """Each mentor's offers (a mentor's capacity counts their mentees in all of them)."""
        out: dict[str, list[Offer]] = defaultdict(list)
        for offer in self.offers:
            mentor = _mentor(offer)
            if mentor is not None:
                out[mentor].append(offer)
        return dict(out)


def stored_alternatives(alternatives: Sequence[PlanAlternative]) -> list[dict[str, object]]:
    """The planner's alternatives as a route item stores them: offer key, the session's own
    key (the planner's key is ``<offer key>/<session key>``), value, place, status."""
    out: list[dict[str, object]] = []
    for alt in alternatives:
        prefix = f"{alt.offer_key}/"
        session = alt.session_key[len(prefix):] if alt.session_key.startswith(prefix) \
            else alt.session_key
        out.append({"offer": alt.offer_key, "session": session, "value": alt.value,
                    "place": alt.place, "status": alt.status})
    return out


def alternatives_of(item: RouteItem, pool: OfferPool | None = None) -> list[Alternative]:
    """The item's alternatives, best first: the planner's, re-checked today, or (none
    stored) :func:`ranked_alternatives`."""
    pool = pool or OfferPool.load()
    found = planned_alternatives(item, pool)
    return ranked_alternatives(item, pool=pool) if found is None else found


def planned_alternatives(item: RouteItem, pool: OfferPool) -> list[Alternative] | None:
    """The planner's alternatives of ``item`` in its order, each re-checked against today's
    state (None: the item has none stored)."""
    if item.alternatives is None:
        return None
    teacher_id = item.route.teacher_id
    taken = set(db.session.scalars(select(RouteItem.offer_id).where(
        RouteItem.route_id == item.route_id)))
    refused = excluded_offer_keys(teacher_id)
    today = _TeacherState.load(item)
    out: list[Alternative] = []
    for entry in item.alternatives:
        offer = pool.by_key.get(str(entry.get("offer", "")))
        own = offer is not None and offer.id == item.offer_id  # another session of its offer
        if offer is None or (offer.id in taken and not own) or offer.key in refused:
            continue
        key = str(entry.get("session", ""))
        session = next((s for s in offer.sessions if s.key == key), None)
        if (session is None and offer.sessions) or (own and (
                session is None or session.id == item.session_id)):
            continue  # the session left the catalogue, or it is the item's own
        left = _seats_left(pool, offer, session, today.diagnostic_id)
        status = today.status(pool, offer, session, left, str(entry.get("status", FREE)),
                              same_offer=own)
        out.append(_alternative(offer, session, left, status, str(entry.get("place", ""))))
    return out


def _seats_left(pool: OfferPool, offer: Offer, session: OfferSession | None,
                diagnostic_id: int) -> int | None:
    if session is not None:
        if session.seats is None:
            return None
        return session.seats - pool.session_used.get(session.id, 0) - \
            pool.session_proposed.get((session.id, diagnostic_id), 0)
    if offer.seats is None:
        return None
    return offer.seats - pool.used.get(offer.id, 0) - \
        pool.proposed.get((offer.id, diagnostic_id), 0)


def _mentor(offer: Offer) -> str | None:
    if offer.kind != MENTORING or not (offer.mentor_moodle_user_id or offer.mentor_name):
        return None
    return (f"moodle:{offer.mentor_moodle_user_id}" if offer.mentor_moodle_user_id
            else f"name:{offer.mentor_name}")


def _mentor_full(pool: OfferPool, offer: Offer, diagnostic_id: int) -> bool:
    mentor = _mentor(offer)
    if mentor is None or offer.capacity is None:
        return False
    mentees = sum(pool.used.get(o.id, 0) + pool.proposed.get((o.id, diagnostic_id), 0)
                  for o in pool.mentors.get(mentor, ()))
    return mentees >= offer.capacity


@dataclass
class _TeacherState:
    """The dates and hours the teacher's other live items of the route take, and the dates
    they are away."""

    diagnostic_id: int
    spans: list[tuple[dt.date, dt.date, float]]
    away: list[tuple[dt.date, dt.date]]

    @classmethod
    def load(cls, item: RouteItem) -> _TeacherState:
        spans = []
        for other, session in db.session.execute(
                select(RouteItem, OfferSession)
                .outerjoin(OfferSession, OfferSession.id == RouteItem.session_id)
                .where(RouteItem.route_id == item.route_id, RouteItem.id != item.id,
                       RouteItem.status.in_(LIVE))
                .options(selectinload(RouteItem.offer))).all():
            starts, ends, hours = _span(other.offer, session)
            if starts is not None and ends is not None:
                spans.append((starts, ends, hours))
        away = [(a, b) for a, b in db.session.execute(
            select(TeacherUnavailable.starts_on, TeacherUnavailable.ends_on).where(
                TeacherUnavailable.teacher_id == item.route.teacher_id)).all()]
        return cls(item.route.diagnostic_id, spans, away)

    def status(self, pool: OfferPool, offer: Offer, session: OfferSession | None,
               left: int | None, planned: str, *, same_offer: bool = False) -> str:
        """Why the alternative cannot be taken today (``free``: it can); ``planned``: its
        status when planned; ``same_offer``: another session of the item's own offer (its
        mentor already counts the teacher)."""
        if (left is not None and left <= 0) or (
                not same_offer and _mentor_full(pool, offer, self.diagnostic_id)):
            return FILLED if planned == FREE else REASON_NO_SEATS
        starts, ends, hours = _span(offer, session)
        if starts is not None and ends is not None:
            if any(a <= ends and starts <= b for a, b in self.away):
                return REASON_UNAVAILABLE
            if any(a <= ends and starts <= b for a, b, _ in self.spans):
                return REASON_DATES_CLASH
            half = _half(starts)
            if hours and sum(h for a, _, h in self.spans if _half(a) == half) + hours \
                    > pool.hours_cap + _EPS:
                return REASON_HOURS_CAP
        return REASON_COMPETENCY_LIMIT if planned == REASON_COMPETENCY_LIMIT else FREE


def _span(offer: Offer, session: OfferSession | None
          ) -> tuple[dt.date | None, dt.date | None, float]:
    """Dates and hours of a session (the offer's own without one); no dates: undated."""
    starts = session.starts_on if session is not None else offer.starts_on
    ends = session.ends_on if session is not None else offer.ends_on
    hours = session.hours if session is not None and session.hours is not None else offer.hours
    if starts is not None and (ends is None or ends < starts):
        ends = starts
    return starts, ends, float(hours or 0)


def _half(day: dt.date) -> tuple[int, int]:
    return day.year, 0 if day.month <= 6 else 1


def _alternative(offer: Offer, session: OfferSession | None, left: int | None, status: str,
                 place: str) -> Alternative:
    kind_ru, kind_en = KIND_WORDS.get(offer.kind, (offer.kind, offer.kind))
    starts, ends, hours = _span(offer, session)
    when_ru = when_en = ""
    if starts is not None and ends is not None:
        when_ru = when_en = f"{starts:%d.%m.%Y}–{ends:%d.%m.%Y}, "
    else:
        when_ru, when_en = "без дат, ", "no dates, "
    where_ru, where_en = PLACE_WORDS.get(place, ("", ""))
    why_ru, why_en = STATUS_WORDS.get(status, (status, status))
    if status == FREE:
        why_ru += " (мест без ограничения)" if left is None else f" (свободно мест: {left})"
        why_en += " (no seat limit)" if left is None else f" ({left} left)"
    key = session.key if session is not None else ""
    head_ru = f"{kind_ru}, сессия {key} ({when_ru}{hours:g} ч)" if key else kind_ru
    head_en = f"{kind_en}, session {key} ({when_en}{hours:g} h)" if key else kind_en
    return Alternative(
        offer.id, offer.key, offer.title, offer.kind, left,
        f"{head_ru}{', ' + where_ru if where_ru else ''}: {why_ru}",
        session.id if session is not None else None, key, status,
        f"{head_en}{', ' + where_en if where_en else ''}: {why_en}")


def ranked_alternatives(item: RouteItem, limit: int = 5,
                        pool: OfferPool | None = None) -> list[Alternative]:
    """The other offers that cover one of the item's competencies and have a seat left,
    ranked like the old matching ranked them: an internship at a partner resource centre, a
    course, an internship, mentoring (far mentoring last); then more of the item's
    competencies covered; then the key. Offers already in the teacher's route, declined by
    them or completed are left out. The fallback of items without the planner's ranking."""
    pool = pool or OfferPool.load()
    wanted = set(item.competencies or [])
    teacher = item.route.teacher
    partners = set(db.session.scalars(
        select(School.code).join(Partnership, Partnership.resource_centre_id == School.id)
        .where(Partnership.school_id == teacher.school_id))) if teacher.school_id else set()
    taken = set(db.session.scalars(select(RouteItem.offer_id).where(
        RouteItem.route_id == item.route_id)))
    refused = excluded_offer_keys(teacher.id)
    found: list[tuple[tuple[int, bool, int, str], Alternative]] = []
    for offer in pool.offers:
        covered = {c.idnumber for c in offer.competencies} & wanted
        if not covered or offer.id in taken or offer.key in refused:
            continue
        left = None if offer.seats is None else offer.seats - pool.used.get(offer.id, 0)
        if left is not None and left <= 0:
            continue
        host = offer.host_school.code if offer.host_school else None
        near = host in partners
        order = {INTERNSHIP: 0 if near else 2, COURSE: 1, MENTORING: 3}.get(offer.kind, 4)
        far_mentor = offer.kind == MENTORING and not near
        text_ru, text_en = _why(offer.kind, offer.title, host, near)
        seats_ru = "мест без ограничения" if left is None else f"свободно мест: {left}"
        seats_en = "no seat limit" if left is None else f"{left} seats left"
        comps = ", ".join(sorted(covered))
        found.append(((order, far_mentor, -len(covered), offer.key), Alternative(
            offer.id, offer.key, offer.title, offer.kind, left,
            f"{comps}: {text_ru}; {seats_ru}", reason_en=f"{comps}: {text_en}; {seats_en}")))
    found.sort(key=lambda pair: pair[0])
    return [alt for _, alt in found[:limit]]


def _why(kind: str, title: str, host: str | None, near: bool) -> tuple[str, str]:
    if kind == INTERNSHIP:
        return ((f"стажировка в ресурсном центре-партнёре {host}",
                 f"internship at the partner resource centre {host}") if near else
                (f"стажировка в ресурсном центре {host or ''}".rstrip(),
                 f"internship at the resource centre {host or ''}".rstrip()))
    if kind == COURSE:
        return f"курс повышения квалификации «{title}»", f"PD course “{title}”"
    return ((f"наставничество, ресурсный центр-партнёр {host}",
             f"mentoring, partner resource centre {host}") if near else
            (f"наставничество {host or ''}".rstrip(), f"mentoring {host or ''}".rstrip()))


def excluded_offer_keys(teacher_id: int) -> set[str]:
    """The offers never to propose to the teacher again: declined by them or taken without
    closing the deficit (re-planned), in any diagnostic, or completed."""
    keys = set(db.session.scalars(
        select(Offer.key).join(RouteItem, RouteItem.offer_id == Offer.id)
        .join(Route, Route.id == RouteItem.route_id)
        .where(Route.teacher_id == teacher_id, RouteItem.status.in_((DECLINED, REPLANNED)))))
    keys.update(db.session.scalars(
        select(Offer.key).join(CourseCompletion,
                               CourseCompletion.moodle_course_id == Offer.moodle_course_id)
        .where(CourseCompletion.teacher_id == teacher_id, CourseCompletion.completed.is_(True))))
    return keys
