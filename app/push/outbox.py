"""The push stage's shared parts: the outbox row kinds (from ``app.common.outbox``) and
states, the summary, the enrolment window, and how a sent or refused row is recorded."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select

from app.common.outbox import ENROL, MESSAGE
from app.common.runs import Summary
from app.extensions import db
from app.models import OutboxMessage
from app.models.assessment import utcnow
from app.models.ops import FAILED, PENDING, SENT

logger = logging.getLogger(__name__)
__all__ = ["ENROL", "MESSAGE", "SENDABLE", "SENDING", "UNCERTAIN", "PushSummary",
           "enrolment_window", "fail", "mark_sent", "reload"]
SENDING, UNCERTAIN = "sending", "uncertain"
# What a push sends: new rows, and rows Moodle refused (Moodle did nothing, so sending
# them again is safe); the refusal stays on the row (last_error, attempts) until then.
SENDABLE = (PENDING, FAILED)
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class PushSummary(Summary):
    """What the push stage sent, what Moodle refused, what waits and what needs a person.

    ``calls`` and ``calls_by_function`` are the web-service calls the push really made,
    counted at the client's transport (retries included). ``held_courses`` are the courses
    whose read-back failed: nothing was sent to them (``enrolments_held`` rows wait for a
    later push). ``enrolments_sent`` includes the enrolments an earlier push sent without
    getting the answer, which the read-back found made. ``foreign_enrolments`` lists
    enrolments ProfRoute found already made by someone else and left alone. ``uncertain``
    lists every message whose fate is unknown (never re-sent automatically);
    ``messages_uncertain`` counts those of this run.
    """

    enrolments_sent: int = 0
    already_enrolled: int = 0
    enrolments_failed: int = 0
    enrolments_held: int = 0
    messages_sent: int = 0
    messages_failed: int = 0
    messages_uncertain: int = 0
    network_changes: int = 0
    ratings_sent: int = 0
    calls: int = 0
    calls_by_function: dict[str, int] = field(default_factory=dict)
    held_courses: list[dict[str, object]] = field(default_factory=list)
    foreign_enrolments: list[dict[str, int]] = field(default_factory=list)
    uncertain: list[dict[str, object]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        """True when something was refused, held back or left uncertain by this run
        (network items, plans and ratings included: each refusal or wait is in ``errors``)."""
        return bool(self.enrolments_failed or self.messages_failed or self.enrolments_held
                    or self.messages_uncertain or self.errors)


def enrolment_window(starts_on: dt.date | None, ends_on: dt.date | None) -> tuple[int, int]:
    """Unix times of an offer's dates (start of the first day, end of the last, Moscow time)."""
    start = 0 if starts_on is None else int(
        dt.datetime.combine(starts_on, dt.time.min, MOSCOW).timestamp())
    end = 0 if ends_on is None else int(
        dt.datetime.combine(ends_on, dt.time.max, MOSCOW).timestamp())
    return start, end


def reload(rows: list[OutboxMessage]) -> None:
    """Load a batch's rows again in ONE query (a commit expired them; touching each one
    would read it back alone, one query per row)."""
    ids: list[int] = [inspect(row).identity[0] for row in rows]
    db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                       .execution_options(populate_existing=True)).all()


def mark_sent(row: OutboxMessage, *, attempt: bool = True) -> None:
    """Record a row as sent now (``attempt``: by a new attempt, counted on the row)."""
    row.status, row.sent_at, row.last_error = SENT, utcnow(), ""
    row.attempts += int(attempt)


def fail(row: OutboxMessage, err: Exception, summary: PushSummary, *,
         attempt: bool = True) -> None:
    """Record Moodle's refusal of a row on the row, in the summary and in the log.

    Moodle did nothing: the row (failed, with its error and, with ``attempt``, one more
    attempt) goes out again on the next push. Nothing is committed: the caller commits once
    per batch.
    """
    row.status, row.last_error = FAILED, str(err)
    row.attempts += int(attempt)
    summary.errors.append(f"{row.dedupe_key}: {err}")
    logger.warning("push %s refused by Moodle: %s", row.dedupe_key, err)
