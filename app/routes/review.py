"""People's decisions on route items: methodologists approve, reject or swap (one item or in
bulk, within their scope), teachers accept, decline or ask for a change; every change is
recorded as a ``route_item_event`` (who, when, from, to, why) and in the audit log.

Nothing here talks to Moodle: a decision is stored first, and the next push (enrolments,
suspensions, messages) reads the statuses, so a decision is never lost between pushes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import selectinload

from app.accounts.roles import Scope, teacher_clause
from app.common import audit
from app.extensions import db
from app.i18n import N_
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Offer,
    OfferSession,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.models.route import (
    APPROVED,
    BY_ACCOUNT,
    BY_CLI,
    BY_SYSTEM,
    BY_TEACHER,
    COMPLETED,
    DECLINED,
    ENROLLED,
    ITEM_STATUSES,
    PROPOSED,
    REJECTED,
    REPLANNED,
    VERIFIED,
)
from app.models.route_review import (
    ANSWERED,
    OPEN,
    RouteChangeRequest,
    RouteItemEvent,
    RouteUnmetNeed,
)
from app.routes.alternatives import (  # noqa: F401  (HOLDING, excluded_…, ranked_…: re-exported)
    HOLDING,
    Alternative,
    OfferPool,
    alternatives_of,
    excluded_offer_keys,
    ranked_alternatives,
)
from courses.plan_texts import UNMET_TEXTS
from deficits.change import deficit_changes
from deficits.levels import LEVEL_INSUFFICIENT

REJECTABLE = (PROPOSED, APPROVED, ENROLLED)
DECLINABLE = (PROPOSED, APPROVED, ENROLLED)
ACCEPTED, CHANGE_REQUESTED, CHANGE_ANSWERED, SWAPPED, RESCHEDULED = (
    "accepted", "change_requested", "change_answered", "swapped", "rescheduled")
MAX_TEXT = 2000
PAGE_SIZE = 50


class ReviewError(ValueError):
    """A decision that cannot be taken (wrong status, missing reason, unknown alternative);
    the message is in Russian, for the person who asked."""


@dataclass(frozen=True)
class Actor:
    """Who decides: ``kind`` (account, teacher, cli, system), ``name`` (login), web user id."""

    kind: str
    name: str
    user_id: int | None = None


def actor_now(teacher: bool = False) -> Actor:
    """The person acting now: the signed-in login (as the teacher with ``teacher``), else the
    CLI's ``cli:<os user>`` or ``system``."""
    user_id, name, _kind = audit.current_actor()
    if user_id is not None:
        return Actor(BY_TEACHER if teacher else BY_ACCOUNT, name, user_id)
    return Actor(BY_CLI if name.startswith("cli") else BY_SYSTEM, name)


def _move(item: RouteItem, status: str, actor: Actor, reason: str | None = None) -> None:
    item.move_to(status, actor_kind=actor.kind, actor=actor.name, actor_user_id=actor.user_id,
                 reason=reason)


def _note(item: RouteItem, action: str, actor: Actor, reason: str | None) -> None:
    """An event that keeps the status (accepted, change requested or answered)."""
    item.events.add(RouteItemEvent(
        from_status=item.status, to_status=item.status, action=action, actor_kind=actor.kind,
        actor=actor.name[:255], actor_user_id=actor.user_id, reason=reason))


def _text(value: str | None, what: str) -> str:
    """``value`` stripped; refused when empty or too long. The refusals are said in the
    reader's language on the pages (Russian outside a request: the CLI)."""
    text = (value or "").strip()
    if not text:
        raise ReviewError(_(_MISSING.get(what, what)))
    if len(text) > MAX_TEXT:
        raise ReviewError(_("Слишком длинный текст: не более %(n)s символов.", n=MAX_TEXT))
    return text


def _reason(alternative: Alternative) -> str:
    """Why an alternative cannot be taken, in the reader's language."""
    english = get_locale() is not None and str(get_locale()) == "en"
    return (alternative.reason_en or alternative.status) if english else alternative.reason


