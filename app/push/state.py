"""What the push leaves for a person: held, refused and uncertain outbox rows, the last
push's figures, and the two deliberate resolutions of an uncertain message."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.common import audit
from app.common.outbox import MESSAGE, record_of
from app.extensions import db
from app.models import OutboxMessage, RunLog
from app.models.ops import FAILED, PENDING
from app.push.outbox import UNCERTAIN, mark_sent

MARK_DELIVERED, SEND_AGAIN = "delivered", "resend"


class ResolveError(ValueError):
    """Raised when a resolution names no uncertain message or an unknown action."""


@dataclass(frozen=True)
class OutboxLine:
    """One outbox row as the push page lists it."""

    id: int
    key: str
    kind: str
    user_id: int | None
    attempts: int
    error: str


def push_state() -> dict[str, object]:
    """The rows waiting with an error (held), refused and uncertain, and the last push run."""
    rows = db.session.scalars(select(OutboxMessage).where(
        (OutboxMessage.status.in_((FAILED, UNCERTAIN)))
        | ((OutboxMessage.status == PENDING) & (OutboxMessage.last_error != "")))
        .order_by(OutboxMessage.id)).all()
    lines = {status: [_line(r) for r in rows if r.status == status]
             for status in (PENDING, FAILED, UNCERTAIN)}
    last = db.session.scalars(select(RunLog).where(RunLog.stage == "push")
                              .order_by(RunLog.id.desc())).first()
    return {"held": lines[PENDING], "failed": lines[FAILED], "uncertain": lines[UNCERTAIN],
            "last": last}


def resolve_message(row_id: int, action: str) -> OutboxMessage:
    """Resolve an uncertain message: mark it delivered, or queue it to be sent again.

    :raise ResolveError: the row is not an uncertain message, or the action is unknown.
    """
    row = db.session.get(OutboxMessage, row_id)
    if row is None or row.kind != MESSAGE or row.status != UNCERTAIN:
        raise ResolveError(f"сообщение №{row_id} не ждёт решения")
    if action == MARK_DELIVERED:
        mark_sent(row)
        row.attempts -= 1  # no new attempt: a person confirmed the earlier one
    elif action == SEND_AGAIN:
        row.status, row.last_error = PENDING, ""
    else:
        raise ResolveError(f"неизвестное действие {action!r}")
    audit.record("push.resolve", ("outbox", row.id), {"action": action,
                                                       "dedupe_key": row.dedupe_key})
    db.session.commit()
    return row


def _line(row: OutboxMessage) -> OutboxLine:
    user_id = getattr(record_of(row), "user_id", None)
    return OutboxLine(id=row.id, key=row.dedupe_key, kind=row.kind,
                      user_id=user_id if isinstance(user_id, int) else None,
                      attempts=row.attempts, error=row.last_error)
