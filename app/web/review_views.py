"""The review of routes: methodologists approve, reject and swap items in their scope
(``/review``) and answer teachers' requests for a change (``/review/requests``); a teacher
sees their own route and accepts, declines or asks for a change (``/my/route``).

Every form is CSRF-protected; an item or request out of the caller's scope answers 404, as a
missing one does.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER, school_clause
from app.extensions import db
from app.i18n import N_
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    OfferSession,
    RouteItem,
    School,
    Teacher,
)
from app.models.route import ITEM_STATUSES
from app.routes import review
from app.routes.plan_input import policy_of
from app.routes.review import ReviewError, ReviewFilter
from app.web.access import allow, current_scope
from app.web.inputs import id_arg
from app.web.lang import reader_lang

bp = Blueprint("review", __name__, template_folder="templates")

# Labels stay plain Russian strs (views.py shows ACTION_RU/ACTOR_RU too); each is translated
# where it is shown. The statuses have their English pair here: pages choose by language.
STATUS_RU = {"proposed": N_("предложено"), "approved": N_("утверждено"),
             "enrolled": N_("зачислен"), "completed": N_("завершено"),
             "verified": N_("дефицит закрыт"), "replanned": N_("перепланировано"),
             "rejected": N_("отклонено методистом"), "declined": N_("отклонено педагогом"),
             "cancelled": N_("отменено")}
STATUS_EN = {"proposed": "proposed", "approved": "approved", "enrolled": "enrolled",
             "completed": "completed", "verified": "verified", "replanned": "re-planned",
             "rejected": "rejected", "declined": "declined", "cancelled": "cancelled"}
ACTION_RU = {**STATUS_RU, "accepted": N_("принято педагогом"),
             "change_requested": N_("запрошено изменение"), "change_answered": N_("дан ответ"),
             "swapped": N_("замена"), "rescheduled": N_("перенос на другую сессию")}
ACTOR_RU = {"account": N_("методист"), "teacher": N_("педагог"), "cli": N_("команда"),
            "system": N_("система")}
KIND_RU = {"course": N_("КПК"), "internship": N_("Стажировка"),
           "mentoring": N_("Наставничество")}
FILTERS = ("diagnostic", "municipality", "school", "subject", "competency", "offer", "session",
           "status")


def _filter(values: dict[str, str] | None = None) -> ReviewFilter:
    """The review filter of the request's arguments (or form), checked against the scope.

    :raise 404: a municipality or school out of scope or unknown.
    :raise 400: an unknown status.
    """
    args = values if values is not None else request.args
    scope = current_scope()
    municipality = id_arg(args, "municipality")
    if municipality is not None and not scope.region and (
            municipality not in scope.municipality_ids):
        abort(404)
    school = (args.get("school") or "").strip()
    if school and db.session.scalar(select(School.id).where(
            School.code == school, school_clause(scope))) is None:
        abort(404)
    status = (args.get("status") or "").strip()
    if status and status not in ITEM_STATUSES:
        abort(400, description=_("Неизвестный статус «%(status)s».", status=status))
    session = id_arg(args, "session")
    if session is not None and db.session.get(OfferSession, session) is None:
        abort(404)
    return ReviewFilter(
        diagnostic_id=id_arg(args, "diagnostic"), municipality_id=municipality,
        school_code=school, subject=(args.get("subject") or "").strip(),
        competency=(args.get("competency") or "").strip(),
        offer_key=(args.get("offer") or "").strip(), session_id=session, status=status)


def _hours_cap() -> float:
    """The hours cap per half-year of the policy in force (alternatives are re-checked
    against it)."""
    return policy_of(settings_of(current_app)).hours_cap


def _sessions(chosen: ReviewFilter) -> list[OfferSession]:
    """The sessions the session filter offers: those of the chosen offer (and the chosen
    session), by offer and key."""
    query = select(OfferSession).join(Offer).options(selectinload(OfferSession.offer))
    if chosen.offer_key:
        query = query.where(Offer.key == chosen.offer_key)
    elif chosen.session_id is not None:
        query = query.where(OfferSession.id == chosen.session_id)
    else:
        return []
    return list(db.session.scalars(query.order_by(Offer.key, OfferSession.key)))


def _back() -> ResponseReturnValue:
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/review") and "//" not in target
                    else "/review")


def _statuses() -> dict[str, str]:
    """The items' statuses in the reader's language."""
    return STATUS_EN if reader_lang() == "en" else STATUS_RU


def _refused(err: ReviewError) -> ResponseReturnValue:
    return render_template("error.html", title=_("Действие не выполнено"),
                           message=str(err)), 400


@bp.get("/review")
@allow(METHODOLOGIST, ADMIN)
def review_page() -> ResponseReturnValue:
    """The route items of the caller's scope, filtered (``municipality``, ``school``,
    ``subject``, ``competency``, ``offer``, ``session``, ``status``, ``diagnostic``), a page
    at a time (``page``), with the counts per status and the alternatives of items under
    review (the planner's, best first, re-checked today; see ``app.routes.alternatives``)."""
    scope = current_scope()
    chosen = _filter()
    page = review.review_page(scope, chosen, id_arg(request.args, "page") or 1)
    pool = review.OfferPool.load(_hours_cap())
    alternatives = {item.id: review.alternatives_of(item, pool)
                    for item in page.items if item.status in review.REJECTABLE}
    narrowed = select(Municipality).order_by(Municipality.name)
    if not scope.region:
        narrowed = narrowed.where(Municipality.id.in_(scope.municipality_ids))
    municipalities = db.session.scalars(narrowed).all()
    schools = db.session.scalars(select(School).where(school_clause(scope))
                                 .order_by(School.code)).all()
    offers = db.session.scalars(select(Offer).order_by(Offer.key)).all()
    here = request.full_path.rstrip("?")
    args = {k: request.args.get(k, "") for k in FILTERS}
    return render_template(
        "review.html", page=page, chosen=chosen, alternatives=alternatives, args=args,
        municipalities=municipalities, schools=schools, offers=offers, here=here,
        sessions=_sessions(chosen),
        statuses=_statuses(), kinds=KIND_RU,
        unmet=review.unmet_counts(scope, chosen),
        diagnostics=db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all())


def _item(item_id: int) -> RouteItem:
    item = review.item_in_scope(current_scope(), item_id)
    if item is None:
        abort(404)
    return item


@bp.post("/review/items/<int:item_id>/approve")
@allow(METHODOLOGIST, ADMIN)
def approve_item(item_id: int) -> ResponseReturnValue:
    """Approve one proposed item."""
    count = review.approve_items([_item(item_id)], review.actor_now())
    flash(_("Утверждено позиций: %(n)s.", n=count), "saved")
    return _back()


@bp.post("/review/items/<int:item_id>/reject")
@allow(METHODOLOGIST, ADMIN)
def reject_item(item_id: int) -> ResponseReturnValue:
    """Reject one item with a reason (``reason``, required)."""
    try:
        count = review.reject_items([_item(item_id)], review.actor_now(),
                                    request.form.get("reason"))
    except ReviewError as err:
        return _refused(err)
    flash(_("Отклонено позиций: %(n)s.", n=count), "saved")
    return _back()


@bp.post("/review/items/<int:item_id>/swap")
@allow(METHODOLOGIST, ADMIN)
def swap_item(item_id: int) -> ResponseReturnValue:
    """Swap one item for one of its alternatives (``offer_id``: ``<offer id>`` or
    ``<offer id>:<session id>``, or ``session_id`` apart); refused (400) when it is no
    longer possible."""
    item = _item(item_id)
    offer_id, session_id = _choice(request.form)
    try:
        if offer_id is None:
            raise ReviewError(_("Выберите программу для замены."))
        new = review.swap_item(item, offer_id, review.actor_now(), request.form.get("reason"),
                               session_id=session_id, hours_cap=_hours_cap())
    except ReviewError as err:
        return _refused(err)
    flash(_("Позиция заменена на «%(title)s».", title=new.offer.title), "saved")
    return _back()


def _choice(form: Mapping[str, str]) -> tuple[int | None, int | None]:
    """The alternative a form chose: ``offer_id`` as ``<offer>`` or ``<offer>:<session>``,
    else ``session_id``.

    :raise 400: not whole numbers.
    """
    offer, _colon, session = (form.get("offer_id") or "").partition(":")
    return (id_arg({"offer_id": offer}, "offer_id"),
            id_arg({"session_id": session or form.get("session_id", "")}, "session_id"))


@bp.post("/review/bulk")
@allow(METHODOLOGIST, ADMIN)
def bulk() -> ResponseReturnValue:
    """Approve or reject (``action``) in bulk: the checked items (``item``), or every item
    of the filter in the form (school, competency, offer, …) when ``by_filter`` is set; only
    items in the caller's scope are touched."""
    action = request.form.get("action", "")
    if action not in ("approve", "reject"):
        abort(400, description=_("Неизвестное действие."))
    scope = current_scope()
    if request.form.get("by_filter"):
        chosen = _filter(dict(request.form.items()))
        if chosen == ReviewFilter(status=chosen.status):
            abort(400, description=_("Выберите школу, компетенцию, программу или сессию."))
    else:
        ids = []
        for raw in request.form.getlist("item"):
            if not raw.isdigit():
                abort(400)
            ids.append(int(raw))
        if not ids:
            abort(400, description=_("Не выбрано ни одной позиции."))
        chosen = ReviewFilter(item_ids=tuple(ids))
    items = review.select_items(scope, chosen)
    try:
        if action == "approve":
            count = review.approve_items(items, review.actor_now())
        else:
            count = review.reject_items(items, review.actor_now(), request.form.get("reason"))
    except ReviewError as err:
        return _refused(err)
    flash(_("Утверждено позиций: %(n)s.", n=count) if action == "approve"
          else _("Отклонено позиций: %(n)s.", n=count), "saved")
    return _back()


@bp.get("/review/requests")
@allow(METHODOLOGIST, ADMIN)
def requests_page() -> ResponseReturnValue:
    """Teachers' requests for a change in the caller's scope (open first), to answer."""
    found = review.requests_in_scope(current_scope())
    pool = review.OfferPool.load(_hours_cap())
    alternatives = {r.id: review.alternatives_of(r.item, pool) for r in found
                    if r.status == "open" and r.item.status in review.REJECTABLE}
    return render_template("review_requests.html", requests=found,
                           alternatives=alternatives, statuses=_statuses())


@bp.post("/review/requests/<int:request_id>/answer")
@allow(METHODOLOGIST, ADMIN)
def answer_request(request_id: int) -> ResponseReturnValue:
    """Answer a request (``answer``), optionally rejecting (``decision=reject``) or swapping
    (``decision=swap``, ``offer_id``) the item."""
    found = review.request_in_scope(current_scope(), request_id)
    if found is None:
        abort(404)
    decision = request.form.get("decision", "")
    offer_id, session_id = _choice(request.form) if decision == "swap" else (None, None)
    try:
        review.answer_request(found, review.actor_now(), request.form.get("answer"),
                              reject=decision == "reject", swap_offer_id=offer_id,
                              swap_session_id=session_id, hours_cap=_hours_cap())
    except ReviewError as err:
        return _refused(err)
    flash(_("Ответ отправлен педагогу."), "saved")
    return redirect("/review/requests")


# --- The teacher's side ----------------------------------------------------------------

def _own_moodle_id() -> int:
    moodle_id = current_scope().teacher_moodle_id
    if moodle_id is None:
        abort(404)
    return moodle_id


@bp.get("/my/route")
@allow(TEACHER)
def my_route() -> ResponseReturnValue:
    """The teacher's own route: deficits, items (dates, place, hours, mentor), what happened
    to each item, requests and answers; accept, decline, ask for a change."""
    moodle_id = _own_moodle_id()
    teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=moodle_id)).first()
    if teacher is None:
        abort(404)
    items = review.teacher_items(moodle_id)
    ids = [item.id for item in items]
    deficits = db.session.execute(
        select(Deficit.level, Deficit.score, Deficit.diagnostic_id, Competency.idnumber,
               Competency.name).join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.teacher_id == teacher.id, Deficit.level.in_(("deficit", "risk")))
        .order_by(Deficit.diagnostic_id.desc())).all()
    return render_template("my_route.html", teacher=teacher, items=items,
                           events=review.events_of(ids), requests=review.requests_of(ids),
                           deficits=deficits, statuses=_statuses(),
                           actions=ACTION_RU, actors=ACTOR_RU, kinds=KIND_RU,
                           open_statuses=review.DECLINABLE)


def _own(item_id: int) -> RouteItem:
    item = review.own_item(_own_moodle_id(), item_id)
    if item is None:
        abort(404)
    return item


@bp.post("/my/route/items/<int:item_id>/<any(accept, decline, request):action>")
@allow(TEACHER)
def my_decision(item_id: int, action: str) -> ResponseReturnValue:
    """The teacher accepts, declines (``reason``) or asks for a change (``message``) of one
    of their own items."""
    item = _own(item_id)
    actor = review.actor_now(teacher=True)
    try:
        if action == "accept":
            review.accept(item, actor)
            flash(_("Позиция принята."), "saved")
        elif action == "decline":
            review.decline(item, actor, request.form.get("reason"))
            flash(_("Позиция отклонена; маршрут будет перепланирован без неё."), "saved")
        else:
            review.request_change(item, actor, request.form.get("message"))
            flash(_("Запрос отправлен методисту."), "saved")
    except ReviewError as err:
        return _refused(err)
    return redirect("/my/route")
