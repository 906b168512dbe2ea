"""The dated history of school statuses (low results, adverse context, stably high).

Flags on ``School`` say how a school stands now; ``SchoolStatus`` rows say since when and
until when, so the indicators of a past period count the schools identified then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.models import SchoolStatus

FLAGS = ("low_results", "adverse_context", "stably_high")
MOSCOW = ZoneInfo("Europe/Moscow")


def today() -> dt.date:
    """Today in Moscow: statuses change on the methodical service's calendar."""
    return dt.datetime.now(MOSCOW).date()


def record_flags(school_code: str, flags: Mapping[str, bool], *, on: dt.date | None = None,
                 source: str = "", reason: str = "") -> int:
    """Record the school's flags as holding from ``on`` (today by default).

    A flag that turns on opens a stretch; one that turns off closes the open stretch the
    day before ``on`` (a stretch opened that same day is dropped: it never held a whole
    day). Unchanged flags write nothing, so recording the same flags again is a no-op.
    Returns the number of stretches opened or closed. Does not commit.

    :raise ValueError: an unknown flag.
    """
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise ValueError(f"unknown school status {', '.join(sorted(unknown))}: use "
                         + ", ".join(FLAGS))
    day = on or today()
    changed = 0
    for flag, value in flags.items():
        current = db.session.scalars(
            select(SchoolStatus).where(SchoolStatus.school_code == school_code,
                                       SchoolStatus.flag == flag,
                                       SchoolStatus.valid_to.is_(None))
            .order_by(SchoolStatus.valid_from.desc())).first()
        if bool(value) == (current is not None):
            continue
        changed += 1
        if value:
            db.session.add(SchoolStatus(school_code=school_code, flag=flag, valid_from=day,
                                        source=source, reason=reason[:4000]))
        elif current is not None and current.valid_from >= day:
            db.session.delete(current)
        elif current is not None:
            current.valid_to = day - dt.timedelta(days=1)
    db.session.flush()
    return changed
