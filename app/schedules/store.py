"""Schedules as an admin manages them: create, change, enable, delete, ask to run now; each
change audited. Cron expressions (five fields, in the settings' ``schedule_timezone``) are
checked with croniter; the next due time is kept in UTC."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from croniter import croniter
from flask_babel import gettext as _
from sqlalchemy import select

from app.common import audit
from app.extensions import db
from app.models import RunLog
from app.models.schedule import Schedule
from app.schedules.jobs import JOBS

logger = logging.getLogger(__name__)
MAX_CRON = 100  # the column's length


class ScheduleError(ValueError):
    """Raised when a schedule cannot be stored (bad cron expression, unknown job, name taken,
    unknown schedule); the message is in the reader's language (Russian outside a request)."""


def check_cron(expression: str) -> str:
    """The expression, stripped, when it is a valid five-field cron expression.

    :raise ScheduleError: in Russian, what is wrong.
    """
    text = " ".join(expression.split())
    fields = text.split(" ") if text else []
    if len(text) > MAX_CRON:
        raise ScheduleError(_("Расписание длиннее %(n)s символов: упростите его.", n=MAX_CRON))
    if len(fields) != 5:
        raise ScheduleError(_(
            "Расписание «%(cron)s»: нужно пять полей через пробел — минуты, часы, день "
            "месяца, месяц, день недели (например «*/30 * * * *»), а их %(n)s.",
            cron=text[:100], n=len(fields)))
    if not croniter.is_valid(text):
        raise ScheduleError(_(
            "Расписание «%(cron)s» не разобрано: проверьте значения полей (минуты 0–59, "
            "часы 0–23, день месяца 1–31, месяц 1–12, день недели 0–6), «*», «*/N», «A-B» и "
            "списки через запятую.", cron=text[:100]))
    return text


def next_run(expression: str, after: dt.datetime, zone: str) -> dt.datetime:
    """The first time after ``after`` that ``expression`` names, read in ``zone``; in UTC."""
    start = _aware(after).astimezone(ZoneInfo(zone))
    found: dt.datetime = croniter(expression, start).get_next(dt.datetime)
    return found.astimezone(dt.UTC)


def schedules() -> list[Schedule]:
    """Every schedule, by name."""
    return list(db.session.scalars(select(Schedule).order_by(Schedule.name)))


def last_runs() -> dict[int, RunLog]:
    """The run log row of each schedule's last run, by schedule id."""
    ids = {s.last_run_id: s.id for s in schedules() if s.last_run_id is not None}
    if not ids:
        return {}
    rows = db.session.scalars(select(RunLog).where(RunLog.id.in_(ids)))
    return {ids[r.id]: r for r in rows}


def save(schedule_id: int | None, *, name: str, job: str, cron: str, enabled: bool,
         zone: str, now: dt.datetime | None = None) -> Schedule:
    """Create (``schedule_id`` None) or change a schedule; its next due time follows.

    :raise ScheduleError: empty or taken name, unknown job, bad cron expression.
    """
    name = name.strip()[:100]
    if not name:
        raise ScheduleError(_("Укажите название расписания."))
    if job not in JOBS:
        raise ScheduleError(_("Неизвестное задание «%(job)s»; возможны: %(jobs)s.",
                              job=job[:40], jobs=", ".join(JOBS)))
    cron = check_cron(cron)
    row = Schedule(version=0, run_requested=False) if schedule_id is None else get(schedule_id)
    other = db.session.scalars(select(Schedule).filter_by(name=name)).first()
    if other is not None and other is not row:
        raise ScheduleError(_("Расписание «%(name)s» уже есть.", name=name))
    row.name, row.job, row.cron, row.enabled = name, job, cron, enabled
    try:
        following = next_run(cron, now or _now(), zone)
    except ValueError as err:  # croniter's CroniterBadDateError: e.g. the 30th of February
        raise ScheduleError(_("Расписание «%(cron)s» не наступит никогда (такой даты нет).",
                              cron=cron)) from err
    row.next_run_at = following if enabled else None
    if schedule_id is None:
        db.session.add(row)
    db.session.flush()
    audit.record("schedule.add" if schedule_id is None else "schedule.change",
                 ("schedule", row.id), {"name": name, "job": job, "cron": cron,
                                        "enabled": enabled})
    db.session.commit()
    return row


def request_run(schedule_id: int) -> Schedule:
    """Ask the scheduler to run the schedule's job at its next pass (once, even if disabled).

    :raise ScheduleError: unknown schedule.
    """
    row = get(schedule_id)
    row.run_requested = True
    audit.record("schedule.run_now", ("schedule", row.id), {"name": row.name, "job": row.job})
    db.session.commit()
    return row


def remove(schedule_id: int) -> None:
    """Delete a schedule (its past runs stay in the run log).

    :raise ScheduleError: unknown schedule.
    """
    row = get(schedule_id)
    audit.record("schedule.delete", ("schedule", row.id), {"name": row.name, "job": row.job})
    db.session.delete(row)
    db.session.commit()


def get(schedule_id: int) -> Schedule:
    """:raise ScheduleError: no schedule with that id."""
    row = db.session.get(Schedule, schedule_id)
    if row is None:
        raise ScheduleError(_("Расписания №%(id)s нет.", id=schedule_id))
    return row


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
