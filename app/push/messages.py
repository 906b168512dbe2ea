"""Messages: one per route whose pushed content is new, sent in batches, each at most once."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.common.outbox import EnrolmentRecord, MessageRecord, new_row, record_of
from app.extensions import db
from app.models import OutboxMessage, Route, RouteItem, RouteItemEvent
from app.models.assessment import utcnow
from app.models.ops import FAILED, PENDING, SENT
from app.models.route import APPROVED, BY_TEACHER, ENROLLED, REJECTED
from app.push.outbox import (
    ENROL,
    MESSAGE,
    SENDABLE,
    SENDING,
    UNCERTAIN,
    PushSummary,
)
from app.push.texts import DECISION_RU, decision_message, route_message, swap_message
from app.settings import Settings
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MessageRejected,
    MoodleAPIError,
    MoodleCrash,
    MoodleUnavailable,
)
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.api import MoodleAPI, OutgoingMessage

logger = logging.getLogger(__name__)
MIXED_BATCH = "formatnotsupported"  # a batch with an unknown recipient: the rest IS stored
SWAPPED, ANSWERED, RESCHEDULED = "swapped", "change_answered", "rescheduled"


def enqueue_messages() -> int:
    """One message per route whose pushed content is new and whose enrolments are settled."""
    busy = {record_of(r, EnrolmentRecord).user_id for r in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == ENROL,
                                    OutboxMessage.status.in_((PENDING, SENDING))))}
    known = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.kind == MESSAGE)))
    count = 0
    routes = db.session.scalars(select(Route).options(
        selectinload(Route.items).selectinload(RouteItem.offer), selectinload(Route.teacher)))
    for route in routes:
        items = [i for i in route.items if i.status in (APPROVED, ENROLLED)]
        if not items or route.teacher.moodle_user_id in busy:
            continue
        digest = hashlib.sha256(",".join(
            str(offer_id) for offer_id in _announced(route)).encode()).hexdigest()
        key = f"message:route:{route.id}:{digest[:16]}"
        if key in known:
            continue
        db.session.add(new_row(MessageRecord(
            user_id=route.teacher.moodle_user_id, client_msg_id=f"profroute-{digest[:20]}",
            text=route_message(route.teacher, items)), key))
        count += 1
    count += _enqueue_decisions(known)
    db.session.commit()
    return count


def _announced(route: Route) -> list[int]:
    """The offers of the route's approved and enrolled items as the teacher knows them: an
    item a swap brought in stands for the item it replaced (its own message said so), so a
    swap alone sends no new route message."""
    by_id = {item.id: item for item in route.items}
    out = []
    for item in route.items:
        if item.status not in (APPROVED, ENROLLED):
            continue
        first, seen = item, {item.id}
        while first.replaces_id in by_id and first.replaces_id not in seen:
            first = by_id[first.replaces_id]
            seen.add(first.id)
        out.append(first.offer_id)
    return out


def _enqueue_decisions(known: set[str]) -> int:
    """One message per decision a person other than the teacher took on an item (rejected,
    cancelled, swapped, moved to another session, a request answered), keyed by the event:
    queued once, whenever the push runs after the decision was stored. A swap sends one
    message, on the new item's event, saying what replaced what: the replaced item's
    rejection sends none, nor does the answer to a request the swap (or move) answered (the
    swap's message carries the answer)."""
    replaced = set(db.session.scalars(select(RouteItem.replaces_id).where(
        RouteItem.replaces_id.is_not(None))))
    count = 0
    for event, item in db.session.execute(
            select(RouteItemEvent, RouteItem).join(RouteItem)
            .where(RouteItemEvent.action.in_(tuple(DECISION_RU)),
                   RouteItemEvent.actor_kind != BY_TEACHER)
            .options(selectinload(RouteItem.offer),
                     selectinload(RouteItem.route).selectinload(Route.teacher))
            .order_by(RouteItemEvent.id)).all():
        key = f"message:decision:{event.id}"
        if key in known or _said_by_swap(event, item.id in replaced):
            continue
        teacher = item.route.teacher
        text = (swap_message(teacher, item.replaces, item, event)
                if event.action == SWAPPED and item.replaces is not None
                else decision_message(teacher, item, event))
        db.session.add(new_row(MessageRecord(
            user_id=teacher.moodle_user_id, client_msg_id=f"profroute-decision-{event.id}",
            text=text), key))
        known.add(key)
        count += 1
    return count


def _said_by_swap(event: RouteItemEvent, replaced: bool) -> bool:
    """True for the events a swap's own message tells: the replaced item's rejection, and an
    answer recorded right after the swap (or move to another session) it decided."""
    if event.action == REJECTED:
        return replaced
    if event.action != ANSWERED:
        return False
    before = db.session.scalar(
        select(RouteItemEvent.action).where(RouteItemEvent.route_item_id == event.route_item_id,
                                            RouteItemEvent.id < event.id)
        .order_by(RouteItemEvent.id.desc()).limit(1))
    return (before == REJECTED and replaced) or before == RESCHEDULED


def send_messages(api: MoodleAPI, settings: Settings, summary: PushSummary) -> None:
    """Send the pending messages, and those Moodle refused before, in batches (one call
    each), each message at most once.

    One commit per batch: a batch is marked as sending, in the same commit as the outcome
    of the batch before it, before its call; the last outcome is committed at the end. A
    push that dies after a call thus leaves that batch sending, which the next push turns
    into uncertain. A batch whose answer was lost, or whose whole call failed after messages may
    have been stored (``formatnotsupported`` for a mixed batch, a PHP crash), is marked
    uncertain: it is never re-sent automatically, a person resolves it on the push page.
    Rows left sending by a push that died are uncertain too. An unreachable Moodle stops
    the messages of this push (the rest stay pending).

    The rows are read once; each batch's marks and outcomes are set-based updates by id
    (no row is loaded again after a commit).

    :raise OutboxPayloadError: a pending row does not hold a valid message (nothing sent).
    :raise InvalidToken, FunctionNotInService: nothing can be sent with this token (the
        batch stays pending).
    """
    _settle_interrupted()
    rows = [(row.id, row.dedupe_key, record_of(row, MessageRecord))
            for row in db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == MESSAGE, OutboxMessage.status.in_(SENDABLE))
                .order_by(OutboxMessage.id))]
    size = max(1, min(settings.message_batch_size, api.message_batch_limit))
    for start in range(0, len(rows), size):
        if not _send_batch(api, rows[start:start + size], summary):
            break
    db.session.commit()
    summary.uncertain = uncertain_messages()


