#!/usr/bin/env python3
"""Call every function of the plugin's "ProfRoute" service with the plugin role's token.

Run against a kit Moodle (../shared/moodle-kit) after ``plugin_token.php``. Each function is
called once with parameters taken from the kit's data (ids of dataset_ids.json); the writes use
fresh names so that a refusal is never a duplicate. Prints one line per call: ``ok`` or the
errorcode and message Moodle answered. With ``--record DIR`` each answer is also written in the
recordings' format (the token is replaced by ``REDACTED_PROFROUTE_TOKEN``).

    PROFROUTE_KIT_TOKEN=... python3 tests/tools/moodle_kit/probe_role.py [--record DIR]
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[3].parent / "shared" / "moodle-kit"
sys.path.insert(0, os.environ.get("MOODLE_KIT_DIR", str(KIT)))
import wsrec  # noqa: E402  (the kit's stdlib REST client and recorder)

WEEK = 7 * 24 * 3600
_RUNS = itertools.count()


def calls() -> list[tuple[str, str, dict[str, object]]]:
    """(recording name, function, params) of every probe; names of new things are fresh each time.

    The kit's ids: course 3 pk-assess (groups 6-10), 4 pk-digital, 5 pk-inclusive, quiz 1,
    framework 1, competencies 1-6, cohort 1, users 3-22 teachers.
    """
    stamp = f"{time.strftime('%H%M%S')}-{next(_RUNS)}"
    now = int(time.time())
    return [
        ("core_webservice_get_site_info", "core_webservice_get_site_info", {}),
        ("core_enrol_get_enrolled_users", "core_enrol_get_enrolled_users", {"courseid": 3}),
        ("core_enrol_get_enrolled_users__onlyactive", "core_enrol_get_enrolled_users",
         {"courseid": 3, "options": [{"name": "userfields", "value": "id,username"},
                                     {"name": "onlyactive", "value": 1},
                                     {"name": "limitfrom", "value": 0},
                                     {"name": "limitnumber", "value": 200}]}),
        ("core_user_get_users_by_field", "core_user_get_users_by_field",
         {"field": "id", "values": [3, 4]}),
        ("core_course_get_courses_by_field", "core_course_get_courses_by_field",
         {"field": "category", "value": 3}),
        ("mod_quiz_get_quizzes_by_courses", "mod_quiz_get_quizzes_by_courses", {"courseids": [2]}),
        ("mod_quiz_get_user_attempts", "mod_quiz_get_user_attempts",
         {"quizid": 1, "userid": 4, "status": "all"}),
        ("mod_quiz_get_attempt_review", "mod_quiz_get_attempt_review", {"attemptid": 1}),
        ("core_enrol_get_users_courses", "core_enrol_get_users_courses", {"userid": 3}),
        ("core_completion_get_course_completion_status",
         "core_completion_get_course_completion_status", {"courseid": 3, "userid": 3}),
        ("core_competency_list_course_competencies", "core_competency_list_course_competencies",
         {"id": 3}),
        ("core_competency_list_competency_frameworks", "core_competency_list_competency_frameworks",
         {"sort": "shortname", "context": {"contextid": 1}, "includes": "children"}),
        ("core_competency_list_competencies", "core_competency_list_competencies",
         {"filters": [{"column": "competencyframeworkid", "value": 1}], "sort": "sortorder"}),
        ("gradereport_user_get_grade_items", "gradereport_user_get_grade_items",
         {"courseid": 2, "userid": 3}),
        ("core_cohort_search_cohorts", "core_cohort_search_cohorts",
         {"query": "", "context": {"contextid": 1}, "includes": "all", "limitfrom": 0,
          "limitnum": 25}),
        ("core_cohort_get_cohort_members", "core_cohort_get_cohort_members", {"cohortids": [1]}),
        ("core_group_get_course_groups", "core_group_get_course_groups", {"courseid": 3}),
        ("core_group_get_group_members", "core_group_get_group_members", {"groupids": [1]}),
        ("core_calendar_get_calendar_events", "core_calendar_get_calendar_events",
         {"events": {"courseids": [3]}, "options": {"userevents": 0, "siteevents": 0}}),
        ("local_profroute_get_quiz_slots", "local_profroute_get_quiz_slots", {"quizid": 1}),
        ("local_profroute_get_completions", "local_profroute_get_completions",
         {"courseids": [3, 4]}),
        ("local_profroute_get_user_competencies", "local_profroute_get_user_competencies",
         {"frameworkid": 1}),
        ("enrol_manual_enrol_users", "enrol_manual_enrol_users",
         {"enrolments": [{"roleid": 5, "userid": 21, "courseid": 5,
                          "timestart": now, "timeend": now + WEEK}]}),
        ("enrol_manual_unenrol_users", "enrol_manual_unenrol_users",
         {"enrolments": [{"userid": 21, "courseid": 5, "roleid": 5}]}),
        ("core_message_send_instant_messages", "core_message_send_instant_messages",
         {"messages": [{"touserid": 3, "text": "Проба прав роли ProfRoute", "textformat": 1,
                        "clientmsgid": f"probe-{stamp}"}]}),
        ("core_cohort_create_cohorts", "core_cohort_create_cohorts",
         {"cohorts": [{"categorytype": {"type": "system", "value": ""},
                       "name": f"Проба {stamp}", "idnumber": f"probe-{stamp}"}]}),
        ("core_cohort_add_cohort_members", "core_cohort_add_cohort_members",
         {"members": [{"cohorttype": {"type": "idnumber", "value": f"probe-{stamp}"},
                       "usertype": {"type": "id", "value": "3"}}]}),
        ("core_group_create_groups", "core_group_create_groups",
         {"groups": [{"courseid": 3, "name": f"Проба {stamp}", "description": "",
                      "idnumber": f"probe-{stamp}"}]}),
        ("core_group_add_group_members", "core_group_add_group_members",
         {"members": [{"groupid": 1, "userid": 3}]}),
        ("core_calendar_create_calendar_events", "core_calendar_create_calendar_events",
         {"events": [{"name": f"Проба {stamp}", "courseid": 3, "eventtype": "course",
                      "timestart": now + WEEK, "timeduration": 3600}]}),
        ("core_calendar_create_calendar_events__group", "core_calendar_create_calendar_events",
         {"events": [{"name": f"Проба группы {stamp}", "courseid": 3, "groupid": 6,
                      "eventtype": "group", "timestart": now + WEEK, "timeduration": 3600}]}),
        ("core_calendar_get_calendar_events__group", "core_calendar_get_calendar_events",
         {"events": {"groupids": [6]}, "options": {"userevents": 0, "siteevents": 0}}),
        ("enrol_manual_enrol_users__suspend", "enrol_manual_enrol_users",
         {"enrolments": [{"roleid": 5, "userid": 22, "courseid": 5, "suspend": 1}]}),
        ("core_competency_create_plan", "core_competency_create_plan",
         {"plan": {"name": f"Проба {stamp}", "userid": 5, "status": 0}}),
        ("core_competency_create_plan__active", "core_competency_create_plan",
         {"plan": {"name": f"Проба активного {stamp}", "userid": 6, "status": 1}}),
        ("core_competency_add_competency_to_plan", "core_competency_add_competency_to_plan",
         {"planid": 1, "competencyid": 6}),
        ("core_competency_grade_competency", "core_competency_grade_competency",
         {"userid": 8, "competencyid": 4, "grade": 2, "note": "Проба прав"}),
        # plan reads after the plan writes: on a fresh kit site plan 1 is the draft made above
        ("core_competency_list_user_plans", "core_competency_list_user_plans", {"userid": 5}),
        ("core_competency_list_user_plans__active", "core_competency_list_user_plans",
         {"userid": 6}),
        ("core_competency_list_plan_competencies", "core_competency_list_plan_competencies",
         {"id": 1}),
    ]


def main() -> int:
    """Call each function, print the outcome, optionally record it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="write each answer as a recording here")
    parser.add_argument("--only", nargs="*", help="only these recording names")
    args = parser.parse_args()
    token = os.environ["PROFROUTE_KIT_TOKEN"]
    refused = 0
    for name, function, params in calls():
        if args.only and name not in args.only:
            continue
        if args.record:
            args.record.mkdir(parents=True, exist_ok=True)
            resp = wsrec.record(str(args.record), name + "__profroute_role", function, params,
                                f"{function} with the token of a user holding only the "
                                "plugin's role 'profroute' (kit Moodle 4.5).", token,
                                redact_as="REDACTED_PROFROUTE_TOKEN")
        else:
            resp = wsrec.call(function, params, token)[2]
        if isinstance(resp, dict) and "exception" in resp:
            refused += 1
            print(f"ERR {name}: {resp.get('errorcode')} | {resp.get('message')}")
        else:
            print(f"ok  {name}: {json.dumps(resp, ensure_ascii=False)[:160]}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
