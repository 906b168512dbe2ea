"""Push stage: approved route items become Moodle enrolments, the network, plans and
ratings, and one message per teacher.

Everything goes through the outbox: a row is written once per intended effect (its
``dedupe_key``), so re-running never enrols twice or sends a message twice. The summary
counts the web-service calls the push really made, at the client's transport.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from app.common import audit
from app.common.outbox import EnrolmentRecord, record_of
from app.extensions import db
from app.models import OutboxMessage
from app.push.enrolments import enqueue_enrolments, read_back, send_enrolments
from app.push.messages import enqueue_messages, send_messages
from app.push.network import push_cohorts, push_internships, push_plans
from app.push.outbox import ENROL, SENDABLE, SENDING, PushSummary, reload
from app.push.ratings import enqueue_ratings, send_ratings
from app.settings import Settings, SettingsError
from lms_connectors.moodle.api import MoodleAPI

__all__ = ["PushSummary", "push"]


def push(api: MoodleAPI, settings: Settings) -> PushSummary:
    """Enqueue and send enrolments, the network, plans, ratings, then the messages.

    :raise MoodleUnavailable: Moodle stopped answering; what is not sent stays pending.
    :raise InvalidToken, FunctionNotInService: nothing more can be sent with this token.
    """
    if settings.cancel_action not in ("suspend", "unenrol"):
        raise SettingsError(f"PROFROUTE_CANCEL_ACTION = {settings.cancel_action!r}: write "
                            "suspend or unenrol")
    audit.record("push.start", None, {"moodle": settings.moodle_url}, commit=True)
    summary = PushSummary()
    before = Counter(api.client.calls_by_function)
    _push_enrolments(api, settings, summary)
    push_cohorts(api, summary)
    push_internships(api, summary)
    push_plans(api, summary)
    enqueue_ratings(settings)
    send_ratings(api, summary)
    enqueue_messages()
    send_messages(api, settings, summary)
    made = Counter(api.client.calls_by_function) - before
    summary.calls_by_function = dict(sorted(made.items()))
    summary.calls = sum(made.values())
    # committed with the caller's run log (logged_run), as the push's last change
    audit.record("push.done", None, {"calls": summary.calls,
                                     "needs_attention": summary.needs_attention})
    return summary


def _push_enrolments(api: MoodleAPI, settings: Settings, summary: PushSummary) -> None:
    """Queue, read back, then send: enrolments and suspensions first, then unenrolments.

    Rows Moodle refused on an earlier push are sent again with the new ones, and so are
    the rows an earlier push sent without getting the answer (sending): enrolling is
    idempotent in Moodle, and the read-back settles those it finds made."""
    enqueue_enrolments(settings)
    pending = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == ENROL, OutboxMessage.status.in_((*SENDABLE, SENDING)))
        .order_by(OutboxMessage.id)))
    pending = read_back(api, pending, settings, summary)
    reload(pending)  # read_back committed: one query, not one per row
    size = max(1, min(settings.enrol_batch_size, api.enrol_batch_limit))
    unenrol = {r.id: record_of(r, EnrolmentRecord).unenrol for r in pending}
    batches = ([r for r in pending if not unenrol[r.id]], [r for r in pending if unenrol[r.id]])
    for rows in batches:
        send_enrolments(api, rows, size, settings.enrol_parallel, summary)
