"""Database locks on groups of jobs: ``sync`` (sync, deficits, recommend, retention) and
``push``, as the README's cron lines keep them with flock.

A lock is a row of ``job_lock``: taking it inserts the row (the primary key lets one insert
win) or takes over a lapsed one with a conditional update (one update wins); it lapses after
``ttl`` so a crashed holder does not block the group for ever. Scheduler processes and the
CLI commands take the same locks, so a cron line and the scheduler never run one group at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Iterator

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.schedule import JobLock

logger = logging.getLogger(__name__)
DEFAULT_TTL = dt.timedelta(hours=6)


class LockBusy(ValueError):
    """Raised when a group of jobs is already running (another scheduler or a command)."""


def holder_name() -> str:
    """Who takes a lock: host, process id and a random part (unique per process)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(name: str, holder: str, ttl: dt.timedelta = DEFAULT_TTL) -> bool:
    """Take the lock ``name`` for ``holder``; False when someone else holds it (committed)."""
    now = dt.datetime.now(dt.UTC)
    db.session.commit()
    taken = db.session.execute(
        update(JobLock).where(JobLock.name == name, JobLock.expires_at < now)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl))
    if getattr(taken, "rowcount", 0) == 1:
        db.session.commit()
        return True
    db.session.rollback()
    try:
        db.session.add(JobLock(name=name, holder=holder, acquired_at=now, expires_at=now + ttl))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def release(name: str, holder: str) -> None:
    """Give the lock back (only if ``holder`` still holds it)."""
    db.session.rollback()
    db.session.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))
    db.session.commit()


@contextlib.contextmanager
def held(name: str, holder: str | None = None) -> Iterator[str]:
    """Hold the lock ``name`` for the block.

    :raise LockBusy: someone else holds it (with who and since when).
    """
    holder = holder or holder_name()
    if not acquire(name, holder):
        row = db.session.get(JobLock, name)
        since = f", since {row.acquired_at:%Y-%m-%d %H:%M} UTC by {row.holder}" if row else ""
        raise LockBusy(f"Задания группы «{name}» уже выполняются{since}; повторите позже / "
                       f"jobs of group {name!r} are already running")
    try:
        yield holder
    finally:
        release(name, holder)