def uncertain_messages() -> list[dict[str, object]]:
    """Every message whose fate is unknown: key, recipient, error (for a person to resolve)."""
    return [{"id": row.id, "key": row.dedupe_key,
             "user_id": record_of(row, MessageRecord).user_id, "error": row.last_error}
            for row in db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == MESSAGE, OutboxMessage.status == UNCERTAIN)
                .order_by(OutboxMessage.id))]


def _settle_interrupted() -> None:
    """Rows still marked sending belong to a push that died mid-call: their fate is unknown."""
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == MESSAGE, OutboxMessage.status == SENDING)):
        row.status = UNCERTAIN
        row.last_error = "отправка прервана: неизвестно, дошло ли сообщение"
    db.session.commit()


Batch = list[tuple[int, str, MessageRecord]]  # (row id, dedupe key, message)


def _send_batch(api: MoodleAPI, batch: Batch, summary: PushSummary) -> bool:
    """Send one batch; False when Moodle stopped answering (send no more now).

    The outcome is recorded in the session, not committed (see :func:`send_messages`).
    """
    ids = [row_id for row_id, _, _ in batch]
    _update(ids, status=SENDING, attempts=OutboxMessage.attempts + 1)
    db.session.commit()
    try:
        results = api.send_messages([OutgoingMessage(m.user_id, m.text, m.client_msg_id)
                                     for _, _, m in batch])
    except (InvalidToken, FunctionNotInService) as err:
        _settle(ids, PENDING, str(err))  # refused before anything was stored
        raise
    except MoodleUnavailable as err:
        _uncertain(ids, err, summary)
        return False
    except (MoodleAPIError, InvalidRequest) as err:
        if isinstance(err, MoodleCrash) or getattr(err, "errorcode", "") == MIXED_BATCH:
            _uncertain(ids, err, summary)
        else:  # refused as a whole before sending (parameters, capability)
            for row_id, key, _ in batch:
                _refused(row_id, key, err, summary)
            summary.messages_failed += len(batch)
            db.session.commit()
        return True
    sent = []
    for (row_id, key, message), result in zip(batch, results, strict=True):
        if result.error is None:
            sent.append(row_id)
            continue
        _refused(row_id, key, MessageRejected(None, f"to user {message.user_id}: {result.error}",
                                              fn.SEND_MESSAGES), summary)
        summary.messages_failed += 1
    _update(sent, status=SENT, sent_at=utcnow(), last_error="")
    summary.messages_sent += len(sent)
    return True  # committed with the next batch's mark, or at the end


def _update(ids: list[int], **values: object) -> None:
    """Set ``values`` on the outbox rows ``ids`` in one statement (not committed)."""
    if ids:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                           .values(**values).execution_options(synchronize_session=False))


def _refused(row_id: int, key: str, err: Exception, summary: PushSummary) -> None:
    """Moodle refused this message (it did nothing): it goes out again on the next push;
    the attempt was counted when the batch was marked sending."""
    _update([row_id], status=FAILED, last_error=str(err))
    summary.errors.append(f"{key}: {err}")
    logger.warning("push %s refused by Moodle: %s", key, err)


def _uncertain(ids: list[int], err: Exception, summary: PushSummary) -> None:
    """The batch may have been delivered, in whole or in part: a person decides."""
    logger.warning("message batch of %d: answer lost or ambiguous, marked uncertain: %s",
                   len(ids), err)
    _settle(ids, UNCERTAIN, f"неизвестно, дошли ли сообщения (ответ Moodle потерян): {err}")
    summary.messages_uncertain += len(ids)


def _settle(ids: list[int], status: str, error: str) -> None:
    _update(ids, status=status, last_error=error)
    db.session.commit()
