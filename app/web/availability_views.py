"""A teacher's availability page: excluded dates and subjects, set by a methodologist in
scope or by the teacher themself."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER
from app.extensions import db
from app.models import Teacher
from app.registry.availability import add_exclusion, exclusions, remove_exclusion, set_subjects
from app.web.access import allow, current_scope
from app.web.inputs import id_arg
from app.web.views import teacher_in_scope

bp = Blueprint("availability", __name__, template_folder="templates")


def _teacher(moodle_user_id: int) -> Teacher:
    header = teacher_in_scope(moodle_user_id, current_scope())
    person = db.session.get(Teacher, header.id)
    if person is None:
        abort(404)
    return person


@bp.get("/teachers/<int:moodle_user_id>/availability")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def availability_page(moodle_user_id: int) -> ResponseReturnValue:
    """The teacher's excluded dates and subjects, with the forms that change them.

    :raise 404: no such teacher in the caller's scope.
    """
    return _render(_teacher(moodle_user_id))


@bp.post("/teachers/<int:moodle_user_id>/availability")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def change_availability(moodle_user_id: int) -> ResponseReturnValue:
    """``action``: ``add`` (starts_on, ends_on, reason), ``remove`` (id) or ``subjects``
    (subjects; empty with ``moodle=1``: Moodle's profile field again).

    :raise 404: no such teacher in the caller's scope, or no such range of theirs.
    :raise 422: a date missing or not a date, or a range ending before it starts.
    """
    person = _teacher(moodle_user_id)
    action = request.form.get("action", "")
    if action == "add":
        starts, ends = _date("starts_on"), _date("ends_on")
        if starts is None or (request.form.get("ends_on") and ends is None):
            return _render(
                person, _("Укажите даты в формате ГГГГ-ММ-ДД или ДД.ММ.ГГГГ."), 422)
        if ends is not None and ends < starts:
            return _render(person, _("Дата окончания раньше даты начала."), 422)
        add_exclusion(person, starts, ends, request.form.get("reason", ""))
    elif action == "remove":
        found = id_arg(request.form, "id")
        if found is None or not remove_exclusion(person, found):
            abort(404, description=_("Нет такого периода у педагога"))
    elif action == "subjects":
        moodle = request.form.get("moodle") == "1"
        set_subjects(person, None if moodle else request.form.get("subjects", ""))
    else:
        return _render(person, _("Неизвестное действие."), 422)
    return redirect(f"/teachers/{moodle_user_id}/availability", 303)


def _date(name: str) -> dt.date | None:
    value = request.form.get(name, "").strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _render(person: Teacher, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("availability.html", t=person, ranges=exclusions(person.id),
                           error=error), status
