"""Recommend and approve stages: deficits become proposed route items, then approved ones."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.common import audit
from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import (
    Competency,
    CourseCompletion,
    Deficit,
    Diagnostic,
    Offer,
    Partnership,
    Route,
    RouteChangeRequest,
    RouteItem,
    RouteItemEvent,
    School,
    Teacher,
    TeacherUnavailable,
)
from app.models.route import (
    APPROVED,
    CANCELLED,
    COMPLETED,
    DECLINED,
    ENROLLED,
    PROPOSED,
    REJECTED,
    REPLANNED,
    VERIFIED,
)
from app.routes.review import actor_now
from app.settings import Settings
from courses import records as crec
from courses.matching import match

logger = logging.getLogger(__name__)
HOLDING = (APPROVED, ENROLLED, COMPLETED, VERIFIED)  # statuses that hold a seat


@dataclass
class RecommendSummary(Summary):
    """What the recommend stage proposed."""

    teachers_with_needs: int = 0
    proposed: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)



def recommend(diagnostic: Diagnostic, settings: Settings) -> RecommendSummary:
    """Propose offers for every deficit not yet covered by an approved or enrolled item.

    Re-running replaces the proposed items only; approved, enrolled and completed items
    and the methodologist's rejections stay.
    """
    needs = _needs(diagnostic, settings.include_risk)
    offers = [_offer_record(o) for o in db.session.scalars(
        select(Offer).options(selectinload(Offer.competencies), selectinload(Offer.host_school),
                              selectinload(Offer.sessions)))]
    result = match(needs, offers, partners=_partners(), used_seats=_used_seats(),
                   include_risk=settings.include_risk, excluded=_excluded(diagnostic))
    offers_by_key = {o.key: o for o in db.session.scalars(
        select(Offer).options(selectinload(Offer.sessions)))}
    _drop_proposed(diagnostic)
    sessions = SessionPicker()
    summary = RecommendSummary(teachers_with_needs=len({n.teacher_id for n in needs}))
    for proposal in result.proposals:
        route = get_or_create(Route, teacher_id=proposal.teacher_id, diagnostic_id=diagnostic.id)
        offer = offers_by_key[proposal.offer_key]
        item = get_or_create(RouteItem, route_id=route.id, offer_id=offer.id)
        if item.status != PROPOSED:
            continue  # rejected or cancelled by a person: never re-proposed silently
        item.status, item.rule = PROPOSED, proposal.rule
        item.session_id = sessions.pick(offer, proposal.teacher_id)
        item.competencies, item.reasons = list(proposal.competencies), list(proposal.reasons)
        summary.proposed += 1
    summary.by_rule = dict(Counter(p.rule for p in result.proposals))
    summary.unmatched = dict(Counter(u.reason for u in result.unmatched))
    db.session.commit()
    return summary


def approve(diagnostic: Diagnostic, *, teacher_ids: list[int] | None = None,
            school_code: str | None = None) -> int:
    """Approve proposed items (all, or of some teachers, or of one school); return how many.

    The audit event lists the teachers (Moodle ids) whose items were approved.
    """
    query = (select(RouteItem, Teacher.moodle_user_id).select_from(RouteItem)
             .join(Route, Route.id == RouteItem.route_id)
             .join(Teacher, Teacher.id == Route.teacher_id)
             .where(Route.diagnostic_id == diagnostic.id, RouteItem.status == PROPOSED))
    if teacher_ids:
        query = query.where(Teacher.moodle_user_id.in_(teacher_ids))
    if school_code:
        query = query.join(School, School.id == Teacher.school_id).where(
            School.code == school_code)
    rows = db.session.execute(query).all()
    actor = actor_now()
    for item, _ in rows:
        item.move_to(APPROVED, actor_kind=actor.kind, actor=actor.name,
                     actor_user_id=actor.user_id)
    audit.record("route.approve", ("diagnostic", diagnostic.id), {
        "approved": len(rows), "teachers": sorted({mid for _, mid in rows}),
        "selected": {"teachers": sorted(teacher_ids or []), "school": school_code}})
    db.session.commit()
    return len(rows)


class SessionPicker:
    """The session a proposed item takes: the earliest with a seat left whose dates do not
    meet the teacher's excluded dates (None when none fits: the solver decides)."""

    def __init__(self) -> None:
        self.used: Counter[int] = Counter({
            sid: int(n) for sid, n in db.session.execute(
                select(RouteItem.session_id, func.count()).where(
                    RouteItem.status.in_(HOLDING), RouteItem.session_id.is_not(None))
                .group_by(RouteItem.session_id)) if sid is not None})
        self.away: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
        for teacher_id, starts, ends in db.session.execute(select(
                TeacherUnavailable.teacher_id, TeacherUnavailable.starts_on,
                TeacherUnavailable.ends_on)):
            self.away[teacher_id].append((starts, ends))

    def pick(self, offer: Offer, teacher_id: int) -> int | None:
        """The session's id, its seat counted as taken."""
        order = sorted(offer.sessions, key=lambda s: (s.starts_on or dt.date.min, s.id))
        for session in order:
            if session.seats is not None and self.used[session.id] >= session.seats:
                continue
            first, last = session.starts_on, session.ends_on or session.starts_on
            if first and last and any(a <= last and first <= b
                                      for a, b in self.away[teacher_id]):
                continue
            self.used[session.id] += 1
            return session.id
        return None


