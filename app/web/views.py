"""Web UI (Russian): the deficit map, the indicators and the teachers in the caller's scope."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import joinedload

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER, Scope, teacher_clause
from app.analyse.teacher_memo import (
    diagnostic_ids,
    kept_risk_inputs,
    stored_for,
    teacher_change,
    teacher_risk,
)
from app.common import audit
from app.common.inputs import MAX_ID
from app.common.marker import current_version, kept
from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Route, RouteItem, Teacher
from app.reports.indicators import (
    compare_period,
    indicator_report,
    levels_policy,
    municipality_names,
    period_from,
    previous_year,
    report_workbook,
)
from app.reports.maps import current_diagnostic, deficit_map
from app.web.access import allow, current_scope, only_teacher
from app.web.inputs import date_args, id_arg
from app.web.map_paging import map_workbook, municipality_filter, paged_map

bp = Blueprint("views", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEVEL_RU = {"deficit": "дефицит", "risk": "риск", "ok": "норма",
            "insufficient": "недостаточно данных"}
STATUS_RU = {"proposed": "предложено", "approved": "утверждено", "enrolled": "зачислен",
             "completed": "завершено", "rejected": "отклонено", "cancelled": "отменено"}
KIND_RU = {"course": "КПК", "internship": "Стажировка", "mentoring": "Наставничество",
           "resource_centre": "ресурсный центр", "low_results": "ШНОР",
           "adverse_context": "ШФНСУ", "other": "другая", "unknown": "—"}
PERIOD_ARGS = ("from", "to", "compare_from", "compare_to")


@bp.get("/")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def index() -> ResponseReturnValue:
    """The schools × competencies deficit map of the latest diagnostic (or ``?diagnostic=``),
    of the schools in the caller's scope; a teacher is sent to their own page.

    The schools come a page at a time (``?page=``, ``?sort=need|name|<competency>``,
    ``?municipality=<id>`` of the caller's), the municipalities' rows on top of each.

    :raise 404: an unknown diagnostic id or municipality (or one out of scope); a teacher
        whose page does not exist yet.
    """
    scope = current_scope()
    if only_teacher():
        if scope.teacher_moodle_id is None:
            abort(404)
        return redirect(f"/teachers/{scope.teacher_moodle_id}")
    chosen = id_arg(request.args, "diagnostic")
    diagnostic = db.session.get(Diagnostic, chosen) if chosen else current_diagnostic()
    if chosen and diagnostic is None:
        abort(404, description=f"no diagnostic with id {chosen}")
    narrowed, municipality, municipalities = municipality_filter(request.args, scope)
    data, page = paged_map(diagnostic, narrowed, request.args) if diagnostic else (None, None)
    others = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all()
    return render_template("index.html", diagnostic=diagnostic, data=data, kinds=KIND_RU,
                           diagnostics=others, page=page, municipality=municipality,
                           municipalities=municipalities)


@bp.get("/map.xlsx")
@allow(METHODOLOGIST, ADMIN)
def map_xlsx() -> Response:
    """The whole deficit map as an XLSX file: every school of the caller's scope (or of
    ``?municipality=``) ranked by need, under the municipalities' rows, of the latest
    diagnostic (or ``?diagnostic=``).

    :raise 404: no diagnostic yet, an unknown diagnostic id, or a municipality out of scope.
    """
    chosen = id_arg(request.args, "diagnostic")
    diagnostic = db.session.get(Diagnostic, chosen) if chosen else current_diagnostic()
    if diagnostic is None:
        abort(404, description="Данных пока нет: выполните profroute sync и profroute deficits")
    narrowed, municipality, _ = municipality_filter(request.args, current_scope())
    data = deficit_map(diagnostic, narrowed)
    audit.record("export.xlsx", ("deficit_map", diagnostic.id),
                 {"municipality": municipality.name if municipality else None}, commit=True)
    name = f"deficit-map-{diagnostic.id}" + (f"-{municipality.id}" if municipality else "")
    return Response(map_workbook(diagnostic, data, municipality), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}.xlsx"})


@bp.get("/indicators")
@allow(METHODOLOGIST, ADMIN)
def indicators_page() -> str:
    """The indicators of the region and each municipality for the school year (or ?from=&to=).

    ``municipality`` narrows to one municipality; ``compare_from``/``compare_to`` add a period
    beside. Each indicator's numerator and denominator are defined on the page.

    :raise 400: a date is not YYYY-MM-DD, a period ends before it starts, only one comparison
        date is given, or the municipality is unknown.
    """
    args = request.args
    start, end, compare_from, compare_to = date_args(args, *PERIOD_ARGS)
    period = period_from(start, end)
    compare = compare_period(compare_from, compare_to)
    report = indicator_report(settings_of(current_app), period,
                              args.get("municipality") or None, compare, current_scope())
    return render_template("indicators.html", report=report, previous=previous_year(period),
                           municipality=args.get("municipality") or "",
                           municipalities=municipality_names(current_scope()),
                           query=request.query_string.decode(), policy=levels_policy())


@bp.get("/indicators.xlsx")
@allow(METHODOLOGIST, ADMIN)
def indicators_xlsx_file() -> Response:
    """The same indicators as an XLSX file: one long table to filter by municipality.

    :raise 400: as the indicators page.
    """
    args = request.args
    start, end, compare_from, compare_to = date_args(args, *PERIOD_ARGS)
    period = period_from(start, end)
    compare = compare_period(compare_from, compare_to)
    settings = settings_of(current_app)
    report = indicator_report(settings, period, args.get("municipality") or None, compare,
                              current_scope())
    audit.record("export.xlsx", ("indicators", period.start),
                 {k: args.get(k) for k in ("municipality", "from", "to")}, commit=True)
    return Response(report_workbook(settings, report), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=indicators-{period.start}.xlsx"})


@bp.get("/teachers")
@allow(METHODOLOGIST, ADMIN)
def teachers() -> str:
    """Find a teacher in the caller's scope by name, username or Moodle id."""
    query = request.args.get("q", "").strip()
    found: list[Teacher] = []
    if query:
        like = f"%{query}%"
        conditions: list[ColumnElement[bool]] = [
            Teacher.lastname.ilike(like), Teacher.firstname.ilike(like),
            Teacher.username.ilike(like)]
        if query.isascii() and query.isdigit() and int(query) <= MAX_ID:
            conditions.append(Teacher.moodle_user_id == int(query))
        found = list(db.session.scalars(select(Teacher).where(
            or_(*conditions), teacher_clause(current_scope()))
                                        .order_by(Teacher.lastname).limit(50)))
    return render_template("teachers.html", q=query, found=found)


