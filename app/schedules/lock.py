"""Database locks on groups of jobs: ``sync`` (sync, deficits, recommend, retention) and
``push``, as the README's cron lines keep them with flock.

A lock is a row of ``job_lock``: taking it inserts the row (the primary key lets one insert
win) or takes over a lapsed one with a conditional update (one update wins). A lock lapses
when its holder, a process of this host, no longer runs (a run killed half-way can be run
again at once), and in any case after ``ttl``, so a holder that crashed on another host does
not block the group for ever. Scheduler processes and the
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

from sqlalchemy import delete, select, update
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
    lapsed = JobLock.expires_at < now
    current = db.session.scalar(select(JobLock.holder).where(JobLock.name == name))
    if current is not None and _gone(current):
        logger.warning("lock %s: its holder %s no longer runs; taken over", name, current)
        lapsed = lapsed | (JobLock.holder == current)
    taken = db.session.execute(
        update(JobLock).where(JobLock.name == name, lapsed)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False))
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


def _gone(holder: str) -> bool:
    """Whether ``holder`` (see :func:`holder_name`) was a process of this host that has ended."""
    parts = holder.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname()[:100] or not parts[1].isdigit():
        return False  # another host's process: only the ttl frees its lock
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


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
