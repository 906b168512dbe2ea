"""Recommend and approve stages: deficits become proposed route items, then approved ones."""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from app.common import audit
from app.common.runs import Summary
from app.extensions import db
from app.models import (
    Diagnostic,
    Offer,
    Route,
    RouteItem,
    RouteUnmetNeed,
    School,
    Teacher,
)
from app.models.route import APPROVED, CANCELLED, ENROLLED, PROPOSED
from app.routes.alternatives import stored_alternatives
from app.routes.plan_input import Planning, plan_input, policy_of
from app.routes.review import actor_now
from app.settings import Settings
from courses.plan_model import PlanItem, PlanNeed, PlanOffer, PlanSession, UnmetNeed
from courses.plan_scale import plan_any
from courses.plan_texts import item_record, need_record, record_text, unmet_record_text
from courses.planner import plan_greedy

logger = logging.getLogger(__name__)


@dataclass
class RecommendSummary(Summary):
    """What the recommend stage proposed, and how good the plan is (objective against a valid
    upper bound, the method, whether the greedy fallback was used, the decomposition)."""

    teachers_with_needs: int = 0
    proposed: int = 0
    kept: int = 0  # items kept as they were (approved, enrolled, acted on)
    by_rule: dict[str, int] = field(default_factory=dict)  # proposed items by offer kind
    unmatched: dict[str, int] = field(default_factory=dict)  # unmet needs by reason
    objective: float = 0.0
    bound: float = 0.0
    ratio: float = 1.0
    method: str = ""
    fallback: bool = False
    decomposition: str = ""


def recommend(diagnostic: Diagnostic, settings: Settings, *,
              solver: str | None = None) -> RecommendSummary:
    """Plan routes for every open need with the solver (``courses.plan_scale.plan_any``).

    Approved, enrolled and completed items, and proposed ones a person acted on, stay as they
    are and use their seats, hours and dates; rejected, declined and cancelled offers are never
    proposed again to that teacher. Proposed items the new plan keeps stay (same row), the
    others are replaced; each new item carries its session, competencies and explanation.
    Unmet needs are stored with their reasons (``route_unmet_need``), replaced per run.
    ``solver``: ``highs`` or ``greedy`` (default: the ``plan_solver`` setting).
    """
    planning = plan_input(diagnostic, settings)
    inp = planning.input
    policy = policy_of(settings)
    if (solver or settings.plan_solver) == "greedy":
        result = plan_greedy(inp, policy)
    else:
        _quiet_solver_banner()
        result = plan_any(inp, policy, time_limit=settings.plan_time_limit)
    kinds = {o.key: o.kind for o in inp.offers}
    offers, sessions = {o.key: o for o in inp.offers}, {s.key: s for s in inp.sessions}
    titles = {o.key: o.title for o in inp.offers}
    summary = RecommendSummary(teachers_with_needs=len({n.teacher_id for n in inp.needs}))
    wanted: dict[tuple[int, int], PlanItem] = {}
    for planned in result.items:
        if planned.fixed:
            summary.kept += 1
        else:
            wanted[(planned.teacher_id, planning.offer_ids[planned.offer_key])] = planned
    for key, old in planning.proposed.items():
        if key not in wanted:
            db.session.delete(old)
    db.session.flush()
    routes = {r.teacher_id: r for r in db.session.scalars(
        select(Route).where(Route.diagnostic_id == diagnostic.id))}
    for (teacher_id, offer_id), planned in sorted(wanted.items()):
        item = planning.proposed.get((teacher_id, offer_id))
        if item is None:
            route = routes.get(teacher_id)
            if route is None:
                route = routes[teacher_id] = Route(teacher_id=teacher_id,
                                                   diagnostic_id=diagnostic.id)
                db.session.add(route)
                db.session.flush()
            item = RouteItem(route_id=route.id, offer_id=offer_id, status=PROPOSED)
            db.session.add(item)
        _update_item(item, planned, planning, offers=offers, sessions=sessions, titles=titles)
        summary.proposed += 1
    summary.by_rule = dict(sorted(Counter(kinds[p.offer_key] for p in wanted.values()).items()))
    summary.unmatched = dict(sorted(Counter(u.reason for u in result.unmet).items()))
    _store_unmet(diagnostic, result.unmet, {(n.teacher_id, n.competency): n for n in inp.needs})
    summary.objective, summary.bound = round(result.objective, 6), round(result.bound, 6)
    summary.ratio = round(result.ratio, 6)
    summary.method, summary.fallback = result.method, result.fallback
    summary.decomposition = result.decomposition
    db.session.commit()
    return summary


def _update_item(item: RouteItem, planned: PlanItem, planning: Planning, *,
                 offers: dict[str, PlanOffer], sessions: dict[str, PlanSession],
                 titles: dict[str, str]) -> None:
    """Write a planned item's session, rule, competencies, explanation (structured, and its
    Russian text for exports and the CLI) and ranked alternatives; unchanged ones stay."""
    session_id = planning.session_ids.get(planned.session_key)
    rule = f"plan_{planned.place}"
    explanation = item_record(planned, offers[planned.offer_key],
                              sessions[planned.session_key], titles=titles,
                              undated=planned.session_key in planning.undated)
    reasons = [record_text(explanation)]
    competencies = list(planned.competencies)
    if (item.session_id, item.rule, item.competencies, item.reasons, item.explanation) != (
            session_id, rule, competencies, reasons, explanation):
        item.session_id, item.rule = session_id, rule
        item.competencies, item.reasons = competencies, reasons
        item.explanation = explanation
    alternatives = stored_alternatives(planned.alternatives)  # the review's swaps
    if item.alternatives != alternatives:
        item.alternatives = alternatives


_BANNER_SHOWN: list[bool] = []


def _quiet_solver_banner() -> None:
    """HiGHS prints its banner on standard output when a process makes its first solver: make
    that one with standard output pointed at standard error, so the CLI's JSON stays clean."""
    if _BANNER_SHOWN:
        return
    _BANNER_SHOWN.append(True)
    try:
        import highspy
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _store_unmet(diagnostic: Diagnostic, unmet: tuple[UnmetNeed, ...],
                 needs: dict[tuple[int, str], PlanNeed]) -> None:
    """Replace the diagnostic's unmet needs with this run's, rows unchanged when equal; each
    with its reason code, its Russian text and what the text is made of (``explanation``)."""
    old = {(r.teacher_id, r.competency): r for r in db.session.scalars(
        select(RouteUnmetNeed).where(RouteUnmetNeed.diagnostic_id == diagnostic.id))}
    for need in unmet:
        found = needs.get((need.teacher_id, need.competency))
        explanation = need_record(found) if found else None
        text = (unmet_record_text(need.competency, need.reason, explanation) if explanation
                else need.text)
        row = old.pop((need.teacher_id, need.competency), None)
        if row is None:
            db.session.add(RouteUnmetNeed(
                diagnostic_id=diagnostic.id, teacher_id=need.teacher_id,
                competency=need.competency, reason=need.reason, text=text,
                explanation=explanation))
        elif (row.reason, row.text, row.explanation) != (need.reason, text, explanation):
            row.reason, row.text, row.explanation = need.reason, text, explanation
    for row in old.values():
        db.session.delete(row)


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
