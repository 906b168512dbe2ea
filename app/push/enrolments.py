"""Enrolments: what Moodle's enrolments must become, read back before writing, sent in
batches that are halved on a refusal until the bad rows are isolated."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.outbox import EnrolmentRecord, new_row, record_of, replace_record
from app.extensions import db
from app.models import OutboxMessage, Route, RouteItem
from app.models.ops import SENT
from app.models.route import APPROVED, CANCELLED, ENROLLED
from app.push.outbox import ENROL, PushSummary, enrolment_window, fail, mark_sent
from app.settings import Settings
from courses.records import INTERNSHIP
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MoodleAPIError,
    MoodleUnavailable,
)
from lms_connectors.moodle.api import Enrolment, MoodleAPI

logger = logging.getLogger(__name__)


def enqueue_enrolments(settings: Settings) -> int:
    """Queue what Moodle's enrolments must become; return how many rows were queued.

    Per (teacher, Moodle course) the wanted state follows the route items: active (with the
    internship's dates) while an item is approved or enrolled, suspended once all are
    cancelled. A row is queued only when the wanted state differs from the last one queued,
    so re-running queues nothing; items whose state Moodle already has move to enrolled.
    """
    last = latest_enrolments()
    queued = 0
    for pair, state in _wanted(settings).items():
        previous = last.get(pair)
        before = None if previous is None else record_of(previous, EnrolmentRecord)
        if state.suspend and (before is None or before.preexisting):
            continue  # ProfRoute never enrolled them: not its enrolment to suspend
        if previous is not None and before is not None and _same_state(before, state):
            if previous.status == SENT:
                _mark_enrolled(state.route_item_ids)
            continue
        seq = int(previous.dedupe_key.rsplit(":", 1)[1]) + 1 if previous is not None else 1
        db.session.add(new_row(state, f"{ENROL}:{pair[0]}:{pair[1]}:{seq}"))
        queued += 1
    db.session.commit()
    return queued


def _wanted(settings: Settings) -> dict[tuple[int, int], EnrolmentRecord]:
    """The enrolment each (Moodle user, course) must have, with its route items' ids."""
    wanted: dict[tuple[int, int], EnrolmentRecord] = {}
    items_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for item in db.session.scalars(select(RouteItem).where(
            RouteItem.status.in_((APPROVED, ENROLLED, CANCELLED))).options(
            selectinload(RouteItem.offer),
            selectinload(RouteItem.route).selectinload(Route.teacher))):
        offer = item.offer
        if offer.moodle_course_id is None:
            continue  # mentoring and other offers without a Moodle course: message only
        pair = (item.route.teacher.moodle_user_id, offer.moodle_course_id)
        items_of[pair].append(item.id)
        active = item.status != CANCELLED
        start, end = (enrolment_window(offer.starts_on, offer.ends_on)
                      if offer.kind == INTERNSHIP else (0, 0))
        state = wanted.get(pair)
        if state is None or (active and state.suspend):
            wanted[pair] = EnrolmentRecord(
                user_id=pair[0], course_id=pair[1], role_id=settings.enrol_role_id,
                timestart=start, timeend=end, suspend=not active,
                unenrol=not active and settings.cancel_action == "unenrol")
    return {pair: state.replaced(route_item_ids=items_of[pair])
            for pair, state in wanted.items()}


def skip_preexisting(api: MoodleAPI, rows: list[OutboxMessage], settings: Settings,
                     summary: PushSummary) -> list[OutboxMessage]:
    """Read back before writing: leave alone enrolments Moodle already has active.

    A first enrolment of a teacher who is already active in the course is recorded as done
    (``preexisting``) without a call: re-enrolling would overwrite the dates and status an
    administrator set, and cancelling the route item later will not suspend it.
    """
    records = {r.dedupe_key: record_of(r, EnrolmentRecord) for r in rows}
    firsts = [r for r in rows
              if not records[r.dedupe_key].suspend and r.dedupe_key.endswith(":1")]
    active: dict[int, set[int]] = {}
    for course_id in sorted({records[r.dedupe_key].course_id for r in firsts}):
        try:
            active[course_id] = {t.moodle_user_id for t in api.enrolled_users(
                course_id, page_size=settings.page_size, only_active=True)}
        except (InvalidToken, FunctionNotInService, MoodleUnavailable):
            raise
        except MoodleAPIError as err:  # e.g. a deleted course: its enrolments will fail
            logger.warning("cannot read the participants of course %s: %s", course_id, err)
            active[course_id] = set()
    keep = []
    for row in rows:
        record = records[row.dedupe_key]
        if row in firsts and record.user_id in active[record.course_id]:
            replace_record(row, record.replaced(preexisting=True))
            mark_sent(row)
            _mark_enrolled(record.route_item_ids)
            summary.already_enrolled += 1
        else:
            keep.append(row)
    db.session.commit()
    return keep


def latest_enrolments() -> dict[tuple[int, int], OutboxMessage]:
    """The last queued enrolment row per (Moodle user, course): the head of its chain.

    :raise OutboxPayloadError: a stored enrolment row does not match its record.
    """
    latest: dict[tuple[int, int], OutboxMessage] = {}
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ENROL)
                                  .order_by(OutboxMessage.id)):
        record = record_of(row, EnrolmentRecord)
        latest[(record.user_id, record.course_id)] = row
    return latest


def _same_state(before: EnrolmentRecord, state: EnrolmentRecord) -> bool:
    return all(getattr(before, k) == getattr(state, k)
               for k in ("timestart", "timeend", "suspend", "unenrol", "role_id"))


def _mark_enrolled(item_ids: Sequence[int]) -> None:
    for item in db.session.scalars(select(RouteItem).where(
            RouteItem.id.in_(item_ids), RouteItem.status == APPROVED)):
        item.move_to(ENROLLED)


def send_enrol_batch(api: MoodleAPI, rows: list[OutboxMessage], summary: PushSummary) -> None:
    """Send rows in one call; when Moodle rejects it, halve until the bad rows are isolated."""
    records = [record_of(r, EnrolmentRecord) for r in rows]
    enrolments = [Enrolment(user_id=e.user_id, course_id=e.course_id, role_id=e.role_id,
                            timestart=e.timestart, timeend=e.timeend, suspend=e.suspend)
                  for e in records]
    summary.calls += 1
    try:
        if records[0].unenrol:
            api.unenrol([(e.user_id, e.course_id) for e in enrolments])
        else:
            api.enrol(enrolments)
    except (InvalidToken, FunctionNotInService, MoodleUnavailable):
        raise
    except (MoodleAPIError, InvalidRequest) as err:
        if len(rows) > 1:
            half = len(rows) // 2
            send_enrol_batch(api, rows[:half], summary)
            send_enrol_batch(api, rows[half:], summary)
            return
        fail(rows[0], err, summary)
        summary.enrolments_failed += 1
        return
    for row, record in zip(rows, records, strict=True):
        mark_sent(row)
        if not record.suspend:
            _mark_enrolled(record.route_item_ids)
    summary.enrolments_sent += len(rows)
    db.session.commit()