_MISSING = {"reason": N_("Укажите причину."), "message": N_("Укажите сообщение."),
            "answer": N_("Укажите ответ.")}


# --- What a caller may see -------------------------------------------------------------

@dataclass(frozen=True)
class ReviewFilter:
    """What the review list is narrowed to (empty: everything in scope)."""

    diagnostic_id: int | None = None
    municipality_id: int | None = None
    school_code: str = ""
    subject: str = ""
    competency: str = ""
    offer_key: str = ""
    session_id: int | None = None
    status: str = ""
    item_ids: tuple[int, ...] = ()
    teacher_moodle_id: int | None = None


Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


def _where_place(query: Q, chosen: ReviewFilter, diagnostic: Any) -> Q:
    """``query`` (joined to ``School``) narrowed to the diagnostic (``diagnostic``: its
    column), municipality and school of ``chosen``."""
    if chosen.diagnostic_id is not None:
        query = query.where(diagnostic == chosen.diagnostic_id)
    if chosen.municipality_id is not None:
        query = query.where(School.municipality_id == chosen.municipality_id)
    if chosen.school_code:
        query = query.where(School.code == chosen.school_code)
    return query


def scoped_items(scope: Scope, chosen: ReviewFilter | None = None) -> Select[RouteItem]:
    """The route items of the teachers in ``scope``, narrowed by ``chosen``."""
    chosen = chosen or ReviewFilter()
    query = (select(RouteItem).join(Route, Route.id == RouteItem.route_id)
             .join(Teacher, Teacher.id == Route.teacher_id)
             .outerjoin(School, School.id == Teacher.school_id)
             .join(Offer, Offer.id == RouteItem.offer_id)
             .where(teacher_clause(scope)))
    query = _where_place(query, chosen, Route.diagnostic_id)
    if chosen.subject:
        query = query.where(Teacher.subjects.contains(chosen.subject))
    if chosen.competency:
        # competencies is a JSON list: match the quoted code in its text form
        query = query.where(cast(RouteItem.competencies, String).contains(
            f'"{chosen.competency}"'))
    if chosen.offer_key:
        query = query.where(Offer.key == chosen.offer_key)
    if chosen.session_id is not None:
        query = query.where(RouteItem.session_id == chosen.session_id)
    if chosen.status:
        query = query.where(RouteItem.status == chosen.status)
    if chosen.item_ids:
        query = query.where(RouteItem.id.in_(chosen.item_ids))
    if chosen.teacher_moodle_id is not None:
        query = query.where(Teacher.moodle_user_id == chosen.teacher_moodle_id)
    return query


@dataclass
class ReviewPage:
    """One page of the review list and the counts per status (of the whole filter, status
    aside)."""

    items: list[RouteItem]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)
    open_requests: int = 0


def review_page(scope: Scope, chosen: ReviewFilter, page: int = 1,
                size: int = PAGE_SIZE) -> ReviewPage:
    """The items in scope matching ``chosen``, a page at a time (server side)."""
    query = scoped_items(scope, chosen)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(
        query.options(selectinload(RouteItem.offer), selectinload(RouteItem.offer_session),
                      selectinload(RouteItem.route).selectinload(Route.teacher)
                      .selectinload(Teacher.school))
        .order_by(RouteItem.id).limit(size).offset((page - 1) * size)))
    unstatused = ReviewFilter(**{**chosen.__dict__, "status": ""})
    counted = scoped_items(scope, unstatused).with_only_columns(
        RouteItem.status, func.count(RouteItem.id)).group_by(RouteItem.status)
    counts = dict.fromkeys(ITEM_STATUSES, 0)
    counts.update({status: int(n) for status, n in db.session.execute(counted)})
    return ReviewPage(items, total, page, pages, counts, len(open_requests(scope)))


def item_in_scope(scope: Scope, item_id: int) -> RouteItem | None:
    """The item ``item_id`` if its teacher is in ``scope`` (None: missing or out of scope)."""
    return db.session.scalars(scoped_items(scope, ReviewFilter(item_ids=(item_id,)))).first()


