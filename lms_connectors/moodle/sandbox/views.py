"""Moodle's representations of users and courses, shared by several handlers."""

from __future__ import annotations

from typing import Any

from .context import Context
from .store import PROFILE_FIELDS, ROLE_SHORTNAMES, Course, User

_THEME = "/theme/image.php/boost/core/1795549036/u/"


def profile_fields(user: User, display: bool) -> list[dict[str, Any]]:
    """Custom fields with a value, in field order; ``display`` adds ``displayvalue``."""
    fields = []
    for shortname, (ftype, name) in PROFILE_FIELDS.items():
        value = user.profile.get(shortname)
        if not value:
            continue
        item: dict[str, Any] = {"type": ftype, "value": value}
        if display:
            item["displayvalue"] = value
        item.update(name=name, shortname=shortname)
        fields.append(item)
    return fields


def user_head(ctx: Context, user: User) -> dict[str, Any]:
    """The identity part common to user answers (Moodle omits empty institution/city)."""
    data: dict[str, Any] = {
        "id": user.id, "username": user.username, "firstname": user.firstname,
        "lastname": user.lastname, "fullname": user.fullname, "email": user.email,
        "department": user.department,
    }
    if user.institution:
        data["institution"] = user.institution
    data.update(idnumber=user.idnumber, firstaccess=0, lastaccess=0)
    return data


# The recorded site's ``showuseridentity`` (recordings README): shown to a role with
# ``moodle/site:viewuseridentity`` (user/classes/fields.php:362-368 of Moodle 4.5).
SHOW_USER_IDENTITY = frozenset({"email", "idnumber"})
# user/lib.php:596-602: only with ``moodle/user:viewalldetails`` (or about oneself).
_ALL_DETAILS = frozenset({"username", "institution", "department", "auth", "confirmed", "lang",
                          "theme", "mailformat", "trackforums"})


def visible_details(ctx: Context, user: User, data: dict[str, Any], *,
                    in_course: bool) -> dict[str, Any]:
    """Drop what ``user_get_user_details`` (user/lib.php:306-614 of Moodle 4.5) withholds
    from the caller's role, silently: ``username``, ``institution``, ``department`` and the
    account fields without ``moodle/user:viewalldetails`` (375-378, 521-534, 596-602);
    ``firstname``/``lastname`` without ``moodle/site:viewfullnames`` (380-387); ``email``
    unless an identity field the role may see or, in a course, ``moodle/course:useremail``
    (495-505: the users' ``maildisplay`` is Moodle's default "course members only" and the WS
    user shares no course); ``idnumber`` unless an identity field or viewalldetails
    (515-519). Custom fields are kept: the site's fields are visible to everyone.
    """
    if user.id == ctx.userid:
        return data
    identity = SHOW_USER_IDENTITY if ctx.can("moodle/site:viewuseridentity") else frozenset()
    alldetails = ctx.can("moodle/user:viewalldetails")
    hidden: set[str] = set() if alldetails else set(_ALL_DETAILS)
    if not ctx.can("moodle/site:viewfullnames"):
        hidden |= {"firstname", "lastname"}
    if "email" not in identity and not (in_course and ctx.can("moodle/course:useremail")):
        hidden.add("email")
    if "idnumber" not in identity and not alldetails:
        hidden.add("idnumber")
    return {k: v for k, v in data.items() if k not in hidden}


def picture_urls(ctx: Context) -> dict[str, str]:
    """Default user picture URLs."""
    return {
        "profileimageurlsmall": f"{ctx.siteurl}{_THEME}f2",
        "profileimageurl": f"{ctx.siteurl}{_THEME}f1",
    }


def full_user(ctx: Context, user: User) -> dict[str, Any]:
    """A user as ``core_user_get_users_by_field`` returns it."""
    data = user_head(ctx, user)
    data.update(auth=user.auth, suspended=False, confirmed=True, lang="en", theme="",
                timezone="99", mailformat=1, trackforums=0)
    if user.city:
        data["city"] = user.city
    data["country"] = "RU"
    data.update(picture_urls(ctx))
    fields = profile_fields(user, display=True)
    if fields:
        data["customfields"] = fields
    return visible_details(ctx, user, data, in_course=False)


def role(roleid: int) -> dict[str, Any]:
    """A role as listed in ``roles[]``."""
    return {"roleid": roleid, "name": "", "shortname": ROLE_SHORTNAMES[roleid], "sortorder": 0}


def course_image(ctx: Context, course: Course) -> str:
    """The generated course image URL."""
    return f"{ctx.siteurl}/pluginfile.php/{course.context_id}/course/generated/course.svg"


def active_courses(ctx: Context, userid: int) -> list[Course]:
    """Courses where the user's enrolment is active, in the site's course order."""
    now = ctx.site.now()
    return [
        ctx.site.courses[e.courseid]
        for e in ctx.site.user_enrolments(userid)
        if e.is_active(now)
    ]


def course_progress(ctx: Context, course: Course, userid: int) -> tuple[int | float, bool]:
    """Completion progress in percent and whether the course is completed."""
    site = ctx.site
    if not course.activities:
        quizzes = [q for q in site.quizzes.values() if q.course == course.id]
        done = any(
            a.state == "finished" for q in quizzes for a in site.user_attempts(q.id, userid)
        )
        return (100 if done else 0), False
    completed = site.completions.get((userid, course.id), {})
    share = 100 * len(completed) / len(course.activities)
    progress: int | float = int(share) if share.is_integer() else share
    return progress, len(completed) == len(course.activities)
