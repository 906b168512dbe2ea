"""Enrolments: what Moodle's enrolments must become, read back before writing (a course
that cannot be read gets nothing), sent in parallel batches that are halved on a refusal
until the bad rows are isolated."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.outbox import EnrolmentRecord, new_row, record_of, replace_record
from app.extensions import db
from app.models import OutboxMessage, Route, RouteItem
from app.models.ops import SENT
from app.models.route import APPROVED, CANCELLED, DECLINED, ENROLLED, REJECTED
from app.push.outbox import (
    ENROL,
    SENDING,
    PushSummary,
    enrolment_window,
    fail,
    mark_sent,
    reload,
)
from app.settings import Settings
from app.sync import silent
from app.sync.silent import ROLE_PAGE
from courses.records import INTERNSHIP
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MoodleAPIError,
    MoodleError,
    MoodleUnavailable,
)
from lms_connectors.moodle.api import Enrolment, MoodleAPI

logger = logging.getLogger(__name__)
ENDED = (CANCELLED, REJECTED, DECLINED)  # a person ended the item: its enrolment is suspended


def enqueue_enrolments(settings: Settings) -> int:
    """Queue what Moodle's enrolments must become; return how many rows were queued.

    Per (teacher, Moodle course) the wanted state follows the route items: active (with the
    internship's dates) while an item is approved or enrolled, suspended once all are
    cancelled, rejected by a methodologist or declined by the teacher (an enrolment
    ProfRoute never made is left alone). A row is queued only when the wanted state differs
    from the last one queued, so re-running queues nothing; items whose state Moodle
    already has move to enrolled.
    """
    last = latest_enrolments()
    queued = 0
    settled: list[int] = []
    for pair, state in _wanted(settings).items():
        previous = last.get(pair)
        before = None if previous is None else record_of(previous, EnrolmentRecord)
        if state.suspend and (before is None or before.preexisting):
            continue  # ProfRoute never enrolled them: not its enrolment to suspend
        if previous is not None and before is not None and _same_state(before, state):
            if previous.status == SENT:
                settled.extend(state.route_item_ids)
            continue
        seq = int(previous.dedupe_key.rsplit(":", 1)[1]) + 1 if previous is not None else 1
        db.session.add(new_row(state, f"{ENROL}:{pair[0]}:{pair[1]}:{seq}"))
        queued += 1
    _mark_enrolled(settled)
    db.session.commit()
    return queued


def _wanted(settings: Settings) -> dict[tuple[int, int], EnrolmentRecord]:
    """The enrolment each (Moodle user, course) must have, with its route items' ids."""
    wanted: dict[tuple[int, int], EnrolmentRecord] = {}
    items_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    for item in db.session.scalars(select(RouteItem).where(
            RouteItem.status.in_((APPROVED, ENROLLED, *ENDED))).options(
            selectinload(RouteItem.offer),
            selectinload(RouteItem.route).selectinload(Route.teacher))):
        offer = item.offer
        if offer.moodle_course_id is None:
            continue  # mentoring and other offers without a Moodle course: message only
        pair = (item.route.teacher.moodle_user_id, offer.moodle_course_id)
        items_of[pair].append(item.id)
        active = item.status not in ENDED
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


def read_back(api: MoodleAPI, rows: list[OutboxMessage], settings: Settings,
              summary: PushSummary) -> list[OutboxMessage]:
    """Read back before writing; return the rows that may be sent now.

    Every course with a first enrolment to send is read (``core_enrol_get_enrolled_users``,
    suspended and not-yet-started enrolments included). A user enrolled there in any way
    (another window, another role, suspended, another method) is someone else's
    enrolment: it is recorded as done (``preexisting``) without a call, reported in
    ``foreign_enrolments`` and never rewritten, suspended or removed by ProfRoute, unless
    ProfRoute's own row for it is still sending (an earlier push sent it and lost the
    answer): then the enrolment is ProfRoute's own, and the row is recorded as sent. When a
    course cannot be read, NOTHING is sent to it: its rows stay pending with the error on
    them (``held_courses``) and go out on a later push. So is a course Moodle would list
    short without an error (``app.sync.silent``): in separate groups mode without
    ``moodle/site:accessallgroups``, or every course when the users are hidden from the
    role (no ``moodle/user:viewdetails``); the error names the capability.

    :raise InvalidToken, FunctionNotInService, MoodleUnavailable: nothing can be read at all.
    """
    records = {r.dedupe_key: record_of(r, EnrolmentRecord) for r in rows}
    firsts = {r.dedupe_key for r in rows
              if not records[r.dedupe_key].suspend and r.dedupe_key.endswith(":1")}
    enrolled, held = _enrolled_by_course(
        api, sorted({records[k].course_id for k in firsts}), settings,
        sorted({records[k].user_id for k in firsts}))
    keep: list[OutboxMessage] = []
    done_items: list[int] = []
    for row in rows:
        record = records[row.dedupe_key]
        if record.course_id in held:
            row.last_error = f"курс {record.course_id}: {held[record.course_id]}"
            summary.enrolments_held += 1
        elif row.dedupe_key in firsts and record.user_id in enrolled[record.course_id]:
            _found_enrolled(row, record, summary)
            done_items.extend(record.route_item_ids)
        else:
            keep.append(row)
    _mark_enrolled(done_items)
    for course_id, error in sorted(held.items()):
        count = sum(1 for r in rows if records[r.dedupe_key].course_id == course_id)
        summary.held_courses.append({"course_id": course_id, "rows": count, "error": error})
        summary.errors.append(f"курс {course_id}: {error}")
    db.session.commit()
    return keep


def _found_enrolled(row: OutboxMessage, record: EnrolmentRecord,
                    summary: PushSummary) -> None:
    """Record a first enrolment the read-back found made: ProfRoute's own when its row was
    sending (the answer to an earlier push's call was lost), someone else's otherwise."""
    if row.status == SENDING:
        mark_sent(row, attempt=False)  # its attempt was counted when the answer was lost
        summary.enrolments_sent += 1
        return
    replace_record(row, record.replaced(preexisting=True))
    mark_sent(row)
    summary.already_enrolled += 1
    summary.foreign_enrolments.append({"user_id": record.user_id, "course_id": record.course_id})


def _enrolled_by_course(api: MoodleAPI, course_ids: list[int], settings: Settings,
                        user_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, str]]:
    """Who is enrolled in each course (in any state), and the courses that could not be read
    whole, with the reason (Russian, shown to the administrator)."""
    enrolled: dict[int, set[int]] = {}
    held = _blind(api, course_ids, user_ids)
    for course_id in course_ids:
        if course_id in held:
            continue
        try:
            enrolled[course_id] = {t.moodle_user_id for t in api.enrolled_users(
                course_id, page_size=settings.page_size)}
        except (InvalidToken, FunctionNotInService, MoodleUnavailable):
            raise
        except MoodleAPIError as err:
            logger.warning("cannot read the participants of course %s: %s", course_id, err)
            held[course_id] = ("не удалось прочитать участников курса: записи не отправлены "
                               f"и ждут следующей отправки ({err})")
    return enrolled, held