def select_items(scope: Scope, chosen: ReviewFilter) -> list[RouteItem]:
    """Every item in ``scope`` matching ``chosen`` (for bulk decisions)."""
    return list(db.session.scalars(scoped_items(scope, chosen).order_by(RouteItem.id)))


# --- Methodologists' decisions ---------------------------------------------------------

def approve_items(items: Sequence[RouteItem], actor: Actor) -> int:
    """Approve the proposed ones among ``items``; return how many (others are left as they
    are). One audit event lists the items and teachers (Moodle ids)."""
    done = [item for item in items if item.status == PROPOSED]
    for item in done:
        _move(item, APPROVED, actor)
    _audit("route.approve", done, {})
    db.session.commit()
    return len(done)


def reject_items(items: Sequence[RouteItem], actor: Actor, reason: str | None) -> int:
    """Reject the proposed, approved or enrolled ones among ``items`` with ``reason``
    (required); return how many. An enrolled item's enrolment is suspended at the next push.

    :raise ReviewError: no reason.
    """
    why = _text(reason, "reason")
    done = [item for item in items if item.status in REJECTABLE]
    for item in done:
        _move(item, REJECTED, actor, why)
    _audit("route.reject", done, {"reason": why})
    db.session.commit()
    return len(done)


AlternativesFn = Callable[[RouteItem], list[Alternative]]


def swap_item(item: RouteItem, offer_id: int, actor: Actor, reason: str | None = None,
              alternatives: AlternativesFn | None = None, *, session_id: int | None = None,
              hours_cap: float | None = None) -> RouteItem:
    """Replace ``item`` by its alternative ``offer_id`` (in ``session_id`` when given, else
    its best session still possible): the item is rejected ("заменено на …") and a new
    approved item takes its competencies, the alternative's session and seat, and the other
    alternatives; return the new item. Another session of the item's own offer moves the
    item itself there (status kept, event ``rescheduled``); return the item. The
    alternatives are re-checked now (:func:`~app.routes.alternatives.alternatives_of`,
    ``hours_cap`` the policy's), the offer's row locked first so two swaps never take the
    last seat twice.

    :raise ReviewError: the item is past review, the offer (session) is not among its
        alternatives, or it is no longer possible (full since, dates clash, hours cap …).
    """
    if item.status not in REJECTABLE:
        raise ReviewError(_("Позицию со статусом «%(status)s» заменить нельзя.",
                            status=item.status))
    db.session.execute(select(Offer.id).where(Offer.id == offer_id).with_for_update())
    found = (alternatives or (lambda i: alternatives_of(i, OfferPool.load(hours_cap))))(item)
    same = [a for a in found if a.offer_id == offer_id
            and (session_id is None or a.session_id == session_id)]
    if not same:
        raise ReviewError(_("Этой программы нет среди альтернатив позиции."))
    chosen = next((a for a in same if a.possible), None)
    if chosen is None:
        raise ReviewError(_("Замена на «%(title)s» уже невозможна: %(why)s.",
                            title=same[0].title, why=_reason(same[0])))
    why = (reason or "").strip()[:MAX_TEXT]
    if chosen.offer_id == item.offer_id:
        return _reschedule(item, chosen, actor, why)
    _move(item, REJECTED, actor, f"заменено на {chosen.offer_key}" + (f": {why}" if why else ""))
    rest = None if item.alternatives is None else [
        a for a in item.alternatives
        if (a.get("offer"), a.get("session")) != (chosen.offer_key, chosen.session_key)]
    new = RouteItem(route_id=item.route_id, offer_id=offer_id, session_id=chosen.session_id,
                    status=PROPOSED, rule="swap", competencies=list(item.competencies),
                    reasons=[chosen.reason, *item.reasons], alternatives=rest,
                    replaces_id=item.id)
    db.session.add(new)
    db.session.flush()
    new.events.add(RouteItemEvent(
        from_status=PROPOSED, to_status=APPROVED, action=SWAPPED, actor_kind=actor.kind,
        actor=actor.name[:255], actor_user_id=actor.user_id,
        reason=f"вместо {item.offer.key}" + (f": {why}" if why else "")))
    new.status = APPROVED
    _audit("route.swap", [item], {"offer": chosen.offer_key, "session": chosen.session_key,
                                  "new_item": new.id})
    db.session.commit()
    return new


