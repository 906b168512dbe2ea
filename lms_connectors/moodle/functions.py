"""Names of the Moodle web-service functions ProfRoute calls, and the capabilities they need."""

from __future__ import annotations

SITE_INFO = "core_webservice_get_site_info"
ENROLLED_USERS = "core_enrol_get_enrolled_users"
USERS_BY_FIELD = "core_user_get_users_by_field"
COURSES_BY_FIELD = "core_course_get_courses_by_field"
QUIZZES_BY_COURSES = "mod_quiz_get_quizzes_by_courses"
USER_ATTEMPTS = "mod_quiz_get_user_attempts"
ATTEMPT_REVIEW = "mod_quiz_get_attempt_review"
USERS_COURSES = "core_enrol_get_users_courses"
COURSE_COMPLETION = "core_completion_get_course_completion_status"
COURSE_COMPETENCIES = "core_competency_list_course_competencies"
COMPETENCY_FRAMEWORKS = "core_competency_list_competency_frameworks"
COMPETENCIES = "core_competency_list_competencies"
GRADE_ITEMS = "gradereport_user_get_grade_items"
SEARCH_COHORTS = "core_cohort_search_cohorts"
COHORT_MEMBERS = "core_cohort_get_cohort_members"
COURSE_GROUPS = "core_group_get_course_groups"
GROUP_MEMBERS = "core_group_get_group_members"
CALENDAR_EVENTS = "core_calendar_get_calendar_events"
USER_PLANS = "core_competency_list_user_plans"
PLAN_COMPETENCIES = "core_competency_list_plan_competencies"

ENROL = "enrol_manual_enrol_users"
UNENROL = "enrol_manual_unenrol_users"
SEND_MESSAGES = "core_message_send_instant_messages"
CREATE_COHORTS = "core_cohort_create_cohorts"
ADD_COHORT_MEMBERS = "core_cohort_add_cohort_members"
CREATE_GROUPS = "core_group_create_groups"
ADD_GROUP_MEMBERS = "core_group_add_group_members"
CREATE_EVENTS = "core_calendar_create_calendar_events"
CREATE_PLAN = "core_competency_create_plan"
ADD_PLAN_COMPETENCY = "core_competency_add_competency_to_plan"
GRADE_COMPETENCY = "core_competency_grade_competency"

# Added by the ProfRoute Moodle plugin (local_profroute); optional: ProfRoute works without it.
PLUGIN_QUIZ_SLOTS = "local_profroute_get_quiz_slots"
PLUGIN_COMPLETIONS = "local_profroute_get_completions"
PLUGIN_USER_COMPETENCIES = "local_profroute_get_user_competencies"

# Reads are safe to repeat: only these are retried after a transient failure.
READ_FUNCTIONS: frozenset[str] = frozenset({
    SITE_INFO, ENROLLED_USERS, USERS_BY_FIELD, COURSES_BY_FIELD, QUIZZES_BY_COURSES,
    USER_ATTEMPTS, ATTEMPT_REVIEW, USERS_COURSES, COURSE_COMPLETION, COURSE_COMPETENCIES,
    COMPETENCY_FRAMEWORKS, COMPETENCIES, GRADE_ITEMS, SEARCH_COHORTS, COHORT_MEMBERS,
    COURSE_GROUPS, GROUP_MEMBERS, CALENDAR_EVENTS, USER_PLANS, PLAN_COMPETENCIES,
    PLUGIN_QUIZ_SLOTS, PLUGIN_COMPLETIONS, PLUGIN_USER_COMPETENCIES,
})

# Writes change Moodle: never retried (a lost answer may hide a done write).
WRITE_FUNCTIONS: frozenset[str] = frozenset({
    ENROL, UNENROL, SEND_MESSAGES, CREATE_COHORTS, ADD_COHORT_MEMBERS, CREATE_GROUPS,
    ADD_GROUP_MEMBERS, CREATE_EVENTS, CREATE_PLAN, ADD_PLAN_COMPETENCY, GRADE_COMPETENCY,
})

PLUGIN_FUNCTIONS: frozenset[str] = frozenset({
    PLUGIN_QUIZ_SLOTS, PLUGIN_COMPLETIONS, PLUGIN_USER_COMPETENCIES})

# The spine: without these ProfRoute cannot pull a diagnostic or push an enrolment.
CORE_FUNCTIONS: frozenset[str] = frozenset({
    SITE_INFO, ENROLLED_USERS, COURSES_BY_FIELD, QUIZZES_BY_COURSES, USER_ATTEMPTS,
    ATTEMPT_REVIEW, USERS_COURSES, COURSE_COMPETENCIES, GRADE_ITEMS, ENROL, SEND_MESSAGES,
})

