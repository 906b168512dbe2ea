"""Handlers for the site and its users: site info, users by field, enrolled users."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .store import EDITING_TEACHER_ROLE, SEPARATEGROUPS, Course, Enrolment, User
from .views import (
    active_courses,
    full_user,
    picture_urls,
    profile_fields,
    role,
    user_head,
    visible_details,
)

RELEASE = "4.5dev+ (Build: 20240903)"
VERSION = "2024090300"
_ADVANCED = (
    ("usecomments", 1), ("usetags", 1), ("enablenotes", 1), ("messaging", 1),
    ("enableblogs", 1), ("enablecompletion", 1), ("enablebadges", 1),
    ("messagingallusers", 0), ("enablecustomreports", 1), ("enableglobalsearch", 0),
    ("mnet_dispatcher_mode", 0), ("enablecompetencies", 1),
)
_USER_FIELDS = ("id", "idnumber", "username", "email")
_ALWAYS = {"id", "fullname"}


def get_site_info(ctx: Context, params: dict[str, Any], versions: dict[str, str]) -> Any:
    """``core_webservice_get_site_info``: the token owner and the service's functions."""
    user = ctx.site.users[ctx.userid]
    return {
        "sitename": ctx.site.sitename, "username": user.username,
        "firstname": user.firstname, "lastname": user.lastname, "fullname": user.fullname,
        "lang": "en", "userid": user.id, "siteurl": ctx.siteurl,
        "userpictureurl": picture_urls(ctx)["profileimageurl"],
        "functions": [{"name": name, "version": versions[name]} for name in ctx.functions],
        "downloadfiles": 0, "uploadfiles": 0, "release": RELEASE, "version": VERSION,
        "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in _ADVANCED],
        "usercanmanageownfiles": True, "userquota": 104857600,
        "usermaxuploadfilesize": 67108864, "userhomepage": 1,
        "userprivateaccesskey": ctx.privatekey, "siteid": 1,
        "sitecalendartype": "gregorian", "usercalendartype": "gregorian",
        "userissiteadmin": False, "theme": "boost", "limitconcurrentlogins": 0,
        "policyagreed": 0,
    }


