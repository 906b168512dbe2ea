"""Push stage: approved route items become Moodle enrolments, the network, plans and
ratings, and one message per teacher.

Everything goes through the outbox: a row is written once per intended effect (its
``dedupe_key``), so re-running never enrols twice or sends a message twice.
"""

from __future__ import annotations

from sqlalchemy import select

from app.common.outbox import EnrolmentRecord, record_of
from app.extensions import db
from app.models import OutboxMessage
from app.models.ops import PENDING
from app.push.enrolments import enqueue_enrolments, send_enrol_batch, skip_preexisting
from app.push.messages import enqueue_messages, send_message
from app.push.network import push_cohorts, push_internships, push_plans
from app.push.outbox import ENROL, MESSAGE, PushSummary
from app.push.ratings import enqueue_ratings, send_ratings
from app.settings import Settings, SettingsError
from lms_connectors.moodle.api import MoodleAPI

__all__ = ["PushSummary", "push"]


def push(api: MoodleAPI, settings: Settings) -> PushSummary:
    """Enqueue and send enrolments, then one message per teacher whose route changed.

    :raise MoodleUnavailable: Moodle stopped answering; what is not sent stays pending.
    :raise InvalidToken, FunctionNotInService: nothing more can be sent with this token.
    """
    if settings.cancel_action not in ("suspend", "unenrol"):
        raise SettingsError(f"PROFROUTE_CANCEL_ACTION = {settings.cancel_action!r}: write "
                            "suspend or unenrol")
    summary = PushSummary()
    enqueue_enrolments(settings)
    pending = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == ENROL, OutboxMessage.status == PENDING).order_by(OutboxMessage.id)))
    pending = skip_preexisting(api, pending, settings, summary)
    size = max(1, min(settings.enrol_batch_size, api.enrol_batch_limit))
    for action in (False, True):  # enrolments and suspensions first, then unenrolments
        rows = [r for r in pending if record_of(r, EnrolmentRecord).unenrol == action]
        for start in range(0, len(rows), size):
            send_enrol_batch(api, rows[start:start + size], summary)
    push_cohorts(api, summary)
    push_internships(api, summary)
    push_plans(api, summary)
    enqueue_ratings(settings)
    send_ratings(api, summary)
    enqueue_messages()
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == MESSAGE, OutboxMessage.status == PENDING)
            .order_by(OutboxMessage.id)).all():
        send_message(api, row, summary)
    return summary
