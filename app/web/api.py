"""JSON API: the deficit map and a teacher's route, within the caller's scope."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER
from app.common.moodle import moodle_api
from app.extensions import db
from app.models import Diagnostic, Route, RouteItem
from app.reports import analytics
from app.reports.maps import current_diagnostic, deficit_map
from app.sync.check import check_moodle
from app.web.access import allow, current_scope
from app.web.inputs import id_arg
from app.web.views import teacher_in_scope

bp = Blueprint("api", __name__)


@bp.get("/deficit-map")
@allow(METHODOLOGIST, ADMIN)
def api_deficit_map() -> ResponseReturnValue:
    """Deficit shares per school and competency, of the latest diagnostic or ``?diagnostic=``,
    of the teachers in the caller's scope.

    :raise 404: nothing synced yet, or an unknown diagnostic id.
    """
    chosen = id_arg(request.args, "diagnostic")
    diagnostic = db.session.get(Diagnostic, chosen) if chosen else current_diagnostic()
    if diagnostic is None:
        abort(404, description=f"no diagnostic with id {chosen}" if chosen
              else "no diagnostic synced yet")
    return jsonify(deficit_map(diagnostic, current_scope()).__dict__)


@bp.get("/teachers/<int:moodle_user_id>/route")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def api_route(moodle_user_id: int) -> ResponseReturnValue:
    """The teacher's route items with status, competencies and reasons.

    :raise 404: no teacher with this Moodle user id in the caller's scope.
    """
    person = teacher_in_scope(moodle_user_id, current_scope())
    routes = db.session.scalars(select(Route).where(Route.teacher_id == person.id).options(
        selectinload(Route.items).selectinload(RouteItem.offer))).all()
    items = [{"offer": i.offer.key, "kind": i.offer.kind, "title": i.offer.title,
              "status": i.status, "rule": i.rule, "competencies": i.competencies,
              "reasons": i.reasons} for r in routes for i in r.items]
    return jsonify({"teacher": person.full_name, "moodle_user_id": moodle_user_id,
                    "items": items})


@bp.get("/deficit-map/<view>")
@allow(METHODOLOGIST, ADMIN)
def api_deficit_views(view: str) -> ResponseReturnValue:
    """Other views of the levels: ``by-type``, ``ranking``, ``over-time``, ``risk-group``,
    ``change`` (the latest entry diagnostic against the latest final one).

    :raise 404: unknown view, or nothing synced yet.
    """
    scope = current_scope()
    if view == "change":
        pair = analytics.diagnostic_pair()
        if pair is None:
            abort(404, description="an entry and a final diagnostic are needed for the change")
        return jsonify({"view": view, **analytics.dynamics(*pair, scope=scope)})
    diagnostic = current_diagnostic()
    settings = settings_of(current_app)
    views = {"by-type": lambda d: analytics.by_school_type(d, scope),
             "ranking": lambda d: analytics.ranking(d, scope),
             "risk-group": lambda d: analytics.risk(d, settings, scope=scope)}
    if diagnostic is None or (view not in views and view != "over-time"):
        abort(404, description=f"unknown view {view!r} or no diagnostic synced yet")
    rows = analytics.over_time(scope) if view == "over-time" else views[view](diagnostic)
    return jsonify({"view": view, "rows": rows})


@bp.get("/moodle/check")
@allow(ADMIN)
def api_moodle_check() -> ResponseReturnValue:
    """The check-moodle report: ``{ok, checks: [{name, ok, detail}]}`` (admins only: it
    makes some 17 Moodle calls).

    :raise 400: Moodle's URL or token is not configured.
    """
    settings = settings_of(current_app)
    return jsonify(check_moodle(moodle_api(settings), settings).as_dict())
