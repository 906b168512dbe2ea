"""The push stage's shared parts: the outbox row kinds (from ``app.common.outbox``) and
states, the summary, the enrolment window, and how a sent or refused row is recorded."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from app.common.outbox import ENROL, MESSAGE
from app.common.runs import Summary
from app.extensions import db
from app.models import OutboxMessage
from app.models.assessment import utcnow
from app.models.ops import FAILED, SENT

logger = logging.getLogger(__name__)
__all__ = ["ENROL", "MESSAGE", "PushSummary", "enrolment_window", "fail", "mark_sent"]
SENDING, UNCERTAIN = "sending", "uncertain"
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class PushSummary(Summary):
    """What the push stage sent and what Moodle refused."""

    enrolments_sent: int = 0
    already_enrolled: int = 0
    enrolments_failed: int = 0
    messages_sent: int = 0
    messages_failed: int = 0
    network_changes: int = 0
    ratings_sent: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def enrolment_window(starts_on: dt.date | None, ends_on: dt.date | None) -> tuple[int, int]:
    """Unix times of an offer's dates (start of the first day, end of the last, Moscow time)."""
    start = 0 if starts_on is None else int(
        dt.datetime.combine(starts_on, dt.time.min, MOSCOW).timestamp())
    end = 0 if ends_on is None else int(
        dt.datetime.combine(ends_on, dt.time.max, MOSCOW).timestamp())
    return start, end


def mark_sent(row: OutboxMessage) -> None:
    """Record a row as sent now."""
    row.status, row.sent_at, row.last_error = SENT, utcnow(), ""
    row.attempts += 1


def fail(row: OutboxMessage, err: Exception, summary: PushSummary) -> None:
    """Record Moodle's refusal of a row on the row, in the summary and in the log."""
    row.status, row.last_error = FAILED, str(err)
    row.attempts += 1
    summary.errors.append(f"{row.dedupe_key}: {err}")
    logger.warning("push %s refused by Moodle: %s", row.dedupe_key, err)
    db.session.commit()
