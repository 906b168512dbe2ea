"""What route planning reads for one diagnostic, built from the database (issue 13).

:func:`plan_input` returns the ``courses.plan_model.PlanInput`` of a diagnostic together with
the map from the planner's session keys back to ``offer_session`` rows. Planner ids are the
database ids of teachers; a session's planner key is ``<offer key>/<session key>``.

Sessions without dates (self-paced courses) get a distinct placeholder day each, far in the
past, so they never clash with each other, with dated sessions or with a teacher's absence;
their hours then count in no real half-year. :data:`UNDATED` tells them apart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.analyse.outcomes import offer_effects
from app.analyse.policy import effective_document
from app.analyse.policy_schema import matching_policy
from app.analyse.teacher_memo import RISK
from app.extensions import db
from app.models import (
    Competency,
    CourseCompletion,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Partnership,
    Route,
    RouteChangeRequest,
    RouteItem,
    RouteItemEvent,
    School,
    Teacher,
    TeacherMemo,
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
from app.settings import Settings
from courses import plan_model as pm

HOLDING = (APPROVED, ENROLLED, COMPLETED, VERIFIED)  # statuses that hold a seat
UNDATED = dt.date(1000, 1, 1)  # the first placeholder day of sessions without dates
_KINDS = {"course": pm.MOODLE_COURSE, "external": pm.EXTERNAL_COURSE,
          "internship": pm.INTERNSHIP, "mentoring": pm.MENTORING, "event": pm.METHODICAL_EVENT}


@dataclass
class Planning:
    """A diagnostic's planning input and how its keys map back to rows."""

    input: pm.PlanInput
    session_ids: dict[str, int | None] = field(default_factory=dict)  # planner key → row id
    offer_ids: dict[str, int] = field(default_factory=dict)  # offer key → offer id
    undated: set[str] = field(default_factory=set)  # planner keys of sessions without dates
    proposed: dict[tuple[int, int], RouteItem] = field(default_factory=dict)  # (teacher, offer)
    kept: set[int] = field(default_factory=set)  # proposed items a person acted on


def policy_of(settings: Settings) -> pm.Policy:
    """The planning policy: the ``[matching]`` weights and limits of the policy in force (a
    revision on /policy, or the thresholds file) over the documented defaults of ``Policy``;
    the hours cap from the settings unless the policy sets one; whether risk levels count
    from the settings."""
    doc = effective_document(settings)
    return matching_policy(doc, **({} if "hours_cap" in doc.get("matching", {})
                                   else {"hours_cap": settings.plan_hours_cap}),
                           include_risk=settings.include_risk)


def session_key(offer_key: str, key: str) -> str:
    """The planner's key of an offer's session."""
    return f"{offer_key}/{key}"


def touched(diagnostic: Diagnostic) -> set[int]:
    """Proposed items a person acted on (the teacher accepted one or asked for a change):
    a re-run keeps them, so their history and requests are never lost."""
    proposed = (select(RouteItem.id).join(Route)
                .where(Route.diagnostic_id == diagnostic.id, RouteItem.status == PROPOSED))
    return set(db.session.scalars(select(RouteItemEvent.route_item_id).where(
        RouteItemEvent.route_item_id.in_(proposed)))) | set(db.session.scalars(
            select(RouteChangeRequest.route_item_id).where(
                RouteChangeRequest.route_item_id.in_(proposed))))


