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
    return data


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