def _reschedule(item: RouteItem, chosen: Alternative, actor: Actor, why: str) -> RouteItem:
    """Move ``item`` to another session of its own offer (status kept, the seat moves); the
    old session becomes one of its alternatives."""
    old = db.session.get(OfferSession, item.session_id) if item.session_id else None
    item.session_id = chosen.session_id
    if item.alternatives is not None:
        rest = []
        for alt in item.alternatives:
            if (alt.get("offer"), alt.get("session")) != (chosen.offer_key, chosen.session_key):
                rest.append(alt)
            elif old is not None:  # the session it leaves is free now
                rest.append({**alt, "session": old.key, "status": "free"})
        item.alternatives = rest
    item.events.add(RouteItemEvent(
        from_status=item.status, to_status=item.status, action=RESCHEDULED,
        actor_kind=actor.kind, actor=actor.name[:255], actor_user_id=actor.user_id,
        reason=f"сессия {chosen.session_key}" + (f" вместо {old.key}" if old else "")
        + (f": {why}" if why else "")))
    _audit("route.reschedule", [item], {"session": chosen.session_key,
                                        "from": old.key if old else None})
    db.session.commit()
    return item


def _audit(action: str, items: Sequence[RouteItem], details: dict[str, object]) -> None:
    if not items:
        return
    audit.record(action, ("route_item", items[0].id if len(items) == 1 else "bulk"), {
        **details, "items": [i.id for i in items][:1000], "count": len(items),
        "teachers": sorted({i.route.teacher.moodle_user_id for i in items})})


# --- The teacher's side ----------------------------------------------------------------

def teacher_items(moodle_user_id: int) -> list[RouteItem]:
    """The teacher's route items (every diagnostic), newest route first."""
    return list(db.session.scalars(
        select(RouteItem).join(Route).join(Teacher)
        .where(Teacher.moodle_user_id == moodle_user_id)
        .options(selectinload(RouteItem.offer).selectinload(Offer.host_school))
        .order_by(Route.diagnostic_id.desc(), RouteItem.id)))


def own_item(moodle_user_id: int, item_id: int) -> RouteItem | None:
    """The item ``item_id`` if it is the teacher's own (None otherwise)."""
    return db.session.scalars(select(RouteItem).join(Route).join(Teacher).where(
        RouteItem.id == item_id, Teacher.moodle_user_id == moodle_user_id)).first()


def accept(item: RouteItem, actor: Actor) -> None:
    """The teacher accepts an item still under way (status unchanged, an event recorded).

    :raise ReviewError: the item was rejected, declined or cancelled.
    """
    if item.status not in DECLINABLE:
        raise ReviewError(_("Эту позицию уже нельзя принять."))
    _note(item, ACCEPTED, actor, None)
    db.session.commit()


def decline(item: RouteItem, actor: Actor, reason: str | None) -> None:
    """The teacher declines an item with ``reason``: its seat is freed, the offer is never
    proposed to them again (:func:`excluded_offer_keys`), an enrolment made for it is
    suspended at the next push, and the next recommend re-plans the competencies.

    :raise ReviewError: no reason, or the item is past the point of declining.
    """
    why = _text(reason, "reason")
    if item.status not in DECLINABLE:
        raise ReviewError(_("Эту позицию уже нельзя отклонить."))
    _move(item, DECLINED, actor, why)
    _audit("route.decline", [item], {"reason": why})
    db.session.commit()