def plan_input(diagnostic: Diagnostic, settings: Settings) -> Planning:
    """Everything planning reads for ``diagnostic``: teachers with needs, their needs, the
    catalogue with its sessions (seats held by other diagnostics' items taken off), mentors,
    the fixed items (held or acted-on items of this diagnostic), the excluded offers per
    teacher, the previous proposal and what the latest finished period says of the offers
    (``app.analyse.outcomes.offer_effects``)."""
    planning = Planning(pm.PlanInput((), (), (), ()))
    kept = touched(diagnostic)
    planning.kept = kept
    # This diagnostic's items: fixed (held, or proposed and acted on), proposed, and offers
    # never to propose again (rejected, declined, cancelled here; declined/replanned anywhere).
    fixed_rows: list[tuple[int, RouteItem]] = []
    excluded: set[tuple[int, str]] = set()
    previous: list[tuple[int, RouteItem]] = []
    offer_key_of = dict(db.session.execute(select(Offer.id, Offer.key)).all())
    for teacher_id, item in db.session.execute(
            select(Route.teacher_id, RouteItem).join(RouteItem, RouteItem.route_id == Route.id)
            .where(Route.diagnostic_id == diagnostic.id)):
        if item.status in HOLDING or item.id in kept:
            fixed_rows.append((teacher_id, item))
        elif item.status == PROPOSED:
            previous.append((teacher_id, item))
            planning.proposed[(teacher_id, item.offer_id)] = item
        elif item.status in (REJECTED, DECLINED, CANCELLED, REPLANNED):
            excluded.add((teacher_id, offer_key_of[item.offer_id]))
    for teacher_id, key in db.session.execute(
            select(Route.teacher_id, Offer.key).join(RouteItem, RouteItem.route_id == Route.id)
            .join(Offer, Offer.id == RouteItem.offer_id)
            .where(RouteItem.status.in_((DECLINED, REPLANNED)))):
        excluded.add((teacher_id, key))
    for teacher_id, key in db.session.execute(
            select(CourseCompletion.teacher_id, Offer.key)
            .join(Offer, Offer.moodle_course_id == CourseCompletion.moodle_course_id)
            .where(CourseCompletion.completed.is_(True))):
        excluded.add((teacher_id, key))

    needs = _needs(diagnostic, settings)
    teacher_ids = {n.teacher_id for n in needs} | {t for t, _ in fixed_rows}
    teachers = _teachers(teacher_ids, diagnostic)
    offers, sessions, mentors = _catalogue(diagnostic, planning)
    first_session: dict[int, str] = {}
    for key in planning.session_ids:
        offer_key = key.split("/", 1)[0]
        first_session.setdefault(planning.offer_ids[offer_key], key)
    key_of_session = {sid: key for key, sid in planning.session_ids.items() if sid is not None}
    fixed = []
    for teacher_id, item in fixed_rows:
        found = key_of_session.get(item.session_id or -1) or first_session.get(item.offer_id)
        if found is not None:
            fixed.append(pm.FixedItem(teacher_id, found, item.status))
    prev = tuple(sorted((t, key_of_session[i.session_id]) for t, i in previous
                        if i.session_id in key_of_session))
    planning.input = pm.PlanInput(
        teachers=teachers, needs=needs, offers=offers, sessions=sessions, mentors=mentors,
        fixed=tuple(fixed), excluded=tuple(sorted(excluded)), previous=prev,
        effects=offer_effects())
    return planning


def _needs(diagnostic: Diagnostic, settings: Settings) -> tuple[pm.PlanNeed, ...]:
    levels = (pm.LEVEL_DEFICIT, pm.LEVEL_RISK) if settings.include_risk else (pm.LEVEL_DEFICIT,)
    stage = pm.STAGE_FINAL if diagnostic.kind == "final" else pm.STAGE_ENTRY
    rows = db.session.execute(
        select(Deficit.teacher_id, Competency.idnumber, Deficit.level, Deficit.score)
        .join(Competency, Competency.id == Deficit.competency_id)
        .join(Teacher, Teacher.id == Deficit.teacher_id)
        .where(Deficit.diagnostic_id == diagnostic.id, Deficit.level.in_(levels),
               Teacher.active.is_(True))
        .order_by(Deficit.teacher_id, Competency.idnumber))
    return tuple(pm.PlanNeed(
        teacher_id=t, competency=c, level=lvl, score=float(sc or 0.0), stage=stage,
        threshold=settings.deficit_below if lvl == pm.LEVEL_DEFICIT else settings.risk_below)
        for t, c, lvl, sc in rows)


def _teachers(ids: set[int], diagnostic: Diagnostic) -> tuple[pm.PlanTeacher, ...]:
    """The teachers; the risk group as the deficits stage stored it (``teacher_memo``)."""
    if not ids:
        return ()
    risk_group = {t for t, value in db.session.execute(
        select(TeacherMemo.teacher_id, TeacherMemo.value).where(
            TeacherMemo.kind == RISK, TeacherMemo.diagnostic_id == diagnostic.id))
        if (value or {}).get("reason")}
    away: dict[int, list[pm.DateRange]] = defaultdict(list)
    for teacher_id, starts, ends in db.session.execute(
            select(TeacherUnavailable.teacher_id, TeacherUnavailable.starts_on,
                   TeacherUnavailable.ends_on)
            .where(TeacherUnavailable.teacher_id.in_(ids))):
        away[teacher_id].append((starts, ends))
    codes = dict(db.session.execute(select(School.id, School.code)).all())
    partners: dict[int, set[str]] = defaultdict(set)
    for rc, partner in db.session.execute(
            select(Partnership.resource_centre_id, Partnership.school_id)):
        partners[partner].add(codes[rc])
    out = []
    for teacher in db.session.scalars(
            select(Teacher).where(Teacher.id.in_(ids)).order_by(Teacher.id)
            .options(selectinload(Teacher.school).selectinload(School.municipality))):
        school = teacher.school
        out.append(pm.PlanTeacher(
            teacher_id=teacher.id, school_code=school.code if school else None,
            municipality=school.municipality.name if school and school.municipality else None,
            subjects=subject_keys(teacher.subject_list),
            unavailable=tuple(sorted(away.get(teacher.id, ()))),
            low_results_school=bool(school and school.low_results),
            risk_group=teacher.id in risk_group,
            partners=tuple(sorted(partners.get(school.id, ()))) if school else ()))
    return tuple(out)


