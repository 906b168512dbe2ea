"""Retention: teachers a sync has not seen for longer than PROFROUTE_RETENTION_DAYS are erased.

A teacher is absent from the day a sync found them no longer scored (``inactive_since``: gone
from the diagnostic course, no longer a student there, or out of the configured scope); a
teacher seen again by a sync is active and counts from zero. 0 days (the default) keeps
everyone. A teacher a push is still sending rows for is left for the next run, and said so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.accounts.personal_data import ErasureRefused, Holdings, erase_teacher
from app.common import audit
from app.common.runs import Summary
from app.extensions import db
from app.models import Teacher


@dataclass
class RetentionSummary(Summary):
    """What a retention run found and erased (Moodle user ids, no names)."""

    days: int = 0
    dry_run: bool = False
    cutoff: str | None = None
    stale: list[int] = field(default_factory=list)
    erased: list[int] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)


def stale_teachers(days: int, now: dt.datetime | None = None) -> list[Teacher]:
    """Inactive teachers absent since before ``now`` minus ``days`` (none when ``days`` is 0)."""
    if days <= 0:
        return []
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    return list(db.session.scalars(select(Teacher).where(
        Teacher.active.is_(False), Teacher.inactive_since.is_not(None),
        Teacher.inactive_since < cutoff).order_by(Teacher.moodle_user_id)))


def apply_retention(days: int, site_url: str, *, dry_run: bool = False,
                    now: dt.datetime | None = None) -> RetentionSummary:
    """List (``dry_run``) or erase the stale teachers, each with its own audit event."""
    now = now or dt.datetime.now(dt.UTC)
    summary = RetentionSummary(days=days, dry_run=dry_run)
    if days > 0:
        summary.cutoff = (now - dt.timedelta(days=days)).isoformat()
    stale = stale_teachers(days, now)
    summary.stale = [t.moodle_user_id for t in stale]
    if dry_run or not stale:
        return summary
    held = Holdings.of(summary.stale, site_url)
    for teacher in stale:
        try:
            erase_teacher(teacher, held, reason=f"retention {days} days")
        except ErasureRefused as err:
            db.session.rollback()
            summary.postponed.append(str(err))
            continue
        summary.erased.append(teacher.moodle_user_id)
    audit.record("retention.run", None, {"days": days, "erased": len(summary.erased),
                                         "postponed": len(summary.postponed)}, commit=True)
    return summary
