"""What the plugin role needs beyond Moodle's function descriptions, and what it withholds.

Data for ``role_build.py`` (which writes the generated lists) and ``functions.py`` (which
derives each function's needs from the generated ``role_capabilities.DECLARED``). Every
supplement names the Moodle source file that checks the capability.
"""

from __future__ import annotations

from collections.abc import Mapping

EVERY_CALL = "webservice/rest:use"  # webservice/lib.php: webservice_server::authenticate_user
COURSE_VIEW = ("moodle/course:view",
               "lib/moodlelib.php: require_login() lets a user who is not enrolled into a course "
               "only with it (is_viewing, lib/accesslib.php); external_api::validate_context "
               "calls require_login for a course or module context")

# Capabilities Moodle's code checks though the function's description omits them.
SUPPLEMENT: dict[str, tuple[tuple[str, str], ...]] = {
    "core_enrol_get_enrolled_users": (
        COURSE_VIEW,
        ("moodle/course:viewparticipants",
         "enrol/externallib.php: get_enrolled_users calls course_require_view_participants "
         "(course/lib.php)"),
        ("moodle/course:enrolreview",
         "enrol/externallib.php: get_enrolled_users requires it for the onlyactive and "
         "onlysuspended options (ProfRoute 1.1 read back with onlyactive; today's push reads "
         "every enrolment so a suspended one is seen), and course/lib.php "
         "course_can_view_participants accepts it in place of viewparticipants"),
        ("moodle/site:viewuseridentity",
         "user/lib.php: user_get_user_details returns the identity fields (idnumber, email) "
         "only with it"),
        ("moodle/site:viewfullnames", "user/lib.php: user_get_user_details (fullname)"),
        ("moodle/user:viewalldetails", "user/lib.php: user_can_view_profile"),
    ),
    "core_user_get_users_by_field": (
        ("moodle/site:viewuseridentity",
         "user/lib.php: user_get_user_details returns the identity fields only with it"),
        ("moodle/user:viewalldetails", "user/lib.php: user_can_view_profile"),
    ),
    "core_course_get_courses_by_field": (
        COURSE_VIEW,
        ("moodle/course:viewhiddencourses",
         "course/externallib.php: get_courses_by_field leaves hidden courses out without it"),
        ("moodle/category:viewhiddencategories",
         "course/classes/category.php: hidden categories (and their courses) need it"),
    ),
    "mod_quiz_get_quizzes_by_courses": (
        COURSE_VIEW,
        ("moodle/course:viewhiddenactivities",
         "course/lib.php / lib/modinfolib.php: cm_info::uservisible of hidden modules"),
        ("moodle/course:viewhiddensections",
         "lib/modinfolib.php: section_info::uservisible of hidden sections"),
    ),
    "mod_quiz_get_user_attempts": (
        COURSE_VIEW,
        ("mod/quiz:viewreports",
         "mod/quiz/classes/external.php: get_user_attempts of another user requires it"),
    ),
    "mod_quiz_get_attempt_review": (
        COURSE_VIEW,
        ("mod/quiz:viewreports",
         "mod/quiz/classes/quiz_attempt.php: check_review_capability for others' attempts"),
    ),
    "core_enrol_get_users_courses": (
        COURSE_VIEW,
        ("moodle/user:viewuseractivitiesreport",
         "lib/completionlib.php: completion_can_view_data for another user"),
    ),
    "core_completion_get_course_completion_status": (
        COURSE_VIEW,
        ("report/progress:view", "lib/completionlib.php: completion_can_view_data"),
    ),
    "core_competency_list_course_competencies": (COURSE_VIEW,),
    "gradereport_user_get_grade_items": (
        COURSE_VIEW,
        ("moodle/grade:viewall",
         "grade/report/user/classes/external/user.php: grades of other users require it"),
        ("moodle/grade:view", "grade/report/user/lib.php: grade_report_user access check"),
    ),
    "core_group_get_course_groups": (COURSE_VIEW,),
    "core_group_get_group_members": (COURSE_VIEW,),
    "core_group_create_groups": (COURSE_VIEW,),
    "core_group_add_group_members": (
        COURSE_VIEW,
        ("moodle/site:accessallgroups", "group/lib.php: groups of separate-groups courses"),
    ),
    "core_competency_list_user_plans": (
        ("moodle/competency:planview",
         "competency/classes/plan.php: can_read_user (plans of other users)"),
        ("moodle/competency:planviewdraft",
         "competency/classes/plan.php: can_read_user_draft (draft plans of other users)"),
    ),
    "core_competency_list_plan_competencies": (
        ("moodle/competency:planview", "competency/classes/plan.php: can_read_user"),
        ("moodle/competency:planviewdraft", "competency/classes/plan.php: can_read_user_draft"),
    ),
    "core_competency_create_plan": (
        ("moodle/competency:planmanagedraft",
         "competency/classes/plan.php: can_manage_user_draft (a plan in draft status)"),
    ),
    "core_competency_add_competency_to_plan": (
        ("moodle/competency:planmanagedraft",
         "competency/classes/plan.php: can_manage_user_draft (a plan in draft status)"),
    ),
    "core_competency_grade_competency": (
        ("moodle/competency:competencyview",
         "competency/classes/api.php: grade_competency reads the competency first (a real "
         "4.5 refuses it without, naming 'View competency frameworks')"),
    ),
    "enrol_manual_enrol_users": (
        COURSE_VIEW,
        ("moodle/role:assign",
         "enrol/manual/externallib.php: the role must be in get_assignable_roles "
         "(lib/accesslib.php), which needs it"),
    ),
    "enrol_manual_unenrol_users": (COURSE_VIEW,),
    "core_message_send_instant_messages": (
        ("moodle/site:messageanyuser",
         "message/classes/api.php: can_send_message to users who accept messages from "
         "contacts only"),
    ),
    "core_calendar_create_calendar_events": (COURSE_VIEW,),
    "core_calendar_get_calendar_events": (COURSE_VIEW,),
    "local_profroute_get_quiz_slots": (COURSE_VIEW,),
    "local_profroute_get_completions": (COURSE_VIEW,),
}

# Declared by Moodle but never granted: each would give the token more power than the
# reads need, and the function works without it (the recordings' role did not hold it).
WITHHELD: dict[str, str] = {
    "moodle/user:update": "user/lib.php: user_get_user_details only shows more profile fields "
                          "with it (auth, lang, timezone...); ProfRoute reads none of them, "
                          "and it would let the token's user edit every profile",
}


def needed(declared_caps: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Per function: declared less withheld, plus the supplement, in that order."""
    result = {}
    for name, caps in declared_caps.items():
        kept = [c for c in caps if c not in WITHHELD]
        kept += [c for c, _ in SUPPLEMENT.get(name, ()) if c not in kept]
        result[name] = tuple(kept)
    return result


def role(needed_caps: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Every capability any function needs, and the one every call needs, sorted."""
    return tuple(sorted({EVERY_CALL} | {c for caps in needed_caps.values() for c in caps}))