def subject_keys(subjects: Iterable[str]) -> tuple[str, ...]:
    """Subjects as the planner compares them: case and outer spaces do not matter
    (Moodle's «Математика» is a catalogue's «математика»)."""
    return tuple(dict.fromkeys(s.strip().casefold() for s in subjects if s.strip()))


def _catalogue(diagnostic: Diagnostic, planning: Planning
               ) -> tuple[tuple[pm.PlanOffer, ...], tuple[pm.PlanSession, ...],
                          tuple[pm.PlanMentor, ...]]:
    """Offers, sessions and mentors; seats and mentor places held by items of other
    diagnostics are taken off (this diagnostic's held items come in as fixed items)."""
    elsewhere = (select(RouteItem.session_id, RouteItem.offer_id, func.count())
                 .join(Route, Route.id == RouteItem.route_id)
                 .where(RouteItem.status.in_(HOLDING), Route.diagnostic_id != diagnostic.id)
                 .group_by(RouteItem.session_id, RouteItem.offer_id))
    held_session: dict[int, int] = defaultdict(int)
    held_offer: dict[int, int] = defaultdict(int)
    for sid, oid, n in db.session.execute(elsewhere):
        held_offer[oid] += int(n)
        if sid is not None:
            held_session[sid] += int(n)
    municipalities = dict(db.session.execute(
        select(Municipality.id, Municipality.name)).all())
    offers: list[pm.PlanOffer] = []
    sessions: list[pm.PlanSession] = []
    mentor_cap: dict[str, int] = {}
    undated = 0
    query = (select(Offer).order_by(Offer.key).options(
        selectinload(Offer.competencies), selectinload(Offer.sessions),
        selectinload(Offer.host_school).selectinload(School.municipality)))
    for offer in db.session.scalars(query):
        planning.offer_ids[offer.key] = offer.id
        host = offer.host_school
        muni = municipalities.get(offer.municipality_id) if offer.municipality_id else None
        if muni is None and host is not None and host.municipality is not None:
            muni = host.municipality.name
        fmt = offer.format if offer.format in pm.FORMATS else None
        if fmt is None:
            # Unknown format: Moodle courses and offers with no place are taken as remote.
            fmt = pm.IN_PERSON if (muni or host) and offer.kind != "course" else pm.REMOTE
        mentor = None
        if offer.kind == "mentoring" and (offer.mentor_moodle_user_id or offer.mentor_name):
            mentor = (f"moodle:{offer.mentor_moodle_user_id}" if offer.mentor_moodle_user_id
                      else f"name:{offer.mentor_name}")
            if offer.capacity is not None:
                cap = max(offer.capacity - held_offer.get(offer.id, 0), 0)
                mentor_cap[mentor] = min(mentor_cap.get(mentor, cap), cap)
        offers.append(pm.PlanOffer(
            key=offer.key, kind=_KINDS.get(offer.kind, pm.MOODLE_COURSE), title=offer.title,
            competencies=tuple(sorted(c.idnumber for c in offer.competencies)),
            subjects=subject_keys(offer.subjects or ()), format=fmt, municipality=muni,
            host_school=host.code if host else None, mentor_id=mentor))
        rows = sorted(offer.sessions, key=lambda s: s.key)
        if not rows:  # no session rows: the offer's own dates and seats, no row id
            key = session_key(offer.key, "default")
            planning.session_ids[key] = None
            seats = None if offer.seats is None else \
                max(offer.seats - held_offer.get(offer.id, 0), 0)
            starts, ends = offer.starts_on, offer.ends_on
            hours = offer.hours
            sessions.append(_session(offer.key, key, starts, ends, seats=seats, hours=hours,
                                     place=None, undated=undated, planning=planning))
            undated += starts is None
            continue
        for row in rows:
            key = session_key(offer.key, row.key)
            planning.session_ids[key] = row.id
            seats = None if row.seats is None else max(row.seats - held_session.get(row.id, 0), 0)
            hours = row.hours if row.hours is not None else offer.hours
            sessions.append(_session(offer.key, key, row.starts_on, row.ends_on, seats=seats,
                                     hours=hours, place=row.place or None, undated=undated,
                                     planning=planning))
            undated += row.starts_on is None
    mentors = tuple(pm.PlanMentor(m, c) for m, c in sorted(mentor_cap.items()))
    return tuple(offers), tuple(sessions), mentors


def _session(offer_key: str, key: str, starts: dt.date | None, ends: dt.date | None, *,
             seats: int | None, hours: int | None, place: str | None, undated: int,
             planning: Planning) -> pm.PlanSession:
    if starts is None:
        planning.undated.add(key)
        starts = ends = UNDATED + dt.timedelta(days=undated)
    ends = ends if ends is not None and ends >= starts else starts
    return pm.PlanSession(offer_key=offer_key, key=key, starts_on=starts, ends_on=ends,
                          seats=seats, hours=float(hours or 0), place=place)

