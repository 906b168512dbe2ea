"""Calendar events and learning plans: read-back helpers and the non-idempotent creates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lms_connectors.exceptions import InvalidRequest, error_from_body
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle import parse
from lms_connectors.moodle.base import APIBase, bad_answer, parsing, positive, text, unix_time
from lms_connectors.moodle.records import (
    PLAN_ACTIVE,
    PLAN_DRAFT,
    CalendarEvent,
    CompetencyRating,
    EventSpec,
    Plan,
)

CREATABLE_PLAN_STATUSES = frozenset({PLAN_DRAFT, PLAN_ACTIVE})


class PlanningOperations(APIBase):
    """Calendar events of PD courses and the teachers' learning plans.

    Neither an event nor a plan has a unique key in Moodle, and creating either twice
    makes two records: read back (:meth:`calendar_events`, :meth:`user_plans`) before
    creating, and record what was created before creating the next one.
    """

    def calendar_events(self, *, course_ids: Sequence[int] = (), group_ids: Sequence[int] = (),
                        event_ids: Sequence[int] = (), time_from: int = 0,
                        time_to: int = 0) -> list[CalendarEvent]:
        """Return the events of the given courses, groups and ids (their union), by id.

        ``options[userevents]=0`` and ``options[siteevents]=0`` are always sent: otherwise
        Moodle adds the WS user's own and the site events to any answer, even one asked by
        ``eventids``. As a second guard, events matching none of the selectors are dropped.
        Group events are returned only for ``group_ids`` (not for their course). Events
        asked by id come whatever their time; the others must start in
        ``[time_from, time_to]`` (0: no limit).

        Raises:
            InvalidRequest: no selector at all, a bad id, or a bad time window.
        """
        selectors = {"courseids": course_ids, "groupids": group_ids, "eventids": event_ids}
        chosen = {k: _ids(k, v) for k, v in selectors.items() if v}
        if not chosen:
            raise InvalidRequest("give course_ids, group_ids or event_ids",
                                 function=fn.CALENDAR_EVENTS)
        unix_time(fn.CALENDAR_EVENTS, time_from=time_from, time_to=time_to)
        if time_to and time_to < time_from:
            raise InvalidRequest("time_to is before time_from", function=fn.CALENDAR_EVENTS)
        options: dict[str, Any] = {"userevents": False, "siteevents": False}
        if time_from:
            options["timestart"] = time_from
        if time_to:
            options["timeend"] = time_to
        body = self._call(fn.CALENDAR_EVENTS, {"events": chosen, "options": options}, dict)
        with parsing(fn.CALENDAR_EVENTS):
            events = {e.event_id: e for e in map(parse.event, body["events"])}
        wanted = [
            e for e in events.values()
            if e.event_id in chosen.get("eventids", ())
            or (e.course_id in chosen.get("courseids", ()) and e.eventtype != "group")
            or (e.group_id in chosen.get("groupids", ()) and e.eventtype == "group")
        ]
        return sorted(wanted, key=lambda e: e.event_id)

    def create_calendar_event(self, spec: EventSpec) -> CalendarEvent:
        """Create one course or group event (one per call) owned by the WS user.

        Not idempotent: the same event twice gives two events. Look for it with
        :meth:`calendar_events` first.

        Raises:
            InvalidRequest: empty or too long name, bad ids or times.
            RecordNotFound: unknown course (nothing created).
            AccessDenied: Moodle skipped the event with a ``nopermissions`` warning.
        """
        f = fn.CREATE_EVENTS
        name = text(f, "name", spec.name)
        positive(f, course_id=spec.course_id, timestart=spec.timestart)
        unix_time(f, timeduration=spec.timeduration)
        row: dict[str, Any] = {"name": name}
        description = text(f, "description", spec.description, limit=100_000, required=False)
        if description:
            row.update(description=description, format=1)
        row["courseid"] = spec.course_id
        if spec.group_id:
            positive(f, group_id=spec.group_id)
            row["groupid"] = spec.group_id
        row.update(eventtype=spec.eventtype, timestart=spec.timestart,
                   timeduration=spec.timeduration)
        body = self._call(f, {"events": [row]}, dict)
        with parsing(f):
            created = [parse.event(e) for e in body["events"]]
            warnings = [parse.warning(w) for w in body.get("warnings") or []]
        if created:
            return created[0]
        if warnings:
            raise error_from_body({"exception": "warning", "errorcode": warnings[0].warningcode,
                                   "message": warnings[0].message}, f)
        raise bad_answer(f, "no event created and no warning given")

    def user_plans(self, user_id: int) -> list[Plan]:
        """Return every learning plan of a user (drafts included).

        Raises:
            InvalidRequest: ``user_id`` not a positive int.
            RecordNotFound: unknown user.
        """
        positive(fn.USER_PLANS, user_id=user_id)
        body = self._call(fn.USER_PLANS, {"userid": user_id}, list)
        with parsing(fn.USER_PLANS):
            return [parse.plan(p) for p in body]

    def create_plan(self, user_id: int, name: str, *, description: str = "",
                    status: int = PLAN_ACTIVE, duedate: int = 0) -> Plan:
        """Create a learning plan, active by default.

        Create it active directly: ``core_competency_update_plan`` cannot change a plan's
        status, and approving a draft takes another call. Not idempotent: the same call
        twice makes two plans; look in :meth:`user_plans` first.

        Raises:
            InvalidRequest: bad user id, empty or too long name, ``status`` other than
                ``PLAN_DRAFT``/``PLAN_ACTIVE``, ``duedate`` not a unix time or 0.
            RecordNotFound: unknown user (``invaliduser``).
            AccessDenied: the WS user lacks moodle/competency:planmanage.
        """
        f = fn.CREATE_PLAN
        positive(f, user_id=user_id)
        if isinstance(status, bool) or status not in CREATABLE_PLAN_STATUSES:
            raise InvalidRequest(f"status {status!r} is not 0 (draft) or 1 (active)", function=f)
        unix_time(f, duedate=duedate)
        plan: dict[str, Any] = {"name": text(f, "name", name, limit=100)}
        about = text(f, "description", description, limit=100_000, required=False)
        if about:
            plan.update(description=about, descriptionformat=1)
        plan.update(userid=user_id, status=status, duedate=duedate)
        body = self._call(f, {"plan": plan}, dict)
        with parsing(f):
            return parse.plan(body)

    def plan_competencies(self, plan_id: int) -> list[int]:
        """Return the competency ids of a plan, in the plan's order.

        Raises:
            InvalidRequest: ``plan_id`` not a positive int.
            RecordNotFound: unknown plan.
        """
        rows = self._plan_rows(plan_id)
        with parsing(fn.PLAN_COMPETENCIES):
            return [int(row["competency"]["id"]) for row in rows]

    def plan_ratings(self, plan_id: int) -> list[CompetencyRating]:
        """Return Moodle's ratings of the plan's competencies (unrated ones left out).

        Without the plugin this is how ratings are read: one call per plan.

        Raises:
            InvalidRequest: ``plan_id`` not a positive int.
            RecordNotFound: unknown plan.
        """
        rows = self._plan_rows(plan_id)
        with parsing(fn.PLAN_COMPETENCIES):
            return [r for r in map(parse.plan_rating, rows) if r is not None]

    def _plan_rows(self, plan_id: int) -> list[dict[str, Any]]:
        """The rows of ``core_competency_list_plan_competencies`` for one plan."""
        positive(fn.PLAN_COMPETENCIES, plan_id=plan_id)
        rows: list[dict[str, Any]] = self._call(fn.PLAN_COMPETENCIES, {"id": plan_id}, list)
        return rows

    def add_competency_to_plan(self, plan_id: int, competency_id: int) -> bool:
        """Add a competency to a plan; adding it again answers True and changes nothing.

        Raises:
            InvalidRequest: an id that is not a positive int.
            RecordNotFound: unknown plan or competency.
        """
        positive(fn.ADD_PLAN_COMPETENCY, plan_id=plan_id, competency_id=competency_id)
        params = {"planid": plan_id, "competencyid": competency_id}
        return bool(self._call(fn.ADD_PLAN_COMPETENCY, params, bool))


def _ids(name: str, ids: Sequence[int]) -> list[int]:
    values = list(ids)
    positive(fn.CALENDAR_EVENTS, **{f"{name}[{i}]": v for i, v in enumerate(values)})
    return values
