"""Handlers for calendar events: create (not idempotent), get (with the eventids quirk), delete."""

from __future__ import annotations

import sys
from typing import Any

from . import errors
from .context import COURSE_VIEW, Context
from .errors import NOT_ACCESSIBLE
from .store_push import CalendarEvent

_TYPES = ("user", "site", "course", "group")


def create_calendar_events(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_calendar_create_calendar_events``: every event belongs to the WS user.

    The same event twice makes two events. The whole batch fails on one bad event; an
    event the role may not add is left out with a ``nopermissions`` warning.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown course or group,
            ``invalidparameter`` for an unknown event type.
    """
    site = ctx.site
    with site.lock:
        for item in params["events"]:
            _check(ctx, item)
        created, warnings = [], []
        for item in params["events"]:
            kind = item["eventtype"]
            if not _allowed(ctx, kind):
                warnings.append({"item": item["name"], "warningcode": "nopermissions",
                                 "message": "you do not have permissions to create this event"})
                continue
            event = CalendarEvent(
                id=max(site.events, default=0) + 1, name=item["name"],
                description=item.get("description") or "", format=item["format"],
                courseid=item["courseid"] if kind in ("course", "group") else 0,
                groupid=item["groupid"] if kind == "group" else 0, userid=ctx.userid,
                eventtype=kind, timestart=item["timestart"],
                timeduration=item["timeduration"], visible=item["visible"],
                sequence=item["sequence"], timemodified=site.now())
            site.events[event.id] = event
            created.append(_stored(event))
    return {"events": created, "warnings": warnings}


def _allowed(ctx: Context, kind: str) -> bool:
    """calendar/lib.php calendar_add_event_allowed, with the role in the system context."""
    if ctx.can("moodle/calendar:manageentries"):
        return True
    return kind == "user" and ctx.can("moodle/calendar:manageownentries")


def _check(ctx: Context, item: dict[str, Any]) -> None:
    kind = item["eventtype"]
    if kind not in _TYPES:
        raise errors.invalid_parameter()
    if kind in ("course", "group") and item["courseid"] not in ctx.site.courses:
        raise errors.missing_record("course")
    if kind == "group":
        group = ctx.site.groups.get(item["groupid"])
        if group is None or group.courseid != item["courseid"]:
            raise errors.missing_record("groups")


def _stored(event: CalendarEvent) -> dict[str, Any]:
    """The event as a database row (create answer, and events asked by id)."""
    return {
        "id": event.id, "name": event.name, "description": event.description,
        "format": event.format, "courseid": event.courseid, "groupid": event.groupid,
        "userid": event.userid, "modulename": "", "instance": 0, "eventtype": event.eventtype,
        "timestart": event.timestart, "timeduration": event.timeduration,
        "visible": event.visible, "uuid": "", "sequence": event.sequence,
        "timemodified": event.timemodified, "subscriptionid": None,
    }


def _by_id(event: CalendarEvent) -> dict[str, Any]:
    data = _stored(event)
    data.update(categoryid=0, repeatid=0)
    return _ordered(data)


def _legacy(event: CalendarEvent) -> dict[str, Any]:
    data = _stored(event)
    data.update(categoryid=None, groupid=event.groupid or None, repeatid=None,
                modulename=None, instance=None)
    del data["uuid"]
    return _ordered(data)


_ORDER = ("id", "name", "description", "format", "courseid", "categoryid", "groupid",
          "userid", "repeatid", "modulename", "instance", "eventtype", "timestart",
          "timeduration", "visible", "uuid", "sequence", "timemodified", "subscriptionid")


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in _ORDER if k in data}


def get_calendar_events(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_calendar_get_calendar_events`` with Moodle's quirks.

    ``eventids`` does not restrict the answer: the WS user's user events and the site
    events are added unless ``options[userevents]=0`` and ``options[siteevents]=0``.
    Course events of ``courseids`` are returned; group events only for ``groupids``.
    Events asked by id come whatever their time. A course (or a group's course) the WS user
    may not enter is no error: its events are left out with a ``nopermissions`` warning
    (Moodle appends a stack trace to the message; the sandbox does not).
    """
    site, options = ctx.site, params["options"]
    selectors, warnings = _accessible(ctx, params["events"])
    end = options["timeend"] or sys.maxsize
    legacy = [
        e for e in site.events.values()
        if options["timestart"] <= e.timestart <= end and (
            (options["userevents"] and e.eventtype == "user" and e.userid == ctx.userid)
            or (options["siteevents"] and e.eventtype == "site")
            or (e.eventtype == "course" and e.courseid in selectors["courseids"])
            or (e.eventtype == "group" and e.groupid in selectors["groupids"]))
    ]
    legacy.sort(key=lambda e: (e.timestart, e.id))
    answer = [_legacy(e) for e in legacy]
    listed = {e.id for e in legacy}
    for eventid in selectors["eventids"]:
        event = site.events.get(eventid)
        if event is not None and eventid not in listed:
            answer.append(_by_id(event))
            listed.add(eventid)
    return {"events": answer, "warnings": warnings}


def _accessible(ctx: Context, selectors: dict[str, Any]
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The selectors without the courses and groups the WS user may not enter, and the
    warnings Moodle answers for them (what a token without moodle/course:view gets)."""
    if ctx.can(COURSE_VIEW):
        return selectors, []
    groups = ctx.site.groups
    course_of = {"courseids": {cid: cid for cid in selectors["courseids"]},
                 "groupids": {gid: groups[gid].courseid for gid in selectors["groupids"]
                              if gid in groups}}
    kept, warnings = dict(selectors), []
    for key, courses in course_of.items():
        refused = [i for i in selectors[key] if courses.get(i) in ctx.site.courses]
        kept[key] = [i for i in selectors[key] if i not in refused]
        warnings += [{"item": key.removesuffix("ids"), "itemid": i,
                      "warningcode": "nopermissions",
                      "message": f"No access rights in course context {NOT_ACCESSIBLE}"}
                     for i in refused]
    return kept, warnings


def delete_calendar_events(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_calendar_delete_calendar_events``: answers null.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown or already deleted event (nothing
            is deleted then).
    """
    site = ctx.site
    with site.lock:
        for item in params["events"]:
            if item["eventid"] not in site.events:
                raise errors.missing_record("event")
        for item in params["events"]:
            site.events.pop(item["eventid"], None)
    return None
