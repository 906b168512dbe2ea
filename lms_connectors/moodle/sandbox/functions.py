"""Registry of the Moodle functions the sandbox serves, with their recorded parameter specs."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from . import competency, courses, enrol, grades, message, quiz, users
from .context import Context

Handler = Callable[[Context, dict[str, Any]], Any]

_SPEC = json.loads((Path(__file__).with_name("spec.json")).read_text(encoding="utf-8"))
PARAMETERS: dict[str, dict[str, Any]] = {
    name: info["parameters"] for name, info in _SPEC["functions"].items()
}
VERSIONS: dict[str, str] = {name: info["version"] for name, info in _SPEC["functions"].items()}
KNOWN_MOODLE_FUNCTIONS: frozenset[str] = frozenset(_SPEC["known"])

HANDLERS: dict[str, Handler] = {
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
}
SERVED: tuple[str, ...] = tuple(HANDLERS)
