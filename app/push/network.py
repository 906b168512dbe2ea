"""Push of the network into Moodle: cohorts per network, groups and calendar events for
internships, learning plans per route. Each is read back before it is written (Moodle has no
idempotency key for these) and recorded in the outbox, so a re-run costs no call."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.common.outbox import (
    PLAN,
    CalendarEventRecord,
    CohortRecord,
    GroupRecord,
    OutboxRecord,
    PlanRecord,
    new_row,
    record_of,
    replace_record,
)
from app.extensions import db
from app.models import (
    Competency,
    Offer,
    OutboxMessage,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.models.ops import FAILED, PENDING, SENT
from app.models.route import APPROVED, ENROLLED
from app.push.outbox import PushSummary, enrolment_window
from courses.records import INTERNSHIP
from lms_connectors.exceptions import (
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MoodleAPIError,
    MoodleUnavailable,
    RecordNotFound,
)
from lms_connectors.moodle.api import MoodleAPI
from lms_connectors.moodle.functions import READ_FUNCTIONS
from lms_connectors.moodle.records import EventSpec

logger = logging.getLogger(__name__)
MEMBERS_PER_CALL = 100  # cohort and group members per call, well within max_input_vars


def digest(values: Iterable[int]) -> str:
    """A short stable fingerprint of what a push wants Moodle to hold (Moodle ids)."""
    return hashlib.sha256(",".join(map(str, sorted(values))).encode()).hexdigest()[:16]


def _row_of(key: str, record: OutboxRecord) -> OutboxMessage:
    """The outbox row of ``key``, added (pending, holding ``record``) when there is none."""
    row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key=key)).first()
    if row is None:
        row = new_row(record, key)
        db.session.add(row)
    return row


def ensure(key: str, record: OutboxRecord, action: Callable[[], int],
           summary: PushSummary) -> OutboxMessage:
    """Run ``action`` once per ``key``: skipped when the outbox says it was done.

    ``record`` (a cohort, group, event or plan record) is stored on the row; on success
    with ``result``, the Moodle id ``action`` returned. A refusal is recorded on the row
    (and retried by the next push); a failed read-back (which the writes in ``action``
    follow) leaves the row pending with its error, as nothing was written. An unreachable
    Moodle or a bad token stops the push. Returns the row (sent or not).
    """
    row = _row_of(key, record)
    if row.status == SENT:
        return row
    row.attempts = (row.attempts or 0) + 1
    try:
        result = action()
    except (InvalidToken, FunctionNotInService, MoodleUnavailable):
        db.session.rollback()
        raise
    except MoodleAPIError as err:
        if err.function in READ_FUNCTIONS:  # the read-back failed: nothing was written
            row.status, row.last_error = PENDING, (
                f"чтение перед записью не удалось, ничего не записано, ждёт следующей "
                f"отправки: {err}")
        else:
            row.status, row.last_error = FAILED, str(err)
        summary.errors.append(f"{key}: {err}")
        logger.warning("push %s refused by Moodle: %s", key, err)
    except InvalidRequest as err:
        row.status, row.last_error = FAILED, str(err)
        summary.errors.append(f"{key}: {err}")
    else:
        row.status, row.last_error = SENT, ""
        replace_record(row, record.replaced(result=result))
        summary.network_changes += 1
    db.session.commit()
    return row


def wait_for(key: str, record: OutboxRecord, reason: str, summary: PushSummary) -> None:
    """Hold ``key`` back, with no call, until what it rests on is in Moodle.

    Its row (unless already sent) stays pending with ``reason`` as its error, so it is
    shown with the other held rows and goes out on a later push.
    """
    row = _row_of(key, record)
    if row.status == SENT:
        return
    row.status, row.last_error = PENDING, reason
    summary.errors.append(f"{key}: {reason}")
    db.session.commit()


def push_cohorts(api: MoodleAPI, summary: PushSummary) -> None:
    """One cohort per network (a resource centre and its partner schools) with its teachers."""
    networks: dict[int, set[int]] = defaultdict(set)
    for rc_id, school_id in db.session.execute(
            select(Partnership.resource_centre_id, Partnership.school_id)).all():
        networks[rc_id].update({rc_id, school_id})
    for rc_id, school_ids in sorted(networks.items()):
        centre = db.session.get(School, rc_id)
        assert centre is not None
        members = sorted(db.session.scalars(select(Teacher.moodle_user_id).where(
            Teacher.school_id.in_(school_ids), Teacher.active.is_(True))))
        idnumber = f"profroute-net-{centre.code}"
        name = f"Сеть ресурсного центра {centre.name}"
        ensure(f"cohort:{idnumber}:{digest(members)}",
               CohortRecord(idnumber=idnumber, members=len(members)),
               partial(_cohort, api, idnumber, name, members), summary)


def _cohort(api: MoodleAPI, idnumber: str, name: str, members: list[int]) -> int:
    cohort = api.cohort_by_idnumber(idnumber) or api.create_cohort(idnumber, name)
    present = api.cohort_members([cohort.cohort_id]).get(cohort.cohort_id, set())
    for chunk in _chunks([m for m in members if m not in present]):
        api.add_cohort_members(cohort.cohort_id, chunk)
    return cohort.cohort_id


def _chunks(ids: list[int], size: int = MEMBERS_PER_CALL) -> list[list[int]]:
    """``ids`` in calls of at most ``size`` (a call has a field limit)."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def push_internships(api: MoodleAPI, summary: PushSummary) -> None:
    """Per internship course: a group of the host resource centre's interns and an event."""
    offers = db.session.scalars(select(Offer).where(
        Offer.kind == INTERNSHIP, Offer.moodle_course_id.is_not(None),
        Offer.host_school_id.is_not(None)).options(selectinload(Offer.host_school)))
    for offer in offers:
        host = offer.host_school
        assert host is not None and offer.moodle_course_id is not None
        interns = sorted(db.session.scalars(
            select(Teacher.moodle_user_id).join(Route, Route.teacher_id == Teacher.id)
            .join(RouteItem, RouteItem.route_id == Route.id)
            .where(RouteItem.offer_id == offer.id, RouteItem.status == ENROLLED)))
        if not interns:
            continue
        idnumber = f"profroute-rc-{host.code}"
        group_key = f"group:{offer.moodle_course_id}:{idnumber}:{digest(interns)}"
        group = ensure(group_key,
                       GroupRecord(course_id=offer.moodle_course_id, idnumber=idnumber),
                       partial(_group, api, offer, idnumber, interns), summary)
        if offer.starts_on and offer.ends_on:
            _push_event(api, offer, group, summary)


