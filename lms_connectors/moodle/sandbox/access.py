"""Capability checks Moodle makes before a function does anything, per function.

Each rule is what the function's Moodle code does first: ``validate_context`` of the
course(s) it touches (the WS user is enrolled nowhere, so ``moodle/course:view``), then
``require_capability``. Checks that depend on the parameters or on each row (options of
enrolled users, another user's attempts or grades, draft plans, hidden users, per-course
warnings) live in the handlers. Unknown ids are left to the handler, which answers them
like Moodle does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import errors
from .context import Context
from .store import Site

Locate = Callable[[Site, dict[str, Any]], Iterable[int]]


def _course(site: Site, params: dict[str, Any]) -> Iterable[int]:
    return [params["courseid"] if "courseid" in params else params["id"]]


def _rows(key: str) -> Locate:
    def locate(site: Site, params: dict[str, Any]) -> Iterable[int]:
        return [row["courseid"] for row in params[key] if row.get("courseid")]
    return locate


def _quiz(site: Site, params: dict[str, Any]) -> Iterable[int]:
    quiz = site.quizzes.get(params["quizid"])
    return [quiz.course] if quiz else []


def _attempt(site: Site, params: dict[str, Any]) -> Iterable[int]:
    attempt = site.attempts.get(params["attemptid"])
    quiz = site.quizzes.get(attempt.quiz) if attempt else None
    return [quiz.course] if quiz else []


def _groups(site: Site, ids: Iterable[int]) -> Iterable[int]:
    return [site.groups[g].courseid for g in ids if g in site.groups]


def _group_ids(site: Site, params: dict[str, Any]) -> Iterable[int]:
    return _groups(site, params["groupids"])


def _member_groups(site: Site, params: dict[str, Any]) -> Iterable[int]:
    return _groups(site, (m["groupid"] for m in params["members"]))


@dataclass(frozen=True)
class Rule:
    """What one function checks first.

    Attributes:
        courses: Finds the courses whose context the function validates.
        wrapped: The function answers a refused course as ``errorcoursecontextnotvalid``.
        requires: Capabilities required in turn; a pair ``(capability, also)`` is
            ``has_any_capability`` of both, refused naming the first.
    """

    courses: Locate | None = None
    wrapped: bool = False
    requires: tuple[str | tuple[str, tuple[str, ...]], ...] = ()


COHORT_VIEW = ("moodle/cohort:view", ("moodle/cohort:manage",))
# course_can_view_participants (course/lib.php): either capability lets the caller list them.
PARTICIPANTS = ("moodle/course:viewparticipants", ("moodle/course:enrolreview",))
# plan::can_read_user (competency/classes/plan.php): managing plans lets the caller read them.
PLAN_READ = ("moodle/competency:planview", ("moodle/competency:planmanage",
                                            "moodle/competency:planviewdraft",
                                            "moodle/competency:planmanagedraft"))
RULES: dict[str, Rule] = {
    "core_enrol_get_enrolled_users": Rule(_course, True, (PARTICIPANTS,)),
    "enrol_manual_enrol_users": Rule(_rows("enrolments"), requires=("enrol/manual:enrol",)),
    "enrol_manual_unenrol_users": Rule(_rows("enrolments"), requires=("enrol/manual:unenrol",)),
    "core_completion_get_course_completion_status": Rule(_course),
    "mod_quiz_get_user_attempts": Rule(_quiz),
    "mod_quiz_get_attempt_review": Rule(_attempt),
    "gradereport_user_get_grade_items": Rule(_course, requires=("gradereport/user:view",)),
    "core_competency_list_competency_frameworks": Rule(
        requires=("moodle/competency:competencyview",)),
    "core_competency_list_competencies": Rule(requires=("moodle/competency:competencyview",)),
    "core_competency_list_course_competencies": Rule(
        _course, requires=("moodle/competency:coursecompetencyview",)),
    "core_message_send_instant_messages": Rule(requires=("moodle/site:sendmessage",)),
    "core_cohort_search_cohorts": Rule(requires=(COHORT_VIEW,)),
    "core_cohort_get_cohort_members": Rule(requires=(COHORT_VIEW,)),
    "core_cohort_create_cohorts": Rule(requires=("moodle/cohort:manage",)),
    "core_cohort_add_cohort_members": Rule(
        requires=(("moodle/cohort:assign", ("moodle/cohort:manage",)),)),
    "core_group_get_course_groups": Rule(_course, True, ("moodle/course:managegroups",)),
    "core_group_create_groups": Rule(_rows("groups"), True, ("moodle/course:managegroups",)),
    "core_group_add_group_members": Rule(_member_groups,
                                         requires=("moodle/course:managegroups",)),
    "core_group_get_group_members": Rule(_group_ids, True, ("moodle/course:managegroups",)),
    "core_competency_list_user_plans": Rule(requires=(PLAN_READ,)),
    "core_competency_list_plan_competencies": Rule(requires=(PLAN_READ,)),
    "core_competency_grade_competency": Rule(requires=("moodle/competency:competencygrade",
                                                       "moodle/competency:competencyview")),
    "local_profroute_get_quiz_slots": Rule(
        _quiz, requires=("mod/quiz:viewreports", "moodle/question:viewall")),
    "local_profroute_get_user_competencies": Rule(
        requires=("moodle/competency:usercompetencyview",)),
}


def check(function: str, ctx: Context, params: dict[str, Any]) -> None:
    """Refuse the call like Moodle when the token's role lacks what ``function`` checks first.

    Raises:
        MoodleError: ``requireloginerror``, ``errorcoursecontextnotvalid`` or
            ``nopermissions``.
    """
    rule = RULES.get(function)
    if rule is None:
        return
    if rule.courses is not None:
        for courseid in dict.fromkeys(rule.courses(ctx.site, params)):
            ctx.enter_course(courseid, wrapped=rule.wrapped)
            if rule.courses in (_quiz, _attempt) and not ctx.can("mod/quiz:view"):
                raise errors.require_login()  # the quiz is not visible: require_login fails
    for required in rule.requires:
        capability, also = (required, ()) if isinstance(required, str) else required
        ctx.require(capability, also=also)
