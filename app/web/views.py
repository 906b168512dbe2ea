"""Web UI for methodologists (Russian): the deficit map and any teacher's route."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Competency, Deficit, Route, RouteItem, Teacher
from app.services.report import current_diagnostic, deficit_map

bp = Blueprint("views", __name__, template_folder="templates")

LEVEL_RU = {"deficit": "дефицит", "risk": "риск", "ok": "норма",
            "insufficient": "недостаточно данных"}
STATUS_RU = {"proposed": "предложено", "approved": "утверждено", "enrolled": "зачислен",
             "completed": "завершено", "rejected": "отклонено", "cancelled": "отменено"}
KIND_RU = {"course": "КПК", "internship": "Стажировка", "mentoring": "Наставничество",
           "resource_centre": "ресурсный центр", "low_results": "ШНОР",
           "adverse_context": "ШФНСУ", "other": "другая", "unknown": "—"}


@bp.get("/")
def index() -> str:
    """The schools × competencies deficit map of the latest diagnostic."""
    diagnostic = current_diagnostic()
    data = deficit_map(diagnostic) if diagnostic else None
    return render_template("index.html", diagnostic=diagnostic, data=data, kinds=KIND_RU)


@bp.get("/teachers")
def teachers() -> str:
    """Find a teacher by name, username or Moodle id."""
    query = request.args.get("q", "").strip()
    found: list[Teacher] = []
    if query:
        like = f"%{query}%"
        conditions = [Teacher.lastname.ilike(like), Teacher.firstname.ilike(like),
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
    scores = db.session.execute(
        select(Competency.idnumber, Competency.name, Deficit.score, Deficit.level)
        .join(Deficit, Deficit.competency_id == Competency.id)
        .where(Deficit.teacher_id == person.id).order_by(Competency.idnumber)).all()
    routes = db.session.scalars(select(Route).where(Route.teacher_id == person.id).options(
        selectinload(Route.items).selectinload(RouteItem.offer))).all()
    from app.services.analytics import risk

    diagnostic = current_diagnostic()
    risky = next((r["reason"] for r in (risk(diagnostic) if diagnostic else [])
                  if r["user_id"] == person.id), None)
    return render_template("teacher.html", t=person, scores=scores, routes=routes,
                           levels=LEVEL_RU, statuses=STATUS_RU, kinds=KIND_RU, risk=risky)
