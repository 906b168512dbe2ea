"""The admin's schedules page: the jobs ``profroute scheduler`` runs, with their last run,
outcome and next run; create, change, enable/disable, delete, run now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app import settings_of
from app.accounts.roles import ADMIN
from app.extensions import db
from app.i18n import N_
from app.schedules.jobs import JOBS
from app.schedules.store import ScheduleError, last_runs, remove, request_run, save, schedules
from app.web.access import allow

bp = Blueprint("admin_schedules", __name__, template_folder="templates")
PAGE = "/admin/schedules"
STATUS_RU = {"ok": N_("выполнено"), "failed": N_("ошибка"), "running": N_("идёт")}


@bp.get(PAGE)
@allow(ADMIN)
def schedules_page() -> ResponseReturnValue:
    """Every schedule with its job, cron expression, last run and next run (local time)."""
    zone = ZoneInfo(settings_of(current_app).schedule_timezone)

    def local(moment: dt.datetime | None) -> str:
        if moment is None:
            return "—"
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(zone).strftime("%d.%m.%Y %H:%M")

    return render_template("admin_schedules.html", schedules=schedules(), runs=last_runs(),
                           jobs=JOBS, local=local, status_ru=STATUS_RU, zone=zone.key)


@bp.post(PAGE)
@allow(ADMIN)
def create() -> ResponseReturnValue:
    """Create a schedule. :raise 400: bad cron expression, unknown job, name taken."""
    return _save(None)


@bp.post(f"{PAGE}/<int:schedule_id>")
@allow(ADMIN)
def change(schedule_id: int) -> ResponseReturnValue:
    """Change a schedule (name, job, cron, enabled).

    :raise 400: bad cron expression, unknown job or schedule, name taken.
    """
    return _save(schedule_id)


@bp.post(f"{PAGE}/<int:schedule_id>/run")
@allow(ADMIN)
def run_now(schedule_id: int) -> ResponseReturnValue:
    """Ask the scheduler to run the job at its next pass. :raise 400: unknown schedule."""
    try:
        row = request_run(schedule_id)
    except ScheduleError as err:
        return _refused(str(err))
    flash(_("«%(name)s» будет выполнено при следующем проходе планировщика "
            "(profroute scheduler).", name=row.name), "saved")
    return redirect(PAGE)


@bp.post(f"{PAGE}/<int:schedule_id>/delete")
@allow(ADMIN)
def delete(schedule_id: int) -> ResponseReturnValue:
    """Delete a schedule. :raise 400: unknown schedule."""
    try:
        remove(schedule_id)
    except ScheduleError as err:
        return _refused(str(err))
    flash(_("Расписание удалено."), "saved")
    return redirect(PAGE)


def _save(schedule_id: int | None) -> ResponseReturnValue:
    form = request.form
    try:
        row = save(schedule_id, name=form.get("name", ""), job=form.get("job", ""),
                   cron=form.get("cron", ""), enabled=form.get("enabled") == "1",
                   zone=settings_of(current_app).schedule_timezone)
    except ScheduleError as err:
        return _refused(str(err))
    flash(_("Расписание «%(name)s» сохранено.", name=row.name), "saved")
    return redirect(PAGE)


def _refused(message: str) -> ResponseReturnValue:
    db.session.rollback()
    return render_template("error.html", title=_("Расписание не сохранено"), message=message), 400
