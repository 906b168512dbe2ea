"""Registry of the Moodle functions the sandbox serves, with their recorded parameter specs."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from . import (
    calendar,
    cohorts,
    competency,
    courses,
    enrol,
    grades,
    groups,
    message,
    plans,
    profroute_plugin,
    quiz,
    users,
)
from .context import Context

Handler = Callable[[Context, dict[str, Any]], Any]

_SPEC = json.loads((Path(__file__).with_name("spec.json")).read_text(encoding="utf-8"))
_ALL_SPECS = {**_SPEC["functions"], **_SPEC["plugin"]}
PARAMETERS: dict[str, dict[str, Any]] = {
    name: info["parameters"] for name, info in _ALL_SPECS.items()
}
VERSIONS: dict[str, str] = {name: info["version"] for name, info in _ALL_SPECS.items()}
KNOWN_MOODLE_FUNCTIONS: frozenset[str] = frozenset(_SPEC["known"])

CORE_HANDLERS: dict[str, Handler] = {
    "core_webservice_get_site_info": partial(users.get_site_info, versions=VERSIONS),
    "core_user_get_users_by_field": users.get_users_by_field,
    "core_course_get_courses_by_field": courses.get_courses_by_field,
    "core_enrol_get_enrolled_users": users.get_enrolled_users,
    "core_enrol_get_users_courses": courses.get_users_courses,
    "enrol_manual_enrol_users": enrol.enrol_users,
    "enrol_manual_unenrol_users": enrol.unenrol_users,
    "core_completion_get_course_completion_status": courses.get_course_completion_status,
    "mod_quiz_get_quizzes_by_courses": quiz.get_quizzes_by_courses,
    "mod_quiz_get_user_attempts": quiz.get_user_attempts,
    "mod_quiz_get_attempt_review": quiz.get_attempt_review,
    "gradereport_user_get_grade_items": grades.get_grade_items,
    "core_competency_list_competency_frameworks": competency.list_competency_frameworks,
    "core_competency_list_competencies": competency.list_competencies,
    "core_competency_list_course_competencies": competency.list_course_competencies,
    "core_message_send_instant_messages": message.send_instant_messages,
    "core_cohort_search_cohorts": cohorts.search_cohorts,
    "core_cohort_get_cohort_members": cohorts.get_cohort_members,
    "core_cohort_create_cohorts": cohorts.create_cohorts,
    "core_cohort_add_cohort_members": cohorts.add_cohort_members,
    "core_group_get_course_groups": groups.get_course_groups,
    "core_group_create_groups": groups.create_groups,
    "core_group_add_group_members": groups.add_group_members,
    "core_group_get_group_members": groups.get_group_members,
    "core_calendar_get_calendar_events": calendar.get_calendar_events,
    "core_calendar_create_calendar_events": calendar.create_calendar_events,
    "core_calendar_delete_calendar_events": calendar.delete_calendar_events,
    "core_competency_list_user_plans": plans.list_user_plans,
    "core_competency_create_plan": plans.create_plan,
    "core_competency_list_plan_competencies": plans.list_plan_competencies,
    "core_competency_add_competency_to_plan": plans.add_competency_to_plan,
    "core_competency_grade_competency": plans.grade_competency,
}
PLUGIN_HANDLERS: dict[str, Handler] = {
    "local_profroute_get_quiz_slots": profroute_plugin.get_quiz_slots,
    "local_profroute_get_completions": profroute_plugin.get_completions,
    "local_profroute_get_user_competencies": profroute_plugin.get_user_competencies,
}
HANDLERS: dict[str, Handler] = {**CORE_HANDLERS, **PLUGIN_HANDLERS}
SERVED: tuple[str, ...] = tuple(HANDLERS)
SERVED_WITHOUT_PLUGIN: tuple[str, ...] = tuple(CORE_HANDLERS)
