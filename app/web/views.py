"""Web UI for methodologists (Russian): the deficit map and any teacher's route."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import selectinload

from app import settings_of
from app.common import audit
from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Route, RouteItem, Teacher
from app.reports.analytics import risk, teacher_changes
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

bp = Blueprint("views", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

LEVEL_RU = {"deficit": "дефицит", "risk": "риск", "ok": "норма",
            "insufficient": "недостаточно данных"}
STATUS_RU = {"proposed": "предложено", "approved": "утверждено", "enrolled": "зачислен",
             "completed": "завершено", "rejected": "отклонено", "cancelled": "отменено"}
KIND_RU = {"course": "КПК", "internship": "Стажировка", "mentoring": "Наставничество",
           "resource_centre": "ресурсный центр", "low_results": "ШНОР",
           "adverse_context": "ШФНСУ", "other": "другая", "unknown": "—"}


@bp.get("/")
def index() -> str:
    """The schools × competencies deficit map of the latest diagnostic (or ``?diagnostic=``).

    :raise 404: an unknown diagnostic id.
    """
    chosen = request.args.get("diagnostic", type=int)
    diagnostic = db.session.get(Diagnostic, chosen) if chosen else current_diagnostic()
    if chosen and diagnostic is None:
        abort(404, description=f"no diagnostic with id {chosen}")
    data = deficit_map(diagnostic) if diagnostic else None
    others = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all()
    return render_template("index.html", diagnostic=diagnostic, data=data, kinds=KIND_RU,
                           diagnostics=others)


@bp.get("/indicators")
def indicators_page() -> str:
    """The indicators of the region and each municipality for the school year (or ?from=&to=).

    ``municipality`` narrows to one municipality; ``compare_from``/``compare_to`` add a period
    beside. Each indicator's numerator and denominator are defined on the page.

    :raise 400: a date is not YYYY-MM-DD, a period ends before it starts, only one comparison
        date is given, or the municipality is unknown.
    """
    args = request.args
    period = period_from(args.get("from"), args.get("to"))
    compare = compare_period(args.get("compare_from"), args.get("compare_to"))
    report = indicator_report(settings_of(current_app), period,
                              args.get("municipality") or None, compare)
    return render_template("indicators.html", report=report, previous=previous_year(period),
                           municipality=args.get("municipality") or "",
                           municipalities=municipality_names(),
                           query=request.query_string.decode(), policy=levels_policy())


@bp.get("/indicators.xlsx")
def indicators_xlsx_file() -> Response:
    """The same indicators as an XLSX file: one long table to filter by municipality.

    :raise 400: as the indicators page.
    """
    args = request.args
    period = period_from(args.get("from"), args.get("to"))
    compare = compare_period(args.get("compare_from"), args.get("compare_to"))
    settings = settings_of(current_app)
    report = indicator_report(settings, period, args.get("municipality") or None, compare)
    audit.record("export.xlsx", ("indicators", period.start),
                 {k: args.get(k) for k in ("municipality", "from", "to")}, commit=True)
    return Response(report_workbook(settings, report), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=indicators-{period.start}.xlsx"})


@bp.get("/teachers")
def teachers() -> str:
    """Find a teacher by name, username or Moodle id."""
    query = request.args.get("q", "").strip()
    found: list[Teacher] = []
    if query:
        like = f"%{query}%"
        conditions: list[ColumnElement[bool]] = [
            Teacher.lastname.ilike(like), Teacher.firstname.ilike(like),
            Teacher.username.ilike(like)]
        if query.isdigit():
            conditions.append(Teacher.moodle_user_id == int(query))
        found = list(db.session.scalars(select(Teacher).where(or_(*conditions))
                                        .order_by(Teacher.lastname).limit(50)))
    return render_template("teachers.html", q=query, found=found)


@bp.get("/teachers/<int:moodle_user_id>")
def teacher(moodle_user_id: int) -> str:
    """A teacher's scores per competency and route.

    :raise 404: no teacher with this Moodle user id.
    """
    person = db.session.scalars(select(Teacher).filter_by(moodle_user_id=moodle_user_id)).first()
    if person is None:
        abort(404)
    diagnostic = current_diagnostic()
    scores = db.session.execute(
        select(Competency.idnumber, Competency.name, Deficit.score, Deficit.level,
               Deficit.moodle_proficient, Deficit.agreement)
        .join(Deficit, Deficit.competency_id == Competency.id)
        .where(Deficit.teacher_id == person.id,
               Deficit.diagnostic_id == (diagnostic.id if diagnostic else None))
        .order_by(Competency.idnumber)).all()
    routes = db.session.scalars(select(Route).where(Route.teacher_id == person.id).options(
        selectinload(Route.items).selectinload(RouteItem.offer))).all()

    risk_rows = risk(diagnostic, settings_of(current_app)) if diagnostic else []
    risky = next((r["reason"] for r in risk_rows if r["user_id"] == person.id), None)
    return render_template("teacher.html", t=person, scores=scores, routes=routes,
                           levels=LEVEL_RU, statuses=STATUS_RU, kinds=KIND_RU, risk=risky,
                           changes=teacher_changes(person.id))
