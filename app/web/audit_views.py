"""Admin pages of accountability: the audit log, and everything held about one teacher."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from app import settings_of
from app.accounts.personal_data import ErasureRefused, Holdings, erase_teacher
from app.accounts.personal_export import export_teacher
from app.common.audit import AuditError, AuditFilter, events, parse_date
from app.extensions import db
from app.models import Teacher
from app.reports.analytics import risk
from app.reports.maps import current_diagnostic
from app.settings import Settings
from app.web.access import allow

bp = Blueprint("audit", __name__, template_folder="templates")
PER_PAGE = 50
MAX_PAGE = 100_000


def risk_reason(teacher: Teacher, settings: Settings) -> str | None:
    """Why the teacher is in the risk group of the current diagnostic, or None."""
    diagnostic = current_diagnostic()
    rows = risk(diagnostic, settings) if diagnostic else []
    return next((str(r["reason"]) for r in rows if r["user_id"] == teacher.id), None)


@bp.get("/audit")
@allow("admin")
def audit_page() -> ResponseReturnValue:
    """The audit log, newest first: ``action`` (exact, or a prefix ending in «.»), ``actor``,
    ``since``/``until`` (YYYY-MM-DD, UTC days), ``page``.

    :raise 400: a date is not YYYY-MM-DD, or the page is not a number from 1.
    """
    args = request.args
    page = args.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
        abort(400, description=_("page: «%(page)s» — номер страницы от 1 до %(max)s",
                                 page=page[:20], max=MAX_PAGE))
    try:
        where = AuditFilter(action=args.get("action", "").strip()[:64],
                            actor=args.get("actor", "").strip()[:255],
                            since=parse_date(args.get("since"), "since"),
                            until=parse_date(args.get("until"), "until"))
    except AuditError as err:
        abort(400, description=_("Неверная дата: %(error)s", error=err))
    rows, total = events(where, page=int(page), per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    query = {k: v for k, v in args.items() if k != "page"}
    return render_template("audit.html", rows=rows, total=total, page=int(page), pages=pages,
                           where=where, query=query, dumps=_dumps)


@bp.get("/teachers/<int:moodle_user_id>/personal-data.json")
@allow("admin")
def teacher_personal_data(moodle_user_id: int) -> ResponseReturnValue:
    """Everything held about the teacher, as a JSON file (the export is audited).

    :raise 404: no teacher with this Moodle user id.
    """
    teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=moodle_user_id)).first()
    if teacher is None:
        abort(404, description=_("Педагог с id Moodle %(id)s не найден", id=moodle_user_id))
    settings = settings_of(current_app)
    data = export_teacher(teacher, settings.moodle_url, risk_reason(teacher, settings))
    return Response(_dumps(data, indent=2), mimetype="application/json", headers={
        "Content-Disposition":
            f"attachment; filename=teacher-{moodle_user_id}-personal-data.json"})


@bp.post("/teachers/<int:moodle_user_id>/erase")
@allow("admin")
def teacher_erase(moodle_user_id: int) -> ResponseReturnValue:
    """Erase the teacher and everything naming them; ``confirm`` must repeat the Moodle id.

    :raise 400: the confirmation does not repeat the id (nothing erased).
    :raise 404: no teacher with this Moodle user id.
    :raise 409: a push is sending rows for the teacher (nothing erased).
    """
    teacher = db.session.scalars(select(Teacher).filter_by(moodle_user_id=moodle_user_id)).first()
    if teacher is None:
        abort(404, description=_("Педагог с id Moodle %(id)s не найден", id=moodle_user_id))
    if request.form.get("confirm", "").strip() != str(moodle_user_id):
        return render_template("error.html", title=_("Удаление не выполнено"), message=_(
            "Для подтверждения введите id Moodle педагога (%(id)s).", id=moodle_user_id)), 400
    try:
        erasure = erase_teacher(teacher, Holdings.of([moodle_user_id],
                                                     settings_of(current_app).moodle_url))
    except ErasureRefused as err:
        return render_template("error.html", title=_("Удаление отложено"), message=_(
            "Отправка в Moodle ещё передаёт записи этого педагога — дождитесь её окончания "
            "(или решите их на странице «Отправка в Moodle») и повторите. %(error)s",
            error=err)), 409
    removed = _("Данные педагога %(id)s удалены (%(n)s записей).", id=moodle_user_id,
                n=sum(erasure.removed.values()))
    if erasure.still_in_moodle:
        removed += " " + _("Он ещё в диагностическом курсе Moodle: следующая синхронизация "
                           "прочтёт его снова.")
    flash(removed, "saved")
    return redirect("/teachers")


def _dumps(value: object, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)
