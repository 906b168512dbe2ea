"""Messages: one per route whose pushed content is new, each sent at most once."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.outbox import EnrolmentRecord, MessageRecord, new_row, record_of
from app.extensions import db
from app.models import OutboxMessage, Route, RouteItem
from app.models.ops import PENDING
from app.models.route import APPROVED, ENROLLED
from app.push.outbox import ENROL, SENDING, UNCERTAIN, PushSummary, fail, mark_sent
from app.push.texts import route_message
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidToken,
    MessageRejected,
    MoodleAPIError,
    MoodleUnavailable,
)
from lms_connectors.moodle.api import MoodleAPI


def enqueue_messages() -> int:
    """One message per route whose pushed content is new and whose enrolments are settled."""
    busy = {record_of(r, EnrolmentRecord).user_id for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == ENROL,
                                    OutboxMessage.status == PENDING))}
    count = 0
    routes = db.session.scalars(select(Route).options(
        selectinload(Route.items).selectinload(RouteItem.offer), selectinload(Route.teacher)))
    for route in routes:
        items = [i for i in route.items if i.status in (APPROVED, ENROLLED)]
        if not items or route.teacher.moodle_user_id in busy:
            continue
        digest = hashlib.sha256(",".join(str(i.offer_id) for i in items).encode()).hexdigest()
        key = f"message:route:{route.id}:{digest[:16]}"
        if db.session.scalars(select(OutboxMessage.id).filter_by(dedupe_key=key)).first():
            continue
        db.session.add(new_row(MessageRecord(
            user_id=route.teacher.moodle_user_id, client_msg_id=f"profroute-{digest[:20]}",
            text=route_message(route.teacher, items)), key))
        count += 1
    db.session.commit()
    return count


def send_message(api: MoodleAPI, row: OutboxMessage, summary: PushSummary) -> None:
    """Send one message at most once: it is marked as sending before the call.

    :raise OutboxPayloadError: the row does not hold a valid message (nothing is sent).
    """
    message = record_of(row, MessageRecord)
    row.status = SENDING
    row.attempts += 1
    db.session.commit()
    summary.calls += 1
    try:
        api.send_message(message.user_id, message.text, message.client_msg_id)
    except MessageRejected as err:
        fail(row, err, summary)
        summary.messages_failed += 1
    except MoodleUnavailable as err:
        row.status, row.last_error = UNCERTAIN, str(err)
        db.session.commit()
        raise
    except MoodleAPIError as err:
        fail(row, err, summary)
        summary.messages_failed += 1
        if isinstance(err, InvalidToken | FunctionNotInService):
            raise
    else:
        mark_sent(row)
        summary.messages_sent += 1
    db.session.commit()
