"""``profroute scheduler``: every pass runs the schedules that are due, each once.

A due schedule is run by the process that takes its job group's lock (``app.schedules.lock``)
and then claims the due time (a conditional update of ``version``); another scheduler, or a
cron line holding the lock, skips it. Each run is one row of the run log (stage
``scheduled:<job>``: start, end, outcome, the figures of each step, the error with any secret
setting masked), besides the rows of its steps.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import select, update

from app.common.audit import acting_as, figures
from app.common.runs import logged_run
from app.extensions import db
from app.models import RunLog
from app.models.schedule import Schedule
from app.schedules import lock
from app.schedules.jobs import JOBS, run_steps
from app.schedules.store import _aware, next_run
from app.settings import SECRET_FIELDS, Settings

logger = logging.getLogger(__name__)
ACTOR = "scheduler"


@dataclass(frozen=True)
class Outcome:
    """What a pass did with one due schedule: ``ok``, ``failed`` or ``skipped`` (busy)."""

    schedule: str
    status: str
    run_id: int | None = None


def due(now: dt.datetime) -> list[Schedule]:
    """The schedules to run now: enabled and due, or asked to run."""
    rows = db.session.scalars(select(Schedule).order_by(Schedule.id)).all()
    return [s for s in rows if s.run_requested or (
        s.enabled and s.next_run_at is not None and _aware(s.next_run_at) <= now)]


def run_due(settings: Settings, holder: str, now: dt.datetime | None = None) -> list[Outcome]:
    """Run every due schedule once (in id order); what became of each.

    The versions are read once, before any lock: a schedule another process ran meanwhile
    has a higher version, so its claim here fails and it is not run again.
    """
    now = now or dt.datetime.now(dt.UTC)
    seen = [(s.id, s.name, s.job, s.version) for s in due(now)]
    outcomes = []
    for schedule_id, name, job_name, version in seen:
        job = JOBS.get(job_name)
        if job is None:
            logger.error("schedule %s: unknown job %r, skipped", name, job_name)
            continue
        if not lock.acquire(job.group, holder):
            logger.info("schedule %s: group %s busy, left for later", name, job.group)
            outcomes.append(Outcome(name, "skipped"))
            continue
        try:
            outcomes.append(_claim_and_run(schedule_id, version, settings, now))
        finally:
            lock.release(job.group, holder)
    return outcomes


def _claim_and_run(schedule_id: int, seen: int, settings: Settings,
                   now: dt.datetime) -> Outcome:
    """Claim the due time seen (one claimer wins), then run the job and record it."""
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None:  # deleted meanwhile
        return Outcome(str(schedule_id), "skipped")
    name, job = schedule.name, JOBS[schedule.job]
    following = next_run(schedule.cron, now, settings.schedule_timezone) \
        if schedule.enabled else None
    claimed = db.session.execute(
        update(Schedule).where(Schedule.id == schedule_id, Schedule.version == seen)
        .values(version=seen + 1, run_requested=False, next_run_at=following))
    db.session.commit()
    if getattr(claimed, "rowcount", 0) != 1:
        return Outcome(name, "skipped")
    logger.info("schedule %s: running %s", name, schedule.job)
    run_id: int | None = None
    status = "ok"
    with acting_as(ACTOR):
        try:
            with logged_run(f"scheduled:{schedule.job}"[:64]) as run:
                run_id = run.id
                db.session.execute(update(Schedule).where(Schedule.id == schedule_id)
                                   .values(last_run_id=run_id))
                done = run_steps(job, settings)
                run.summary = {step: figures(_Plain(s)) for step, s in done.items()}
        except Exception as err:  # noqa: BLE001 - any failure is recorded; the loop goes on
            status = "failed"
            _mask_error(run_id, settings)
            logger.warning("schedule %s failed: %s", name, _masked(
                f"{type(err).__name__}: {err}", settings))
    if run_id is not None:
        db.session.execute(update(Schedule).where(Schedule.id == schedule_id)
                           .values(last_run_id=run_id))
        db.session.commit()
    logger.info("schedule %s: %s (run %s)", name, status, run_id)
    return Outcome(name, status, run_id)


class _Plain:
    """A summary dict seen as an object with ``as_dict`` (for ``audit.figures``)."""

    def __init__(self, values: dict[str, object]) -> None:
        self.values = values

    def as_dict(self) -> dict[str, object]:
        return self.values


def _masked(text: str, settings: Settings) -> str:
    for name in SECRET_FIELDS:
        secret = getattr(settings, name)
        if secret:
            text = text.replace(secret, "***")
    return text


def _mask_error(run_id: int | None, settings: Settings) -> None:
    """Mask any secret setting in the recorded errors of the run and its steps."""
    db.session.rollback()
    if run_id is None:
        return
    for row in db.session.scalars(select(RunLog).where(RunLog.id >= run_id)):
        row.error = _masked(row.error or "", settings)
    db.session.commit()


def serve(settings: Settings, stop: threading.Event, interval: float = 30.0) -> None:
    """Run due schedules every ``interval`` seconds until ``stop`` is set (SIGTERM sets it;
    a job already running is finished first)."""
    holder = lock.holder_name()
    logger.info("scheduler %s started (every %.0f s)", holder, interval)
    while not stop.is_set():
        try:
            for outcome in run_due(settings, holder):
                logger.info("%s: %s", outcome.schedule, outcome.status)
        except Exception:  # noqa: BLE001 - a lost database connection must not end the loop
            db.session.rollback()
            logger.exception("scheduler pass failed; trying again in %.0f s", interval)
        finally:
            db.session.remove()
        stop.wait(interval)
    logger.info("scheduler %s stopped", holder)