def _blind(api: MoodleAPI, course_ids: list[int], user_ids: list[int]) -> dict[int, str]:
    """The courses whose participants Moodle would list short, silently, with the reason.

    :raise InvalidToken, FunctionNotInService, MoodleUnavailable: nothing can be read.
    """
    if not course_ids:
        return {}
    try:
        blind = silent.blind_courses(api, course_ids)
        users = _hidden_users(api, user_ids)
    except (InvalidToken, FunctionNotInService, MoodleUnavailable):
        raise
    except MoodleAPIError as err:
        logger.warning("cannot tell whether Moodle lists the courses whole: %s", err)
        return dict.fromkeys(course_ids, "не удалось проверить, полон ли список участников: "
                             f"записи не отправлены и ждут следующей отправки ({err})")
    if users is not None:
        blind = dict.fromkeys(course_ids, users)
    return {course_id: (f"{why.reason}; записи не отправлены и ждут следующей отправки. "
                        f"Выдайте право {why.capability} роли ProfRoute ({ROLE_PAGE}) или "
                        "обновите плагин ProfRoute")
            for course_id, why in blind.items()}


def _hidden_users(api: MoodleAPI, user_ids: list[int]) -> silent.Blind | None:
    """``silent.hidden_users``; not told when the service lacks the function (check-moodle
    names a missing function)."""
    try:
        return silent.hidden_users(api, user_ids)
    except FunctionNotInService as err:
        logger.warning("cannot tell whether Moodle hides users from the role: %s", err)
        return None


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
    """Move the approved items among ``item_ids`` to enrolled (one query)."""
    if not item_ids:
        return
    for item in db.session.scalars(select(RouteItem).where(
            RouteItem.id.in_(item_ids), RouteItem.status == APPROVED)):
        item.move_to(ENROLLED)


