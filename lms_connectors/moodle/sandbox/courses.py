"""Handlers for courses: courses by field, a user's courses, course completion status."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import VIEW_HIDDEN_COURSES, Context
from .store import Course
from .views import active_courses, course_image, course_progress

_FILTERS = ("displayh5p", "activitynames", "mathjaxloader", "emoticon", "urltolink",
            "mediaplugin")
_FIELDS = ("", "id", "ids", "shortname", "idnumber", "category", "sectionid")


def get_courses_by_field(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_course_get_courses_by_field``; field "" lists every course, the site too.

    A hidden course is silently left out for a role without
    ``moodle/course:viewhiddencourses`` (or ``moodle/course:update``): no error, no warning
    (course/externallib.php:3324-3330 of Moodle 4.5).

    Raises:
        MoodleError: ``invalidparameter`` for an unknown field.
    """
    field, value = params["field"], str(params["value"])
    if field not in _FIELDS:
        raise errors.invalid_parameter()
    courses = sorted(ctx.site.courses.values(), key=lambda c: c.id)
    if field in ("id", "ids"):
        ids = {v.strip() for v in value.split(",")}
        courses = [c for c in courses if str(c.id) in ids]
    elif field in ("shortname", "idnumber"):
        courses = [c for c in courses if getattr(c, field) == value]
    elif field == "category":
        courses = [c for c in courses if str(c.category) == value]
    elif field == "sectionid":
        courses = []
    found = [_course(ctx, c) for c in courses if c.visible or ctx.can(VIEW_HIDDEN_COURSES)
             or ctx.can("moodle/course:update")]
    if field == "":
        found.insert(0, _site_course(ctx))
    return {"courses": found, "warnings": []}


def _common(ctx: Context, course: Course | None = None) -> dict[str, Any]:
    return {
        "maxbytes": 0, "showreports": 0, "visible": 1 if course is None or course.visible else 0,
        "groupmode": course.groupmode if course else 0, "groupmodeforce": 0,
        "defaultgroupingid": 0,
    }


def _tail(enablecompletion: int) -> dict[str, Any]:
    return {
        "enablecompletion": enablecompletion, "completionnotify": 0, "lang": "", "theme": "",
        "marker": 0,
        "filters": [{"filter": f, "localstate": 0, "inheritedstate": 1} for f in _FILTERS],
    }


def _course(ctx: Context, course: Course) -> dict[str, Any]:
    site = ctx.site
    teacher = site.users[site.methodologist_id]
    data: dict[str, Any] = {
        "id": course.id, "fullname": course.fullname, "displayname": course.fullname,
        "shortname": course.shortname, "courseimage": course_image(ctx, course),
        "categoryid": course.category, "categoryname": site.categories[course.category].name,
        "sortorder": course.sortorder, "summary": course.summary, "summaryformat": 1,
        "summaryfiles": [], "overviewfiles": [], "showactivitydates": False,
        "showcompletionconditions": True,
        "contacts": [{"id": teacher.id, "fullname": teacher.fullname}],
        "enrollmentmethods": ["manual"], "format": "topics", "showgrades": 1, "newsitems": 0,
        "startdate": course.startdate, "enddate": course.enddate,
    }
    data.update(_common(ctx, course))
    data.update(_tail(1))
    data["courseformatoptions"] = [
        {"name": "hiddensections", "value": 1}, {"name": "coursedisplay", "value": 0},
        {"name": "indentation", "value": "1"},
    ]
    return data


def _site_course(ctx: Context) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": 1, "fullname": ctx.site.sitename, "displayname": ctx.site.sitename,
        "shortname": ctx.site.shortname,
        "courseimage": f"{ctx.siteurl}/pluginfile.php/2/course/generated/course.svg",
        "categoryid": 0, "categoryname": "", "sortorder": 1, "summary": "", "summaryformat": 0,
        "summaryfiles": [], "overviewfiles": [], "showactivitydates": False,
        "showcompletionconditions": None, "contacts": [], "enrollmentmethods": [],
        "format": "site", "showgrades": 1, "newsitems": 3, "startdate": 0, "enddate": 0,
    }
    data.update(_common(ctx))
    data.update(_tail(0))
    return data


def get_users_courses(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_enrol_get_users_courses``: suspended or not-yet-started enrolments are omitted."""
    site, now = ctx.site, ctx.site.now()
    answer = []
    for course in active_courses(ctx, params["userid"]):
        if not _may_list(ctx, course, params["userid"]):
            continue  # validate_context or view participants refused: left out, no error
        progress, completed = course_progress(ctx, course, params["userid"])
        data: dict[str, Any] = {"id": course.id, "shortname": course.shortname,
                                "fullname": course.fullname, "displayname": course.fullname}
        if params["returnusercount"]:
            data["enrolledusercount"] = sum(
                1 for e in site.course_enrolments(course.id) if e.is_active(now))
        data.update(
            idnumber=course.idnumber, visible=int(course.visible), summary=course.summary,
            summaryformat=1,
            format="topics", courseimage=course_image(ctx, course), showgrades=True, lang="",
            enablecompletion=True, completionhascriteria=course.has_criteria,
            completionusertracked=True, category=course.category, progress=progress,
            completed=completed, startdate=course.startdate, enddate=course.enddate, marker=0,
            lastaccess=None, isfavourite=False, hidden=not course.visible, overviewfiles=[],
            showactivitydates=False, showcompletionconditions=True,
            timemodified=course.timemodified,
        )
        answer.append(data)
    return answer


def _may_list(ctx: Context, course: Course, userid: int) -> bool:
    """enrol/externallib.php:339-350 of Moodle 4.5: a course whose context the WS user may not
    enter (a hidden one too) or whose participants it may not see is silently skipped."""
    if not ctx.can("moodle/course:view") or (
            not course.visible and not ctx.can(VIEW_HIDDEN_COURSES)):
        return False
    return userid == ctx.userid or ctx.can("moodle/course:viewparticipants") or ctx.can(
        "moodle/course:enrolreview")


def get_course_completion_status(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_completion_get_course_completion_status``: activity criteria of a PD course.

    Raises:
        MoodleError: ``invalidrecord`` (unknown course or user), ``nocriteriaset`` (the
            diagnostic course), ``usernotenroled``.
    """
    site = ctx.site
    course = site.courses.get(params["courseid"])
    if course is None:
        raise errors.missing_record("course")
    if params["userid"] not in site.users:
        raise errors.missing_record("user")
    if not course.has_criteria:
        raise errors.moodle_exception("nocriteriaset", "No completion criteria set for this course")
    if (params["userid"], course.id) not in site.enrolments:
        raise errors.moodle_exception("usernotenroled", "User is not enrolled in this course")
    done = site.completions.get((params["userid"], course.id), {})
    items = []
    for cmid, name in course.activities:
        when = done.get(cmid)
        items.append({
            "type": 4, "title": "Activity completion", "status": "Yes" if when else "No",
            "complete": when is not None, "timecompleted": when,
            "details": {
                "type": "Activity completion",
                "criteria": f'<a href="{ctx.siteurl}/mod/page/view.php?id={cmid}">{name}</a>',
                "requirement": "Marking yourself complete", "status": "",
            },
        })
    completed = len(done) == len(course.activities)
    return {"completionstatus": {"completed": completed, "aggregation": 1, "completions": items},
            "warnings": []}