def _push_event(api: MoodleAPI, offer: Offer, group: OutboxMessage,
                summary: PushSummary) -> None:
    """The internship's calendar event for its group of interns, once that group is sent.

    An event never goes out without its group (group 0 would show it to the whole
    course): while the group's row is not sent, the event waits with the reason.
    """
    assert offer.moodle_course_id is not None
    start, end = enrolment_window(offer.starts_on, offer.ends_on)
    key = f"event:{offer.key}:{start}:{end}"
    record = CalendarEventRecord(course_id=offer.moodle_course_id, offer=offer.key)
    group_id = record_of(group, GroupRecord).result if group.status == SENT else None
    if group_id is None:
        wait_for(key, record, "ждёт группу стажёров: она ещё не создана в Moodle "
                 f"({group.dedupe_key}: {group.last_error or 'не отправлена'})", summary)
        return
    ensure(key, record, partial(_event, api, offer, group_id, start, end), summary)


def _group(api: MoodleAPI, offer: Offer, idnumber: str, members: list[int]) -> int:
    course_id = offer.moodle_course_id or 0
    group = next((g for g in api.course_groups(course_id) if g.idnumber == idnumber), None)
    if group is None:
        name = f"Стажёры: {offer.host_school.name if offer.host_school else idnumber}"
        group = api.create_group(course_id, name, idnumber=idnumber,
                                 description="Создано ProfRoute")
    present = api.group_members([group.group_id]).get(group.group_id, set())
    for chunk in _chunks([m for m in members if m not in present]):
        api.add_group_members(group.group_id, chunk)
    return group.group_id


