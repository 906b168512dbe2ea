"""Names of the Moodle web-service functions ProfRoute calls, split into reads and writes."""

from __future__ import annotations

SITE_INFO = "core_webservice_get_site_info"
ENROLLED_USERS = "core_enrol_get_enrolled_users"
USERS_BY_FIELD = "core_user_get_users_by_field"
COURSES_BY_FIELD = "core_course_get_courses_by_field"
QUIZZES_BY_COURSES = "mod_quiz_get_quizzes_by_courses"
USER_ATTEMPTS = "mod_quiz_get_user_attempts"
ATTEMPT_REVIEW = "mod_quiz_get_attempt_review"
USERS_COURSES = "core_enrol_get_users_courses"
COURSE_COMPETENCIES = "core_competency_list_course_competencies"
COMPETENCY_FRAMEWORKS = "core_competency_list_competency_frameworks"
COMPETENCIES = "core_competency_list_competencies"
GRADE_ITEMS = "gradereport_user_get_grade_items"

ENROL = "enrol_manual_enrol_users"
UNENROL = "enrol_manual_unenrol_users"
SEND_MESSAGES = "core_message_send_instant_messages"

# Reads are safe to repeat: only these are retried after a transient failure.
READ_FUNCTIONS: frozenset[str] = frozenset(
    {
        SITE_INFO,
        ENROLLED_USERS,
        USERS_BY_FIELD,
        COURSES_BY_FIELD,
        QUIZZES_BY_COURSES,
        USER_ATTEMPTS,
        ATTEMPT_REVIEW,
        USERS_COURSES,
        COURSE_COMPETENCIES,
        COMPETENCY_FRAMEWORKS,
        COMPETENCIES,
        GRADE_ITEMS,
    }
)

# Writes change Moodle: never retried (a lost answer may hide a done write).
WRITE_FUNCTIONS: frozenset[str] = frozenset({ENROL, UNENROL, SEND_MESSAGES})

# What the ProfRoute external service must contain; the setup check compares it with site info.
REQUIRED_FUNCTIONS: frozenset[str] = READ_FUNCTIONS | WRITE_FUNCTIONS
