"""Handler for the user grade report: quiz and course grade items per user."""

from __future__ import annotations

from typing import Any

from . import errors
from .context import Context
from .store import STUDENT_ROLE, Attempt, Course, Quiz, User


def get_grade_items(ctx: Context, params: dict[str, Any]) -> Any:
    """``gradereport_user_get_grade_items``; userid 0 lists every student by name.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown course or user, ``nopermissiontoviewgrades``
            for other users' grades without ``moodle/grade:viewall``.
    """
    site = ctx.site
    course = site.courses.get(params["courseid"])
    if course is None:
        raise errors.missing_record("course")
    if params["userid"] != ctx.userid and not ctx.can("moodle/grade:viewall"):
        raise errors.moodle_exception("nopermissiontoviewgrades", "Cannot view grades.")
    if params["userid"]:
        if params["userid"] not in site.users:
            raise errors.missing_record("user")
        users = [site.users[params["userid"]]]
    else:
        users = [site.users[e.userid] for e in site.course_enrolments(course.id)
                 if e.roleid == STUDENT_ROLE]
        users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
    quizzes = [q for q in site.quizzes.values() if q.course == course.id]
    return {"usergrades": [_user_grades(ctx, course, quizzes, u) for u in users],
            "warnings": []}


def _best(ctx: Context, quiz: Quiz, userid: int) -> Attempt | None:
    finished = [a for a in ctx.site.user_attempts(quiz.id, userid) if a.state == "finished"]
    if not finished:
        return None
    if quiz.grademethod == 3:
        return finished[0]
    if quiz.grademethod == 4:
        return finished[-1]
    return max(finished, key=lambda a: (a.sumgrades or 0.0, -a.attempt))


def _user_grades(ctx: Context, course: Course, quizzes: list[Quiz], user: User) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    course_grade: float | None = None
    submitted: int | None = None
    graded: int | None = None
    for quiz in quizzes:
        best = _best(ctx, quiz, user.id)
        grade = None
        if best is not None:
            grade = round((best.sumgrades or 0.0) / quiz.sumgrades * quiz.grade, 5)
            # As quiz_get_user_grades(): datesubmitted = MAX(timefinish) of the user's
            # attempts, dategraded = quiz_grades.timemodified, renewed at every regrade.
            attempts = ctx.site.user_attempts(quiz.id, user.id)
            submitted = max(a.timefinish for a in attempts)
            graded = max(a.gradednotificationsenttime or a.timefinish for a in attempts
                         if a.state == "finished")
        head = {
            "id": 2, "itemname": quiz.name, "itemtype": "mod", "itemmodule": "quiz",
            "iteminstance": quiz.id, "itemnumber": 0, "idnumber": "", "categoryid": 1,
            "outcomeid": None, "scaleid": None, "locked": False, "cmid": quiz.cmid,
        }
        if grade is not None:
            head.update(weightraw=1, weightformatted="100.00 %")
        items.append(_values(head, grade, submitted, graded))
        course_grade = grade
    course_head = {
        "id": 1 if quizzes else 100 + course.id, "itemname": None, "itemtype": "course",
        "itemmodule": None, "iteminstance": course.id, "itemnumber": None, "idnumber": None,
        "categoryid": None, "outcomeid": None, "scaleid": None, "locked": False,
    }
    items.append(_values(course_head, course_grade, None, graded))
    return {
        "courseid": course.id, "courseidnumber": course.idnumber, "userid": user.id,
        "userfullname": user.fullname, "useridnumber": user.idnumber, "maxdepth": 2,
        "gradeitems": items,
    }


def _values(head: dict[str, Any], grade: float | None, submitted: int | None,
            graded: int | None) -> dict[str, Any]:
    shown = "-" if grade is None else f"{grade:.2f}"
    head.update(
        graderaw=grade, gradedatesubmitted=submitted if grade is not None else None,
        gradedategraded=graded if grade is not None else None, gradehiddenbydate=False,
        gradeneedsupdate=False, gradeishidden=False, gradeislocked=False,
        gradeisoverridden=False, gradeformatted=shown, grademin=0, grademax=100,
        rangeformatted="0&ndash;100",
        percentageformatted="-" if grade is None else f"{grade:.2f} %", feedback="",
        feedbackformat=0 if grade is None else 2,
    )
    return head
