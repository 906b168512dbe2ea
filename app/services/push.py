"""Push stage: approved route items become Moodle enrolments and one message per teacher.

Everything goes through the outbox: a row is written once per intended effect (its
``dedupe_key``), so re-running never enrols twice or sends a message twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import OutboxMessage, Route, RouteItem
from app.models.assessment import utcnow
from app.models.ops import FAILED, PENDING, SENT
from app.models.route import APPROVED, ENROLLED
from app.services.messages import route_message
from app.settings import Settings
from courses.records import INTERNSHIP
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MessageRejected,
    MoodleAPIError,
    MoodleUnavailable,
)
from lms_connectors.moodle.api import Enrolment, MoodleAPI

logger = logging.getLogger(__name__)
ENROL, MESSAGE = "enrol", "message"
SENDING, UNCERTAIN = "sending", "uncertain"
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class PushSummary:
    """What the push stage sent and what Moodle refused."""

    enrolments_sent: int = 0
    enrolments_failed: int = 0
    messages_sent: int = 0
    messages_failed: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain values for the run log and JSON."""
        return dict(self.__dict__)


def push(api: MoodleAPI, settings: Settings) -> PushSummary:
    """Enqueue and send enrolments, then one message per teacher whose route changed.

    :raise MoodleUnavailable: Moodle stopped answering; what is not sent stays pending.
    :raise InvalidToken, FunctionNotInService: nothing more can be sent with this token.
    """
    summary = PushSummary()
    enqueue_enrolments(settings)
    pending = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == ENROL, OutboxMessage.status == PENDING).order_by(OutboxMessage.id)))
    size = max(1, min(settings.enrol_batch_size, api.enrol_batch_limit))
    for start in range(0, len(pending), size):
        send_enrol_batch(api, pending[start:start + size], summary)
    enqueue_messages()
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == MESSAGE, OutboxMessage.status == PENDING)
            .order_by(OutboxMessage.id)).all():
        send_message(api, row, summary)
    return summary


def enqueue_enrolments(settings: Settings) -> int:
    """One outbox row per approved (teacher, Moodle course); items already pushed move on."""
    count = 0
    items = db.session.scalars(select(RouteItem).where(RouteItem.status == APPROVED).options(
        selectinload(RouteItem.offer), selectinload(RouteItem.route).selectinload(Route.teacher)))
    for item in items:
        offer = item.offer
        if offer.moodle_course_id is None:
            continue  # mentoring and other offers without a Moodle course: message only
        user_id = item.route.teacher.moodle_user_id
        key = f"enrol:{user_id}:{offer.moodle_course_id}"
        row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key=key)).first()
        if row is None:
            timestart, timeend = (enrolment_window(offer.starts_on, offer.ends_on)
                                  if offer.kind == INTERNSHIP else (0, 0))
            row = OutboxMessage(kind=ENROL, dedupe_key=key, status=PENDING, payload={
                "user_id": user_id, "course_id": offer.moodle_course_id,
                "role_id": settings.enrol_role_id, "timestart": timestart, "timeend": timeend,
                "route_item_ids": [item.id]})
            db.session.add(row)
            count += 1
        elif row.status == SENT:
            item.move_to(ENROLLED)
        elif item.id not in row.payload.get("route_item_ids", []):
            row.payload = {**row.payload,
                           "route_item_ids": [*row.payload["route_item_ids"], item.id]}
    db.session.commit()
    return count


def enrolment_window(starts_on: dt.date | None, ends_on: dt.date | None) -> tuple[int, int]:
    """Unix times of an offer's dates (start of the first day, end of the last, Moscow time)."""
    start = 0 if starts_on is None else int(
        dt.datetime.combine(starts_on, dt.time.min, MOSCOW).timestamp())
    end = 0 if ends_on is None else int(
        dt.datetime.combine(ends_on, dt.time.max, MOSCOW).timestamp())
    return start, end


def send_enrol_batch(api: MoodleAPI, rows: list[OutboxMessage], summary: PushSummary) -> None:
    """Send rows in one call; when Moodle rejects it, halve until the bad rows are isolated."""
    enrolments = [Enrolment(user_id=r.payload["user_id"], course_id=r.payload["course_id"],
                            role_id=r.payload["role_id"], timestart=r.payload["timestart"],
                            timeend=r.payload["timeend"]) for r in rows]
    summary.calls += 1
    try:
        api.enrol(enrolments)
    except (InvalidToken, FunctionNotInService, MoodleUnavailable):
        raise
    except (MoodleAPIError, InvalidRequest) as err:
        if len(rows) > 1:
            half = len(rows) // 2
            send_enrol_batch(api, rows[:half], summary)
            send_enrol_batch(api, rows[half:], summary)
            return
        _fail(rows[0], err, summary)
        summary.enrolments_failed += 1
        return
    for row in rows:
        _mark_sent(row)
        for item in db.session.scalars(select(RouteItem).where(
                RouteItem.id.in_(row.payload["route_item_ids"]), RouteItem.status == APPROVED)):
            item.move_to(ENROLLED)
    summary.enrolments_sent += len(rows)
    db.session.commit()


def enqueue_messages() -> int:
    """One message per route whose pushed content is new and whose enrolments are settled."""
    busy = {r.payload["user_id"] for r in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == ENROL, OutboxMessage.status == PENDING))}
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
        db.session.add(OutboxMessage(kind=MESSAGE, dedupe_key=key, status=PENDING, payload={
            "user_id": route.teacher.moodle_user_id, "client_msg_id": f"profroute-{digest[:20]}",
            "text": route_message(route.teacher, items)}))
        count += 1
    db.session.commit()
    return count


def send_message(api: MoodleAPI, row: OutboxMessage, summary: PushSummary) -> None:
    """Send one message at most once: it is marked as sending before the call."""
    row.status = SENDING
    row.attempts += 1
    db.session.commit()
    summary.calls += 1
    try:
        api.send_message(row.payload["user_id"], row.payload["text"],
                         row.payload["client_msg_id"])
    except MessageRejected as err:
        _fail(row, err, summary)
        summary.messages_failed += 1
    except MoodleUnavailable as err:
        row.status, row.last_error = UNCERTAIN, str(err)
        db.session.commit()
        raise
    except MoodleAPIError as err:
        _fail(row, err, summary)
        summary.messages_failed += 1
        if isinstance(err, InvalidToken | FunctionNotInService):
            raise
    else:
        _mark_sent(row)
        summary.messages_sent += 1
    db.session.commit()


def _mark_sent(row: OutboxMessage) -> None:
    row.status, row.sent_at, row.last_error = SENT, utcnow(), ""
    row.attempts += 1


def _fail(row: OutboxMessage, err: Exception, summary: PushSummary) -> None:
    row.status, row.last_error = FAILED, str(err)
    row.attempts += 1
    summary.errors.append(f"{row.dedupe_key}: {err}")
    logger.warning("push %s refused by Moodle: %s", row.dedupe_key, err)
    db.session.commit()

