"""JSON API: the deficit map and a teacher's route, within the caller's scope.

Each view declares its arguments and answer with the schemas of ``app.web.openapi_schemas``,
which make the OpenAPI document (``app.web.openapi``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER
from app.common.moodle import moodle_api
from app.extensions import db
from app.models import Diagnostic, Route, RouteItem
from app.reports import analytics
from app.reports.capacity import capacity_report, parse_overrides
from app.reports.effectiveness import effectiveness_report
from app.reports.maps import current_diagnostic, deficit_map
from app.routes.explain import item_reasons
from app.sync.check import check_moodle
from app.web.access import allow, current_scope
from app.web.lang import reader_lang
from app.web.openapi import api_blueprint, refusals
from app.web.openapi_schemas import (
    MAX_ID,
    VIEWS,
    CapacityArgs,
    CapacitySchema,
    DeficitMapArgs,
    DeficitMapSchema,
    DeficitViewSchema,
    EffectivenessArgs,
    EffectivenessSchema,
    ErrorSchema,
    MoodleCheckSchema,
    TeacherRouteSchema,
)
from app.web.views import teacher_in_scope
from deficits.effectiveness import MIN_PAIRS

bp = api_blueprint("api", __name__, "The deficit map, its other views and a teacher's route, "
                                    "within the caller's scope; the Moodle check (admins).")
VIEW_PARAMETER = {"in": "path", "name": "view", "required": True,
                  "schema": {"type": "string", "enum": list(VIEWS)}}


@bp.route("/deficit-map")
@allow(METHODOLOGIST, ADMIN)
@refusals(bp)
@bp.arguments(DeficitMapArgs, location="query", as_kwargs=True)
@bp.response(200, DeficitMapSchema)
@bp.alt_response(404, schema=ErrorSchema, description="Nothing synced yet, or no such "
                                                      "diagnostic")
def api_deficit_map(diagnostic_id: int | None = None) -> Any:
    """Deficit shares per school and competency, of the latest diagnostic or ``?diagnostic=``,
    of the teachers in the caller's scope (methodologists, admins).

    :raise 404: nothing synced yet, or an unknown diagnostic id.
    """
    diagnostic = (db.session.get(Diagnostic, diagnostic_id) if diagnostic_id
                  else current_diagnostic())
    if diagnostic is None:
        abort(404, description=f"no diagnostic with id {diagnostic_id}" if diagnostic_id
              else "no diagnostic synced yet")
    return deficit_map(diagnostic, current_scope()).__dict__


@bp.route("/effectiveness")
@allow(METHODOLOGIST, ADMIN)
@refusals(bp)
@bp.arguments(EffectivenessArgs, location="query", as_kwargs=True)
@bp.response(200, EffectivenessSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A diagnostic id of the wrong kind")
def api_effectiveness(by: str = "offer", entry_id: int | None = None,
                      final_id: int | None = None, min_pairs: int = MIN_PAIRS) -> Any:
    """Which offers close deficits (``/effectiveness``'s table), of the teachers in the
    caller's scope (methodologists, admins).

    :raise 400: ``entry`` or ``final`` names no diagnostic of that kind.
    """
    try:
        return effectiveness_report(current_scope(), by, entry_id, final_id,
                                    min_pairs).as_dict()
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.route("/capacity")
@allow(METHODOLOGIST, ADMIN)
@refusals(bp)
@bp.arguments(CapacityArgs, location="query", as_kwargs=True)
@bp.response(200, CapacitySchema)
@bp.alt_response(400, schema=ErrorSchema, description="An unknown rate or a share outside 0..1")
def api_capacity(start: dt.date | None = None, end: dt.date | None = None) -> Any:
    """The next period's forecast (``/capacity``'s tables) for the caller's scope
    (methodologists, admins); rates overridden by ``?<kind>.<rate>=``.

    :raise 400: an unknown rate, a share outside 0..1, a period ending before it starts.
    """
    rates = {k: v for k, v in request.args.items() if "." in k and v.strip()}
    try:
        return capacity_report(current_scope(), start=start, end=end,
                               overrides=parse_overrides(rates)).as_dict()
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.route(f"/teachers/<int(max={MAX_ID}):moodle_user_id>/route")
@allow(METHODOLOGIST, ADMIN, TEACHER)
@refusals(bp)
@bp.response(200, TeacherRouteSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No teacher with this Moodle user id "
                                                      "in the caller's scope")
def api_route(moodle_user_id: int) -> Any:
    """The teacher's route items with status, competencies and reasons (teachers: their own;
    methodologists: their scope's; admins). The reasons are in Russian unless ``?lang=en``
    (or ``Accept-Language`` preferring English); ``explanation`` is what they are made of
    (null on items planned before it was kept, and on swaps).

    :raise 404: no teacher with this Moodle user id in the caller's scope.
    """
    person = teacher_in_scope(moodle_user_id, current_scope())
    routes = db.session.scalars(select(Route).where(Route.teacher_id == person.id).options(
        selectinload(Route.items).selectinload(RouteItem.offer))).all()
    lang = reader_lang()
    items = [{"offer": i.offer.key, "kind": i.offer.kind, "title": i.offer.title,
              "status": i.status, "rule": i.rule, "competencies": i.competencies,
              "reasons": item_reasons(i.explanation, i.reasons, lang),
              "explanation": i.explanation} for r in routes for i in r.items]
    return {"teacher": person.full_name, "moodle_user_id": moodle_user_id, "items": items}


@bp.route("/deficit-map/<view>", parameters=[VIEW_PARAMETER])
@allow(METHODOLOGIST, ADMIN)
@refusals(bp)
@bp.response(200, DeficitViewSchema)
@bp.alt_response(404, schema=ErrorSchema, description="Unknown view, or nothing synced yet "
                                                      "(change: no entry and final pair)")
def api_deficit_views(view: str) -> Any:
    """Other views of the levels: ``by-type``, ``ranking``, ``over-time``, ``risk-group``,
    ``change`` (the latest entry diagnostic against the latest final one); methodologists,
    admins.

    :raise 404: unknown view, or nothing synced yet.
    """
    scope = current_scope()
    if view == "change":
        pair = analytics.diagnostic_pair()
        if pair is None:
            abort(404, description="an entry and a final diagnostic are needed for the change")
        return {"view": view, **analytics.dynamics(*pair, scope=scope)}
    diagnostic = current_diagnostic()
    settings = settings_of(current_app)
    views = {"by-type": lambda d: analytics.by_school_type(d, scope),
             "ranking": lambda d: analytics.ranking(d, scope),
             "risk-group": lambda d: analytics.risk(d, settings, scope=scope)}
    if diagnostic is None or (view not in views and view != "over-time"):
        abort(404, description=f"unknown view {view!r} or no diagnostic synced yet")
    rows = analytics.over_time(scope) if view == "over-time" else views[view](diagnostic)
    return {"view": view, "rows": rows}


@bp.route("/moodle/check")
@allow(ADMIN)
@refusals(bp)
@bp.response(200, MoodleCheckSchema)
@bp.alt_response(400, schema=ErrorSchema, description="Moodle's URL or token is not "
                                                      "configured")
def api_moodle_check() -> Any:
    """The check-moodle report: ``{ok, checks: [{name, ok, detail}]}`` (admins only: it
    makes some 17 Moodle calls).

    :raise 400: Moodle's URL or token is not configured.
    """
    settings = settings_of(current_app)
    return check_moodle(moodle_api(settings), settings).as_dict()