def _event(api: MoodleAPI, offer: Offer, group_id: int, start: int, end: int) -> int:
    """The group's event of the internship: found among its group's events, else created."""
    course_id = offer.moodle_course_id or 0
    name = f"Стажировка: {offer.title}"
    for event in api.calendar_events(course_ids=[course_id], group_ids=[group_id]):
        if event.group_id == group_id and event.name == name and event.timestart == start:
            return event.event_id
    spec = EventSpec(name=name, course_id=course_id, timestart=start,
                     timeduration=max(0, end - start), group_id=group_id,
                     description=f"Стажировка на базе ресурсного центра ({offer.hours or '—'} ч.)")
    return api.create_calendar_event(spec).event_id


def push_plans(api: MoodleAPI, summary: PushSummary) -> None:
    """The teacher's route as a Moodle learning plan holding the route's competencies.

    The idempotency check costs no call when the route's competencies did not change
    since the last push (the outbox key holds their digest) and at most one read per
    teacher when they did: the plan's competencies when an earlier push recorded the
    plan's id, else the teacher's plans.
    """
    moodle_ids = dict(db.session.execute(
        select(Competency.idnumber, Competency.moodle_id)).all())
    known = _known_plans()
    routes = db.session.scalars(select(Route).options(
        selectinload(Route.items), selectinload(Route.teacher)))
    for route in routes:
        comps = sorted({moodle_id for i in route.items if i.status in (APPROVED, ENROLLED)
                        for c in i.competencies if (moodle_id := moodle_ids.get(c))})
        if not comps:
            continue
        user_id = route.teacher.moodle_user_id
        name = f"ИОМ ProfRoute №{route.id}"
        ensure(f"plan:{route.id}:{digest(comps)}", PlanRecord(user_id=user_id, name=name),
               partial(_plan, api, user_id, name, comps, known.get(route.id)), summary)


def _known_plans() -> dict[int, int]:
    """The Moodle plan id an earlier push recorded, per route id."""
    known: dict[int, int] = {}
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == PLAN, OutboxMessage.status == SENT)
            .order_by(OutboxMessage.id)):
        plan_id = record_of(row, PlanRecord).result
        if plan_id is not None:
            known[int(row.dedupe_key.split(":")[1])] = plan_id
    return known


def _plan(api: MoodleAPI, user_id: int, name: str, competencies: list[int],
          known_id: int | None) -> int:
    """Make the plan hold ``competencies`` with at most one read.

    A plan recorded by an earlier push: read its competencies, add the missing ones. Else
    find the plan by name among the teacher's plans (a push that died after creating it)
    or create it, then add every competency (adding one twice changes nothing).
    """
    if known_id is not None:
        try:
            present = set(api.plan_competencies(known_id))
        except RecordNotFound:  # deleted in Moodle: make it again
            present, known_id = set(), None
        else:
            _add_plan_competencies(api, known_id, [c for c in competencies if c not in present])
            return known_id
    plan = next((p for p in api.user_plans(user_id) if p.name == name), None)
    if plan is None:
        plan = api.create_plan(user_id, name, status=1, description=(
            "Индивидуальный образовательный маршрут по итогам диагностики (ProfRoute)"))
    _add_plan_competencies(api, plan.plan_id, competencies)
    return plan.plan_id


def _add_plan_competencies(api: MoodleAPI, plan_id: int, competencies: list[int]) -> None:
    for competency_id in competencies:
        api.add_competency_to_plan(plan_id, competency_id)
