"""Everything ProfRoute holds about one teacher, as JSON values (152-ФЗ: the subject's
access to their data), with an audit event of the export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts.personal_data import Holdings
from app.common import audit
from app.extensions import db
from app.models import (
    Attempt,
    AuditEvent,
    Competency,
    CompetencyRating,
    CourseCompletion,
    Deficit,
    Diagnostic,
    LtiAccount,
    LtiPlatform,
    Offer,
    Route,
    RouteChangeRequest,
    RouteItemEvent,
    RouteUnmetNeed,
    Teacher,
    TeacherUnavailable,
    WebUser,
)

# events listing teachers in details
LISTING_ACTIONS = ("route.approve", "route.cancel", "route.reject", "route.swap",
                   "route.reschedule", "route.decline")


def export_teacher(teacher: Teacher, site_url: str,
                   risk_reason: str | None = None) -> dict[str, Any]:
    """Everything ProfRoute holds about ``teacher``, as JSON values, and an audit event of
    the export (committed). ``risk_reason`` is why they are in the risk group, if they are
    (the caller computes it: the risk rule lives above this layer)."""
    held = Holdings.of([teacher.moodle_user_id], site_url)
    mid = teacher.moodle_user_id
    school = teacher.school
    data: dict[str, Any] = {
        "teacher": {name: getattr(teacher, name) for name in (
            "moodle_user_id", "username", "lastname", "firstname", "middlename", "email",
            "idnumber", "subjects", "subjects_override", "active", "inactive_since")},
        "school": None if school is None else {
            "code": school.code, "name": school.name,
            "municipality": school.municipality.name if school.municipality else None},
        "attempts": _attempts(teacher.id),
        "levels": _levels(teacher.id),
        "risk_group": {"member": risk_reason is not None, "reason": risk_reason},
        "moodle_ratings": [_row(r, "proficient", "grade", "rated_at", "synced_at")
                           | {"competency": _competency(r.competency_id)}
                           for r in _of(CompetencyRating, teacher.id)],
        "course_completions": [_row(c, "moodle_course_id", "completed", "progress",
                                    "time_completed", "source")
                               for c in _of(CourseCompletion, teacher.id)],
        "routes": _routes(teacher.id),
        "unmet_needs": [_row(u, "competency", "reason", "text", "explanation", "computed_at")
                        | {"diagnostic": _diagnostic(u.diagnostic_id)}
                        for u in _of(RouteUnmetNeed, teacher.id)],
        "unavailable_dates": [_row(u, "starts_on", "ends_on", "reason", "source")
                              for u in _of(TeacherUnavailable, teacher.id)],
        "outbox": [_row(r, "id", "kind", "status", "dedupe_key", "payload", "attempts",
                        "last_error", "created_at", "sent_at") for r in held.outbox.get(mid, [])],
        "xapi_statements": [s.statement | {"stored": s.stored.isoformat()} if s.stored
                            else s.statement for s in held.statements.get(mid, [])],
        "xapi_unmapped": [_row(u, "statement_id", "reason", "statement", "seen_at")
                          for u in held.unmapped.get(mid, [])],
        "lti_accounts": _lti_accounts(teacher.id),
        "audit_events": [audit.event_dict(e) for e in _audit_events_about(mid)],
    }
    audit.record("teacher.export", ("teacher", mid), {"sections": sorted(data)}, commit=True)
    return _plain(data)


def _of(model: Any, teacher_id: int) -> list[Any]:
    return list(db.session.scalars(select(model).where(model.teacher_id == teacher_id)
                                   .order_by(model.id)))


def _row(obj: object, *names: str) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _competency(competency_id: int | None) -> str | None:
    found = db.session.get(Competency, competency_id) if competency_id else None
    return found.idnumber if found else None


def _diagnostic(diagnostic_id: int) -> dict[str, Any] | None:
    found = db.session.get(Diagnostic, diagnostic_id)
    return None if found is None else {"moodle_quiz_id": found.moodle_quiz_id,
                                       "name": found.name, "kind": found.kind}


def _attempts(teacher_id: int) -> list[dict[str, Any]]:
    return [_row(a, "moodle_attempt_id", "attempt_no", "state", "time_finish", "sumgrades")
            | {"diagnostic": _diagnostic(a.diagnostic_id),
               "marks": [_row(r, "source", "key", "mark", "max_mark") for r in a.results]}
            for a in _of(Attempt, teacher_id)]


def _levels(teacher_id: int) -> list[dict[str, Any]]:
    return [_row(d, "score", "grade", "max_grade", "questions", "level", "moodle_attempt_id",
                 "thresholds", "moodle_proficient", "agreement", "computed_at")
            | {"diagnostic": _diagnostic(d.diagnostic_id),
               "competency": _competency(d.competency_id)}
            for d in _of(Deficit, teacher_id)]


def _routes(teacher_id: int) -> list[dict[str, Any]]:
    out = []
    for route in _of(Route, teacher_id):
        items = [_row(i, "status", "rule", "competencies", "reasons", "explanation",
                      "decision_reason", "updated_at")
                 | {"offer": _offer(i.offer_id), "events": _item_events(i.id),
                    "change_requests": _item_requests(i.id)} for i in route.items]
        out.append({"diagnostic": _diagnostic(route.diagnostic_id),
                    "created_at": route.created_at, "items": items})
    return out


def _item_events(item_id: int) -> list[dict[str, Any]]:
    return [_row(e, "at", "action", "from_status", "to_status", "actor_kind", "actor",
                 "reason") for e in db.session.scalars(select(RouteItemEvent).where(
                     RouteItemEvent.route_item_id == item_id).order_by(RouteItemEvent.id))]


def _item_requests(item_id: int) -> list[dict[str, Any]]:
    return [_row(r, "message", "created_at", "status", "answer", "answered_by", "answered_at")
            for r in db.session.scalars(select(RouteChangeRequest).where(
                RouteChangeRequest.route_item_id == item_id).order_by(RouteChangeRequest.id))]


def _offer(offer_id: int) -> dict[str, Any] | None:
    offer = db.session.get(Offer, offer_id)
    return None if offer is None else _row(offer, "key", "kind", "title", "moodle_course_id")


def _lti_accounts(teacher_id: int) -> list[dict[str, Any]]:
    out = []
    for account in _of(LtiAccount, teacher_id):
        platform = db.session.get(LtiPlatform, account.platform_id)
        user = db.session.get(WebUser, account.web_user_id)
        out.append(_row(account, "subject", "role", "lti_roles", "last_launch_at") | {
            "platform": platform.issuer if platform else None,
            "login": user.login if user else None})
    return out


def _audit_events_about(moodle_user_id: int) -> list[AuditEvent]:
    about = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_kind == "teacher", AuditEvent.object_id == str(moodle_user_id))))
    about += [e for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(LISTING_ACTIONS)))
        if moodle_user_id in (e.details or {}).get("teachers", [])]
    return sorted({e.id: e for e in about}.values(), key=lambda e: e.id)


def _plain(value: Any) -> Any:
    """Dates as ISO text, containers walked: JSON values only."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