@bp.get("/teachers/<int:moodle_user_id>")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def teacher(moodle_user_id: int) -> str:
    """A teacher's scores per competency and route.

    :raise 404: no teacher with this Moodle user id in the caller's scope (one out of scope
        is not told apart from one that does not exist).
    """
    person = teacher_in_scope(moodle_user_id, current_scope())
    teacher_id = person.id
    # The diagnostics and the risk group's inputs (policy, competency groups) change
    # rarely: kept per process while the change marker, read first, stays the same.
    version = current_version()
    current, pair = kept("diagnostic_ids", version, diagnostic_ids)
    wanted = {current, *(pair or ())} - {None}
    levels = db.session.execute(
        select(Deficit.diagnostic_id, Competency.idnumber, Competency.name, Deficit.score,
               Deficit.level, Deficit.moodle_proficient, Deficit.agreement, Deficit.questions)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.teacher_id == teacher_id, Deficit.diagnostic_id.in_(wanted))
        .order_by(Competency.idnumber)).all() if wanted else []
    scores = [(r.idnumber, r.name, r.score, r.level, r.moodle_proficient, r.agreement)
              for r in levels if r.diagnostic_id == current]
    # The risk group and the change come stored per teacher (a few rows, not the whole
    # population); read before the routes, as storing a recomputed one commits.
    stored = stored_for(teacher_id)
    settings = settings_of(current_app)
    risky = teacher_risk(current, teacher_id, [(s[0], s[3]) for s in scores],
                         kept_risk_inputs(settings, version), stored) if current else None
    changes = teacher_change(*pair, teacher_id, stored, levels=[
        (r.diagnostic_id, r.idnumber, r.score, r.level, r.questions) for r in levels]
                             ) if pair else {}
    routes = db.session.scalars(select(Route).where(Route.teacher_id == teacher_id).options(
        joinedload(Route.items).joinedload(RouteItem.offer)).order_by(Route.id)).unique().all()
    return render_template("teacher.html", t=person, scores=scores, routes=routes,
                           levels=LEVEL_RU, statuses=STATUS_RU, kinds=KIND_RU, risk=risky,
                           changes=changes)


def teacher_in_scope(moodle_user_id: int, scope: Scope) -> Teacher:
    """The teacher with this Moodle user id, if the scope holds them.

    :raise 404: no such teacher, or one out of scope (the same answer: existence is not told).
    """
    person = db.session.scalars(select(Teacher).where(
        Teacher.moodle_user_id == moodle_user_id, teacher_clause(scope))
        .options(joinedload(Teacher.school))).first()
    if person is None:
        abort(404, description=f"Нет педагога с Moodle id {moodle_user_id}")
    return person
