"""The in-app scheduler: schedules of pipeline jobs, and the locks that keep a job from
running twice at once (a scheduler process, another one, or a cron line)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow


class Schedule(db.Model):  # type: ignore[name-defined]
    """One schedule: a job (``app.schedules.jobs.JOBS``) at the times of a cron expression.

    ``next_run_at`` is the next due time (UTC; None while disabled and not asked to run);
    ``version`` rises at each claim, so of two schedulers only one runs a due time;
    ``last_run_id`` names the run log row of the last run (its outcome, summary and error).
    """

    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    job: Mapped[str] = mapped_column(String(32))
    cron: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    run_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_run_id: Mapped[int | None] = mapped_column(Integer)  # no key: the run log is pruned
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobLock(db.Model):  # type: ignore[name-defined]
    """A held lock on a group of jobs (``sync``, ``push``); it lapses at ``expires_at`` so a
    crashed holder does not block the group for ever."""

    __tablename__ = "job_lock"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