def _needs(diagnostic: Diagnostic, include_risk: bool) -> list[crec.DeficitNeed]:
    levels = ("deficit", "risk") if include_risk else ("deficit",)
    rows = db.session.execute(
        select(Deficit.teacher_id, Competency.idnumber, Deficit.level, Deficit.score,
               Teacher.school_id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .join(Teacher, Teacher.id == Deficit.teacher_id)
        .where(Deficit.diagnostic_id == diagnostic.id, Deficit.level.in_(levels),
               Teacher.active.is_(True)))
    covered = _covered(diagnostic)
    codes = _school_codes()
    return [crec.DeficitNeed(teacher_id=t, school_code=codes.get(s) if s is not None else None,
                             competency=c, level=lvl, score=float(sc or 0.0))
            for t, c, lvl, sc, s in rows if c not in covered[t]]


def _covered(diagnostic: Diagnostic) -> dict[int, set[str]]:
    """Per teacher, the competencies an item holds: approved and later, or proposed and
    already acted on by a person (:func:`_touched`)."""
    covered: dict[int, set[str]] = defaultdict(set)
    touched = _touched(diagnostic)
    for teacher_id, comps in db.session.execute(
            select(Route.teacher_id, RouteItem.competencies).join(RouteItem)
            .where(Route.diagnostic_id == diagnostic.id,
                   or_(RouteItem.status.in_(HOLDING), RouteItem.id.in_(touched)))):
        covered[teacher_id].update(comps or [])
    return covered


def _touched(diagnostic: Diagnostic) -> set[int]:
    """Proposed items a person acted on (the teacher accepted one or asked for a change):
    a re-run keeps them, so their history and requests are never lost."""
    proposed = (select(RouteItem.id).join(Route)
                .where(Route.diagnostic_id == diagnostic.id, RouteItem.status == PROPOSED))
    return set(db.session.scalars(select(RouteItemEvent.route_item_id).where(
        RouteItemEvent.route_item_id.in_(proposed)))) | set(db.session.scalars(
            select(RouteChangeRequest.route_item_id).where(
                RouteChangeRequest.route_item_id.in_(proposed))))


def _excluded(diagnostic: Diagnostic) -> dict[int, set[str]]:
    """Per teacher, offers never to propose again: courses completed, items rejected (in
    this diagnostic), items the teacher declined or took without closing the deficit
    (re-planned; in any)."""
    excluded: dict[int, set[str]] = defaultdict(set)
    for teacher_id, key in db.session.execute(
            select(CourseCompletion.teacher_id, Offer.key)
            .join(Offer, Offer.moodle_course_id == CourseCompletion.moodle_course_id)
            .where(CourseCompletion.completed.is_(True))).all():
        excluded[teacher_id].add(key)
    for teacher_id, key in db.session.execute(
            select(Route.teacher_id, Offer.key).join(RouteItem, RouteItem.route_id == Route.id)
            .join(Offer, Offer.id == RouteItem.offer_id)
            .where(or_(and_(Route.diagnostic_id == diagnostic.id, RouteItem.status == REJECTED),
                       RouteItem.status.in_((DECLINED, REPLANNED))))).all():
        excluded[teacher_id].add(key)
    return excluded


def _school_codes() -> dict[int, str]:
    return dict(db.session.execute(select(School.id, School.code)).all())


def _partners() -> dict[str, set[str]]:
    codes = _school_codes()
    partners: dict[str, set[str]] = defaultdict(set)
    for rc, school in db.session.execute(
            select(Partnership.resource_centre_id, Partnership.school_id)):
        partners[codes[school]].add(codes[rc])
    return partners


def _used_seats() -> dict[str, int]:
    rows = db.session.execute(
        select(Offer.key, func.count(RouteItem.id)).join(RouteItem, RouteItem.offer_id == Offer.id)
        .where(RouteItem.status.in_(HOLDING)).group_by(Offer.key))
    return {key: int(n) for key, n in rows}


def _drop_proposed(diagnostic: Diagnostic) -> None:
    touched = _touched(diagnostic)
    for item in db.session.scalars(select(RouteItem).join(Route).where(
            Route.diagnostic_id == diagnostic.id, RouteItem.status == PROPOSED)):
        if item.id not in touched:
            db.session.delete(item)
    db.session.flush()


# The greedy pass knows courses, internships and mentoring: external PD courses and methodical
# events are proposed as courses are (the solver replaces this).
_MATCHED_AS = {"external": crec.COURSE, "event": crec.COURSE}


def _offer_record(offer: Offer) -> crec.Offer:
    """The offer as the matching reads it: its sessions' seats summed (none: no limit)."""
    seats = offer.seats
    if offer.sessions:
        counts = [s.seats for s in offer.sessions]
        seats = None if None in counts else sum(n for n in counts if n is not None)
    return crec.Offer(
        key=offer.key, kind=_MATCHED_AS.get(offer.kind, offer.kind), title=offer.title,
        competencies=tuple(sorted(c.idnumber for c in offer.competencies)),
        moodle_course_id=offer.moodle_course_id,
        host_school=offer.host_school.code if offer.host_school else None,
        seats=seats, starts_on=offer.starts_on, ends_on=offer.ends_on, hours=offer.hours)


def cancel(diagnostic: Diagnostic, *, teacher_id: int, offer_key: str | None = None) -> int:
    """Cancel a teacher's approved or enrolled items (one offer, or all); return how many.

    The next push suspends the Moodle enrolments they had.
    """
    query = (select(RouteItem).join(Route).join(Teacher).join(Offer)
             .where(Route.diagnostic_id == diagnostic.id, Teacher.moodle_user_id == teacher_id,
                    RouteItem.status.in_((PROPOSED, APPROVED, ENROLLED))))
    if offer_key:
        query = query.where(Offer.key == offer_key)
    items = list(db.session.scalars(query))
    actor = actor_now()
    for item in items:
        item.move_to(CANCELLED, actor_kind=actor.kind, actor=actor.name,
                     actor_user_id=actor.user_id)
    audit.record("route.cancel", ("teacher", teacher_id), {
        "cancelled": len(items), "diagnostic": diagnostic.id, "offer": offer_key,
        "teachers": [teacher_id]})
    db.session.commit()
    return len(items)
