"""Handlers for course groups: list, create, add members, members."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .errors import MoodleError
from .store import Group


def _context_error(courseid: int) -> MoodleError:
    return errors.course_context_not_valid(courseid, "Invalid parameter value detected")


def group_data(group: Group, enrolmentkey: str | None) -> dict[str, Any]:
    """A group as the group functions return it."""
    return {
        "id": group.id, "courseid": group.courseid, "name": group.name,
        "description": group.description, "descriptionformat": 1,
        "enrolmentkey": enrolmentkey, "idnumber": group.idnumber, "visibility": 0,
        "participation": True,
    }


def get_course_groups(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_group_get_course_groups``, by name.

    Raises:
        MoodleError: ``errorcoursecontextnotvalid`` for an unknown course.
    """
    if params["courseid"] not in ctx.site.courses:
        raise _context_error(params["courseid"])
    groups = [g for g in ctx.site.groups.values() if g.courseid == params["courseid"]]
    return [group_data(g, None) for g in sorted(groups, key=lambda g: (g.name, g.id))]


def create_groups(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_group_create_groups``: all or nothing.

    Raises:
        MoodleError: ``errorcoursecontextnotvalid`` (unknown course), ``invalidparameter``
            (the name exists in the course), ``idnumbertaken`` (the idnumber does).
    """
    site = ctx.site
    with site.lock:
        pending: list[Group] = []
        for item in params["groups"]:
            if item["courseid"] not in site.courses:
                raise _context_error(item["courseid"])
            peers = [g for g in [*site.groups.values(), *pending]
                     if g.courseid == item["courseid"]]
            if any(g.name == item["name"] for g in peers):
                raise errors.invalid_parameter()
            idnumber = item.get("idnumber") or ""
            if idnumber and any(g.idnumber == idnumber for g in peers):
                raise errors.moodle_exception("idnumbertaken", "This ID number is already in use")
            pending.append(Group(max(site.groups, default=0) + 1 + len(pending),
                                 item["courseid"], item["name"], item["description"],
                                 idnumber=idnumber))
        for group in pending:
            site.groups[group.id] = group
    return [group_data(g, "") for g in pending]


def add_group_members(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_group_add_group_members``: existing members are accepted silently.

    Raises:
        MoodleError: ``invalidrecord`` (unknown group or user), ``invalidparameter`` (a
            user not enrolled in the group's course); nothing is added then.
    """
    site = ctx.site
    with site.lock:
        for item in params["members"]:
            group = site.groups.get(item["groupid"])
            if group is None:
                raise errors.missing_record("groups")
            if item["userid"] not in site.users:
                raise errors.missing_record("user")
            if (item["userid"], group.courseid) not in site.enrolments:
                raise errors.invalid_parameter()
        for item in params["members"]:
            site.groups[item["groupid"]].members.add(item["userid"])
    return None


def get_group_members(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_group_get_group_members``.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown group.
    """
    answer = []
    for groupid in params["groupids"]:
        group = ctx.site.groups.get(groupid)
        if group is None:
            raise errors.missing_record("groups")
        answer.append({"groupid": group.id, "userids": sorted(group.members)})
    return answer