def get_users_by_field(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_user_get_users_by_field``: unknown values are silently left out.

    Raises:
        MoodleError: ``codingerror`` for a field other than id, idnumber, username, email.
    """
    field = params["field"]
    if field not in _USER_FIELDS:
        raise errors.coding_error("invalid field parameter")
    wanted = {str(v) for v in params["values"]}
    found = [  # user_get_user_details leaves out users whose profile the caller can't see
        u for u in ctx.site.users.values()
        if u.id > 1 and str(getattr(u, field)) in wanted and (field != "idnumber" or u.idnumber)
        and _may_see(ctx, u)
    ]
    return [full_user(ctx, u) for u in sorted(found, key=lambda u: u.id)]


def get_enrolled_users(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_enrol_get_enrolled_users`` with its options (the only paged Moodle call).

    Silent filters of Moodle 4.5 (enrol/externallib.php:876-910), no error, no warning:
    in a course in separate groups mode, without a ``groupid`` option, a role without
    ``moodle/site:accessallgroups`` sees only the members of its own groups, and nobody
    when its user is in no group (the WS user never is); a user whose details the role may
    not see (``user_get_user_details`` answers null) is dropped after the page was cut, so
    a page comes back shorter than ``limitnumber`` though more users follow; the fields
    kept are those of ``views.visible_details``.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown course, ``nopermissions`` for an
            option whose capability the role lacks (``withcapability``:
            ``moodle/role:review``, ``onlyactive``/``onlysuspended``:
            ``moodle/course:enrolreview``, ``groupid`` of a group the WS user is not in:
            ``moodle/site:accessallgroups``), like enrol/externallib.php.
    """
    site = ctx.site
    course = site.courses.get(params["courseid"])
    if course is None:
        raise errors.missing_record("course")
    options = {o["name"]: o["value"] for o in params["options"]}
    _require_options(ctx, options)
    enrolments = _filter(ctx, site.course_enrolments(params["courseid"]), options)
    enrolments = _group_visible(ctx, course, enrolments, options)
    users = _sort([site.users[e.userid] for e in enrolments], options)
    start = int(options.get("limitfrom", 0) or 0)
    limit = int(options.get("limitnumber", 0) or 0)
    users = users[start : start + limit] if limit else users[start:]
    fields = None
    if "userfields" in options:
        fields = {f.strip() for f in options["userfields"].split(",")}
    by_user = {e.userid: e for e in enrolments}
    answer = [_enrolled_user(ctx, course, u, by_user[u.id], fields) for u in users]
    return [data for data in answer if data is not None]


def _group_visible(ctx: Context, course: Course, enrolments: list[Enrolment],
                   options: dict[str, str]) -> list[Enrolment]:
    """enrol/externallib.php:876-888: separate groups without accessallgroups and without a
    ``groupid`` option keep the members of the caller's groups; none when it has none."""
    if (int(options.get("groupid") or 0) or course.groupmode != SEPARATEGROUPS
            or ctx.can("moodle/site:accessallgroups")):
        return enrolments
    mine = ctx.site.user_groups(course.id, ctx.userid)
    if not mine:
        return []  # "User doesn't belong to any group, so he can't see any user."
    return [e for e in enrolments if any(e.userid in g.members for g in mine)]


def _require_options(ctx: Context, options: dict[str, str]) -> None:
    if options.get("withcapability"):
        ctx.require("moodle/role:review")
    # enrol/externallib.php:862-864 with groups_is_member (lib/grouplib.php:571-581): a group
    # that does not exist is one the caller is not in, so it needs accessallgroups too.
    groupid = int(options.get("groupid") or 0)
    group = ctx.site.groups.get(groupid)
    if groupid and (group is None or ctx.userid not in group.members):
        ctx.require("moodle/site:accessallgroups")
    if any(options.get(o) not in (None, "", "0") for o in ("onlyactive", "onlysuspended")):
        ctx.require("moodle/course:enrolreview")


def _filter(ctx: Context, enrolments: list[Enrolment], options: dict[str, str]) -> list[Enrolment]:
    now = ctx.site.now()
    if options.get("onlyactive") in ("1", "true"):
        enrolments = [e for e in enrolments if e.is_active(now)]
    if options.get("onlysuspended") in ("1", "true"):
        enrolments = [e for e in enrolments if e.status == 1]
    if options.get("groupid"):
        group = ctx.site.groups.get(int(options["groupid"]))
        members = group.members if group else set()
        enrolments = [e for e in enrolments if e.userid in members]
    return enrolments


def _sort(users: list[User], options: dict[str, str]) -> list[User]:
    key = options.get("sortby", "id")
    reverse = options.get("sortdirection", "ASC").upper() == "DESC"
    if key == "lastname":
        return sorted(users, key=lambda u: (u.lastname, u.firstname, u.id), reverse=reverse)
    if key == "firstname":
        return sorted(users, key=lambda u: (u.firstname, u.lastname, u.id), reverse=reverse)
    return sorted(users, key=lambda u: u.id, reverse=reverse)


def _enrolled_user(
    ctx: Context, course: Course, user: User, enrolment: Enrolment, fields: set[str] | None
) -> dict[str, Any] | None:
    if not _may_see(ctx, user):
        return None
    data = user_head(ctx, user)
    data["lastcourseaccess"] = 0
    if user.city:
        data["city"] = user.city
    data["country"] = "RU"
    data.update(picture_urls(ctx))
    custom = profile_fields(user, display=False)
    if custom:
        data["customfields"] = custom
    groups = ctx.site.user_groups(enrolment.courseid, user.id)
    if groups and enrolment.status == 0:
        if (course.groupmode == SEPARATEGROUPS and user.id != ctx.userid
                and not ctx.can("moodle/site:accessallgroups")):
            # user/lib.php:553-558: only the groups shared with the caller (may be [])
            groups = [g for g in groups if ctx.userid in g.members]
        data["groups"] = [
            {"id": g.id, "name": g.name, "description": g.description, "descriptionformat": 0}
            for g in groups
        ]
    data["roles"] = [role(enrolment.roleid)]
    data["enrolledcourses"] = [
        {"id": c.id, "fullname": c.fullname, "shortname": c.shortname}
        for c in active_courses(ctx, user.id)
    ]
    data = visible_details(ctx, user, data, in_course=True)
    if fields is None:
        return data
    return {k: v for k, v in data.items() if k in fields or k in _ALWAYS}


def _may_see(ctx: Context, user: User) -> bool:
    """user/lib.php:367-370: without ``moodle/user:viewdetails`` only the caller itself and
    course contacts (``$CFG->coursecontact``: editing teachers) are returned."""
    return user.id == ctx.userid or ctx.can("moodle/user:viewdetails") or any(
        e.roleid == EDITING_TEACHER_ROLE for e in ctx.site.user_enrolments(user.id))
