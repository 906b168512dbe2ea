"""Reads Moodle answers shorter, without an error, when the role lacks a capability: find
them before trusting such an answer.

Moodle 4.5's ``core_enrol_get_enrolled_users`` (enrol/externallib.php:876-888) lists, in a
course in separate groups mode, only the members of the caller's own groups unless the
caller holds ``moodle/site:accessallgroups`` in the course, and nobody at all when the
caller is in no group, as the ProfRoute web-service user never is. The answer is a normal
200 list: a push trusting it would take a full course for an empty one. Hidden courses
drop out of ``core_course_get_courses_by_field`` without ``moodle/course:viewhiddencourses``
(course/externallib.php:3324-3330), and users out of every user list without
``moodle/user:viewdetails`` (user/lib.php:367-370).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Teacher
from lms_connectors.exceptions import AccessDenied, FunctionNotInService
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)

ROLE_PAGE = "Site administration › Users › Permissions › Define roles › ProfRoute integration"
PLUGIN_UPGRADE = ("or install the newest ProfRoute plugin: its upgrade (Site administration › "
                  "Notifications) adds what its role lacks")
SEPARATEGROUPS = 1  # lib/grouplib.php:34
ACCESS_ALL_GROUPS = "moodle/site:accessallgroups"
VIEW_DETAILS = "moodle/user:viewdetails"
VIEW_HIDDEN_COURSES = "moodle/course:viewhiddencourses"
# A group id no Moodle site holds. ``groups_is_member`` is false for a group that does not
# exist (lib/grouplib.php:578-581), so asking for it makes Moodle require accessallgroups
# in the course (enrol/externallib.php:862-864) and answer [] when it is held: a probe
# that reads nobody and changes nothing.
_NO_GROUP = 2_147_483_647
_IDS_PER_CALL = 300  # keeps a call well under PHP's max_input_vars


@dataclass(frozen=True)
class Blind:
    """A read Moodle would answer short, silently: the capability missing and why."""

    capability: str
    reason: str


AddLine = Callable[[str, bool, str], bool]  # CheckReport.add of check-moodle


def group_modes(api: MoodleAPI, course_ids: list[int]) -> dict[int, int]:
    """The group mode of each course Moodle lets the WS user see (one call per 300 ids).

    A course Moodle left out (hidden, deleted) or answered with its public information only
    (not enterable: no ``groupmode``) is absent: its own read refuses or finds nothing.
    """
    modes: dict[int, int] = {}
    for start in range(0, len(course_ids), _IDS_PER_CALL):
        chunk = course_ids[start:start + _IDS_PER_CALL]
        body = api.client.call(fn.COURSES_BY_FIELD, {
            "field": "ids", "value": ",".join(str(c) for c in chunk)})
        for course in (body or {}).get("courses", []):
            if isinstance(course, dict) and "groupmode" in course:
                modes[int(course["id"])] = int(course["groupmode"] or 0)
    return modes


def sees_all_groups(api: MoodleAPI, course_id: int) -> bool:
    """Whether the WS user holds ``moodle/site:accessallgroups`` in the course.

    :raise AccessDenied: the course itself is refused (the caller's read fails the same).
    """
    try:
        api.client.call(fn.ENROLLED_USERS, {"courseid": course_id, "options": [
            {"name": "groupid", "value": _NO_GROUP},
            {"name": "userfields", "value": "id,fullname"},
            {"name": "limitnumber", "value": 1}]})
    except AccessDenied as err:
        if fn.missing_capability(fn.ENROLLED_USERS, err.errorcode, err.message) \
                == ACCESS_ALL_GROUPS:
            return False
        raise
    return True


def blind_courses(api: MoodleAPI, course_ids: list[int]) -> dict[int, Blind]:
    """The courses whose participants Moodle would list short for this role, and why.

    A course in separate groups mode without accessallgroups is blind: Moodle lists only
    the WS user's own groups there (nobody, as it is in none). A course Moodle refuses
    outright is not reported here: its read fails loudly.
    """
    blind: dict[int, Blind] = {}
    modes = group_modes(api, course_ids)
    for course_id in course_ids:
        if modes.get(course_id) != SEPARATEGROUPS:
            continue
        try:
            if sees_all_groups(api, course_id):
                continue
        except AccessDenied:
            continue  # refused outright: the read itself fails and says so
        logger.warning("course %s: separate groups without %s", course_id, ACCESS_ALL_GROUPS)
        blind[course_id] = Blind(ACCESS_ALL_GROUPS, (
            "курс в режиме изолированных групп (separate groups), а у роли ProfRoute нет "
            f"права {ACCESS_ALL_GROUPS}: Moodle вернёт только участников групп "
            "веб-сервисного пользователя, то есть никого"))
    return blind


def hidden_users(api: MoodleAPI, user_ids: list[int]) -> Blind | None:
    """Whether Moodle hides these users from the role (no ``moodle/user:viewdetails``).

    ``core_user_get_users_by_field`` leaves out, without an error, the users whose details
    the caller may not see (user/lib.php:367-370; recorded:
    error_limited_user_get_users_by_field.json). The capability is role-wide, so when not
    one of several known users comes back, none is visible; one user gone is one user
    deleted, which its own enrolment reports.
    """
    wanted = sorted(set(user_ids))
    if not wanted:
        return None
    found: set[int] = set()
    for start in range(0, len(wanted), _IDS_PER_CALL):
        chunk = wanted[start:start + _IDS_PER_CALL]
        body = api.client.call(fn.USERS_BY_FIELD, {"field": "id", "values": chunk})
        found.update(int(u["id"]) for u in body or [] if isinstance(u, dict) and "id" in u)
    if found or len(wanted) < 2:
        return None
    return Blind(VIEW_DETAILS, (
        f"Moodle не показывает ни одного из {len(wanted)} пользователей (нет права "
        f"{VIEW_DETAILS}): списки участников курсов придут без них"))


def check_blind(api: MoodleAPI, add: AddLine, courses: dict[str, int]) -> set[int]:
    """check-moodle: a failed line per course whose participants Moodle would list short
    without an error (separate groups, no accessallgroups); return those courses."""
    blind = blind_courses(api, sorted(set(courses.values())))
    for shortname, course_id in sorted(courses.items()):
        if course_id in blind:
            capability = blind[course_id].capability
            add(f"course {shortname}: participants", False, (
                f"{fn.ENROLLED_USERS} would answer short WITHOUT an error: the course is in "
                f"separate groups mode and the role lacks {capability}, so Moodle lists only "
                "the groups of the web-service user (none): the push holds this course and "
                f"the sync cannot see its teachers. Allow {capability} in the role "
                f"({ROLE_PAGE}), {PLUGIN_UPGRADE}; or set the course's group mode to "
                "«No groups» or «Visible groups» (Course › Settings › Groups)"))
    return set(blind)


def check_known_users(api: MoodleAPI, add: AddLine) -> None:
    """check-moodle: the active teachers ProfRoute knows, asked by id; none back means the
    role may not see users (no viewdetails), which empties every list without an error."""
    known = list(db.session.scalars(select(Teacher.moodle_user_id).where(
        Teacher.active.is_(True)).order_by(Teacher.moodle_user_id).limit(20)))
    try:
        hidden = hidden_users(api, known)
    except (AccessDenied, FunctionNotInService):
        return  # refused loudly: the functions line and the probes report it
    if hidden is not None:
        add("user details", False, (
            f"{fn.USERS_BY_FIELD} returned none of {len(known)} known teachers, WITHOUT an "
            f"error: the role lacks {hidden.capability}, so Moodle leaves users out of every "
            f"list (participants too). Allow {hidden.capability} in the role ({ROLE_PAGE}), "
            f"{PLUGIN_UPGRADE}"))