# Everything the ProfRoute external service holds (the plugin's db/services.php lists exactly
# these); the setup check compares the Moodle core part with site info.
SERVICE_FUNCTIONS: frozenset[str] = READ_FUNCTIONS | WRITE_FUNCTIONS
REQUIRED_FUNCTIONS: frozenset[str] = SERVICE_FUNCTIONS - PLUGIN_FUNCTIONS

# Capabilities the "ProfRoute integration" role needs (system context), per function, as
# observed on Moodle 4.5 (../shared/moodle-recordings/4.5/README.md) and declared in
# functions.json. ``webservice/rest:use`` is needed for every call.
CAPABILITIES: dict[str, tuple[str, ...]] = {
    SITE_INFO: (),
    ENROLLED_USERS: ("moodle/course:viewparticipants", "moodle/user:viewdetails",
                     "moodle/user:viewhiddendetails", "moodle/site:accessallgroups",
                     "moodle/site:viewuseridentity", "moodle/site:viewfullnames",
                     "moodle/user:viewalldetails"),
    USERS_BY_FIELD: ("moodle/user:viewdetails", "moodle/user:viewhiddendetails"),
    COURSES_BY_FIELD: ("moodle/course:view", "moodle/course:viewhiddencourses",
                       "moodle/category:viewhiddencategories"),
    QUIZZES_BY_COURSES: ("mod/quiz:view", "moodle/course:viewhiddenactivities",
                         "moodle/course:viewhiddensections"),
    USER_ATTEMPTS: ("mod/quiz:view", "mod/quiz:viewreports"),
    ATTEMPT_REVIEW: ("mod/quiz:viewreports", "mod/quiz:reviewmyattempts"),
    USERS_COURSES: ("moodle/course:viewparticipants", "moodle/user:viewuseractivitiesreport"),
    COURSE_COMPLETION: ("report/completion:view", "report/progress:view"),
    COURSE_COMPETENCIES: ("moodle/competency:coursecompetencyview",),
    COMPETENCY_FRAMEWORKS: ("moodle/competency:competencyview",),
    COMPETENCIES: ("moodle/competency:competencyview",),
    GRADE_ITEMS: ("gradereport/user:view", "moodle/grade:viewall", "moodle/grade:view"),
    SEARCH_COHORTS: ("moodle/cohort:view",),
    COHORT_MEMBERS: ("moodle/cohort:view",),
    COURSE_GROUPS: ("moodle/course:managegroups",),
    GROUP_MEMBERS: ("moodle/course:managegroups",),
    CALENDAR_EVENTS: ("moodle/calendar:manageentries",),
    USER_PLANS: ("moodle/competency:planview", "moodle/competency:planviewdraft"),
    PLAN_COMPETENCIES: ("moodle/competency:planview", "moodle/competency:planviewdraft"),
    ENROL: ("enrol/manual:enrol", "moodle/role:assign"),
    UNENROL: ("enrol/manual:unenrol",),
    SEND_MESSAGES: ("moodle/site:sendmessage", "moodle/site:messageanyuser"),
    CREATE_COHORTS: ("moodle/cohort:manage",),
    ADD_COHORT_MEMBERS: ("moodle/cohort:assign",),
    CREATE_GROUPS: ("moodle/course:managegroups",),
    ADD_GROUP_MEMBERS: ("moodle/course:managegroups", "moodle/site:accessallgroups"),
    CREATE_EVENTS: ("moodle/calendar:manageentries",),
    CREATE_PLAN: ("moodle/competency:planmanage", "moodle/competency:planmanagedraft"),
    ADD_PLAN_COMPETENCY: ("moodle/competency:planmanage",
                          "moodle/competency:planmanagedraft"),
    GRADE_COMPETENCY: ("moodle/competency:competencygrade",
                       "moodle/competency:usercompetencyview"),
    PLUGIN_QUIZ_SLOTS: ("mod/quiz:viewreports", "moodle/question:viewall"),
    PLUGIN_COMPLETIONS: ("report/completion:view",),
    PLUGIN_USER_COMPETENCIES: ("moodle/competency:usercompetencyview",),
}

ROLE_CAPABILITIES: tuple[str, ...] = tuple(sorted(
    {"webservice/rest:use"} | {cap for caps in CAPABILITIES.values() for cap in caps}))