def request_change(item: RouteItem, actor: Actor, message: str | None) -> RouteChangeRequest:
    """The teacher asks for a change of ``item``; methodologists in scope see it.

    :raise ReviewError: no message, or the item is closed.
    """
    text = _text(message, "message")
    if item.status not in DECLINABLE:
        raise ReviewError(_("По этой позиции изменения уже не запрашиваются."))
    request = RouteChangeRequest(route_item_id=item.id, message=text, status=OPEN)
    db.session.add(request)
    _note(item, CHANGE_REQUESTED, actor, text)
    db.session.commit()
    return request


def open_requests(scope: Scope) -> list[RouteChangeRequest]:
    """The requests for a change of the teachers in ``scope`` still waiting for an answer."""
    return list(db.session.scalars(
        select(RouteChangeRequest).join(RouteItem).join(Route).join(Teacher)
        .where(RouteChangeRequest.status == OPEN, teacher_clause(scope))
        .order_by(RouteChangeRequest.id)))


def requests_in_scope(scope: Scope, limit: int = 200) -> list[RouteChangeRequest]:
    """The latest requests (open first) of the teachers in ``scope``."""
    return list(db.session.scalars(
        select(RouteChangeRequest).join(RouteItem).join(Route).join(Teacher)
        .where(teacher_clause(scope))
        .options(selectinload(RouteChangeRequest.item).selectinload(RouteItem.offer),
                 selectinload(RouteChangeRequest.item).selectinload(RouteItem.route)
                 .selectinload(Route.teacher))
        .order_by((RouteChangeRequest.status == OPEN).desc(),
                  RouteChangeRequest.id.desc()).limit(limit)))


def request_in_scope(scope: Scope, request_id: int) -> RouteChangeRequest | None:
    """The request ``request_id`` if its teacher is in ``scope``."""
    return db.session.scalars(
        select(RouteChangeRequest).join(RouteItem).join(Route).join(Teacher)
        .where(RouteChangeRequest.id == request_id, teacher_clause(scope))).first()


def answer_request(request: RouteChangeRequest, actor: Actor, answer: str | None, *,
                   reject: bool = False, swap_offer_id: int | None = None,
                   swap_session_id: int | None = None, hours_cap: float | None = None) -> None:
    """Answer a request (the teacher sees the answer on their page), and optionally reject
    the item or swap it for an alternative.

    :raise ReviewError: no answer, already answered, or the decision cannot be taken.
    """
    text = _text(answer, "answer")
    if request.status != OPEN:
        raise ReviewError(_("На этот запрос уже ответили."))
    item = request.item
    if swap_offer_id is not None:
        swap_item(item, swap_offer_id, actor, text, session_id=swap_session_id,
                  hours_cap=hours_cap)
    elif reject:
        reject_items([item], actor, text)
    request.status, request.answer, request.answered_by = ANSWERED, text, actor.name[:255]
    request.answered_at = dt.datetime.now(dt.UTC)
    _note(item, CHANGE_ANSWERED, actor, text)
    audit.record("route.answer", ("route_item", item.id), {"request": request.id})
    db.session.commit()


def events_of(item_ids: Sequence[int]) -> dict[int, list[RouteItemEvent]]:
    """The events of each item, oldest first."""
    out: dict[int, list[RouteItemEvent]] = {i: [] for i in item_ids}
    if item_ids:
        for event in db.session.scalars(select(RouteItemEvent).where(
                RouteItemEvent.route_item_id.in_(item_ids)).order_by(RouteItemEvent.id)):
            out[event.route_item_id].append(event)
    return out


def requests_of(item_ids: Sequence[int]) -> dict[int, list[RouteChangeRequest]]:
    """The change requests of each item, oldest first."""
    out: dict[int, list[RouteChangeRequest]] = {i: [] for i in item_ids}
    if item_ids:
        for request in db.session.scalars(select(RouteChangeRequest).where(
                RouteChangeRequest.route_item_id.in_(item_ids))
                .order_by(RouteChangeRequest.id)):
            out[request.route_item_id].append(request)
    return out


# --- Completed → verified or re-planned -------------------------------------------------