def send_enrolments(api: MoodleAPI, rows: list[OutboxMessage], size: int, workers: int,
                    summary: PushSummary) -> None:
    """Send rows in batches of ``size``, up to ``workers`` calls at once.

    Every row is marked sending (one commit) before the first call, so a push that dies
    mid-call leaves its rows sending. The calls run in worker threads and touch no
    database; each batch's outcome is then recorded in this thread with one commit per
    batch, in the order of the batches. A refused batch is halved until the bad rows are
    isolated. After an unreachable Moodle or a bad token no new batch starts; the batches
    already answered are recorded before the error is raised. A batch whose answer was
    lost stays sending (the next push's read-back tells ProfRoute's own enrolments from
    foreign ones by it); the batches refused for the token or never sent take back their
    status.

    :raise InvalidToken, FunctionNotInService, MoodleUnavailable: as the first such error.
    """
    batches = [rows[i:i + size] for i in range(0, len(rows), size)]
    before = _mark_sending(rows)
    stop = threading.Event()
    fatal: MoodleError | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers),
                            thread_name_prefix="profroute-enrol") as pool:
        futures = [pool.submit(_deliver, api, [record_of(r, EnrolmentRecord) for r in batch],
                               stop) for batch in batches]
        for batch, future in zip(batches, futures, strict=True):
            try:
                outcomes = future.result()
            except (InvalidToken, FunctionNotInService) as err:
                fatal = fatal or err
                _take_back(batch, before, str(err))
            except MoodleUnavailable as err:
                fatal = fatal or err
                _answer_lost(batch, err)
            else:
                if outcomes is None:
                    _take_back(batch, before, None)
                else:
                    _record_batch(batch, outcomes, summary)
    if fatal is not None:
        raise fatal


def _mark_sending(rows: list[OutboxMessage]) -> dict[int, str]:
    """Mark the rows sending (one commit); return each row's status before."""
    before = {row.id: row.status for row in rows}
    for row in rows:
        row.status = SENDING
    db.session.commit()
    return before


def _take_back(rows: list[OutboxMessage], before: dict[int, str], error: str | None) -> None:
    """Moodle did nothing with these rows: give them back their status (and ``error``)."""
    reload(rows)
    for row in rows:
        row.status = before[row.id]
        if error is not None:
            row.last_error = error
    db.session.commit()


def _answer_lost(rows: list[OutboxMessage], err: MoodleUnavailable) -> None:
    """The batch's answer was lost: its rows stay sending, with the error and the attempt."""
    logger.warning("enrolment batch of %d: answer lost, the next push reads it back: %s",
                   len(rows), err)
    reload(rows)
    for row in rows:
        row.attempts += 1
        row.last_error = ("ответ Moodle потерян: неизвестно, записан ли преподаватель; "
                          f"следующая отправка проверит курс ({err})")
    db.session.commit()


def _deliver(api: MoodleAPI, records: list[EnrolmentRecord],
             stop: threading.Event) -> list[Exception | None] | None:
    """Send one batch (worker thread): per record, None when done or Moodle's refusal.

    None when the push stopped before this batch was sent.
    """
    if stop.is_set():
        return None
    try:
        if records[0].unenrol:
            api.unenrol([(e.user_id, e.course_id) for e in records])
        else:
            api.enrol([Enrolment(user_id=e.user_id, course_id=e.course_id, role_id=e.role_id,
                                 timestart=e.timestart, timeend=e.timeend, suspend=e.suspend)
                       for e in records])
    except (InvalidToken, FunctionNotInService, MoodleUnavailable):
        stop.set()
        raise
    except (MoodleAPIError, InvalidRequest) as err:
        if len(records) == 1:
            return [err]
        half = len(records) // 2
        first, second = (_deliver(api, records[:half], stop),
                         _deliver(api, records[half:], stop))
        if first is None or second is None:
            return None
        return first + second
    return [None] * len(records)


def _record_batch(rows: list[OutboxMessage], outcomes: list[Exception | None],
                  summary: PushSummary) -> None:
    """Record one batch's outcome: sent rows, their items enrolled, refusals; one commit."""
    reload(rows)
    enrolled_items: list[int] = []
    for row, error in zip(rows, outcomes, strict=True):
        if error is not None:
            fail(row, error, summary)
            summary.enrolments_failed += 1
            continue
        mark_sent(row)
        summary.enrolments_sent += 1
        record = record_of(row, EnrolmentRecord)
        if not record.suspend:
            enrolled_items.extend(record.route_item_ids)
    _mark_enrolled(enrolled_items)
    db.session.commit()