@dataclass
class VerifySummary:
    """Completed items the final diagnostic verified (every deficit closed) or re-planned."""

    verified: int = 0
    replanned: int = 0
    waiting: int = 0  # the final diagnostic has not measured every competency yet


def verify_completed(actor: Actor | None = None) -> VerifySummary:
    """Move completed items of the latest entry diagnostic's routes to verified when the
    latest final diagnostic closed every deficit they were for (``deficits.change``: the
    project's closed-deficit rule, the one the Moodle ratings use), else to re-planned (the
    competencies then re-enter matching); items whose competencies the final diagnostic has
    not measured (or measured without enough evidence) wait.
    """
    actor = actor or actor_now()
    summary = VerifySummary()
    entry = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "entry")
                               .order_by(Diagnostic.id.desc())).first()
    final = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "final")
                               .order_by(Diagnostic.id.desc())).first()
    if entry is None or final is None:
        return summary
    changes = deficit_changes(_levels(entry), _levels(final))
    outcome = {(int(r.user_id), str(r.competency)): (bool(r.closed), str(r.final_level))
               for r in changes.itertuples(index=False)}
    for item in db.session.scalars(select(RouteItem).join(Route).where(
            Route.diagnostic_id == entry.id, RouteItem.status == COMPLETED)
            .options(selectinload(RouteItem.route))):
        found = [outcome.get((item.route.teacher_id, c)) for c in item.competencies or []]
        if not found or any(f is None or f[1] == LEVEL_INSUFFICIENT for f in found):
            summary.waiting += 1
            continue
        still = [c for c, f in zip(item.competencies, found, strict=True)
                 if f is not None and not f[0]]
        if still:
            _move(item, REPLANNED, actor, "дефицит не закрыт: " + ", ".join(still))
            summary.replanned += 1
        else:
            _move(item, VERIFIED, actor, f"итоговая диагностика «{final.name}»")
            summary.verified += 1
    db.session.commit()
    return summary


def _levels(diagnostic: Diagnostic) -> pd.DataFrame:
    rows = db.session.execute(
        select(Deficit.teacher_id, Competency.idnumber, Deficit.level, Deficit.score,
               Deficit.questions)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.diagnostic_id == diagnostic.id)).all()
    return pd.DataFrame(rows, columns=["user_id", "competency", "level", "score", "questions"])


def competency_names() -> dict[str, str]:
    """Competency code → name (for the pages)."""
    return dict(db.session.execute(select(Competency.idnumber, Competency.name)).all())


def status_counts(items: Sequence[RouteItem]) -> dict[str, int]:
    """How many of ``items`` have each status."""
    return dict(Counter(item.status for item in items))



def unmet_counts(scope: Scope, chosen: ReviewFilter | None = None) -> list[UnmetCount]:
    """Needs the last planning left uncovered, of the teachers in ``scope`` (the diagnostic,
    municipality and school of ``chosen``), counted by reason, most first."""
    chosen = chosen or ReviewFilter()
    query = (select(RouteUnmetNeed.reason, func.count()).select_from(RouteUnmetNeed)
             .join(Teacher, Teacher.id == RouteUnmetNeed.teacher_id)
             .outerjoin(School, School.id == Teacher.school_id)
             .where(teacher_clause(scope)).group_by(RouteUnmetNeed.reason))
    query = _where_place(query, chosen, RouteUnmetNeed.diagnostic_id)
    if chosen.competency:
        query = query.where(RouteUnmetNeed.competency == chosen.competency)
    rows = sorted(((str(r), int(n)) for r, n in db.session.execute(query).all()),
                  key=lambda rn: (-rn[1], rn[0]))
    return [UnmetCount(reason, *UNMET_TEXTS.get(reason, (reason, reason)), count)
            for reason, count in rows]


@dataclass(frozen=True)
class UnmetCount:
    """How many needs stay uncovered for one reason (its words in Russian and English)."""

    reason: str
    text_ru: str
    text_en: str
    count: int
