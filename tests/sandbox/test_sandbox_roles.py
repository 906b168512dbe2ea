"""The sandbox checks capabilities: the plugin's role runs everything, a role lacking one is
refused exactly like Moodle 4.5 refuses it (see /work/kit-findings.md, recorded on a real
Moodle with the plugin's role)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from sandbox.sandbox_support import TOKEN, Moodle, serving
from sqlalchemy import select
from support import AppRunner

from app.extensions import db
from app.models import RouteItem
from config import DEMO_DIR
from lms_connectors.moodle.functions import ROLE_CAPABILITIES
from lms_connectors.moodle.sandbox import PLUGIN_ROLE, create_app
from lms_connectors.moodle.sandbox.store_push import Plan

ENROLREVIEW = "moodle/course:enrolreview"
NO_ENROLREVIEW = {  # what Moodle 4.5 answered the 1.1.0 role (kit-findings.md, 22:14 UTC)
    "exception": "core\\exception\\required_capability_exception",
    "errorcode": "nopermissions",
    "message": "Sorry, but you do not currently have permissions to do that "
               "(Review course enrolments).",
}
ONLY_ACTIVE = {"options[0][name]": "onlyactive", "options[0][value]": "1"}


def test_the_main_token_holds_exactly_the_plugin_role() -> None:
    app = create_app(TOKEN)
    assert app.extensions["moodle_sandbox_tokens"][TOKEN].capabilities == set(ROLE_CAPABILITIES)
    assert PLUGIN_ROLE == frozenset(ROLE_CAPABILITIES)


def test_without_enrolreview_the_read_back_of_enrolments_is_refused_like_moodle() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {ENROLREVIEW})
    assert moodle.call("core_enrol_get_enrolled_users", courseid=3, **ONLY_ACTIVE) == NO_ENROLREVIEW
    plain = moodle.call("core_enrol_get_enrolled_users", courseid=3)
    assert isinstance(plain, list) and plain  # without onlyactive Moodle answers


def test_with_the_plugin_role_the_read_back_answers() -> None:
    answer = Moodle().call("core_enrol_get_enrolled_users", courseid=3, **ONLY_ACTIVE)
    assert isinstance(answer, list) and answer


def test_a_role_edited_while_running_is_honoured() -> None:
    moodle = Moodle()
    moodle.app.extensions["moodle_sandbox_tokens"][TOKEN].capabilities.discard(ENROLREVIEW)
    assert moodle.call("core_enrol_get_enrolled_users", courseid=3, **ONLY_ACTIVE) == NO_ENROLREVIEW


@pytest.mark.parametrize(("capability", "function", "fields", "named"), [
    ("moodle/course:viewparticipants moodle/course:enrolreview", "core_enrol_get_enrolled_users",
     {"courseid": 3}, "View participants"),
    ("moodle/course:managegroups", "core_group_get_course_groups", {"courseid": 3},
     "Manage groups"),
    ("moodle/cohort:view moodle/cohort:manage", "core_cohort_get_cohort_members", {"cohortids[0]": 1},
     "View site-wide cohorts"),
    ("moodle/competency:planview moodle/competency:planmanage moodle/competency:planviewdraft "
     "moodle/competency:planmanagedraft", "core_competency_list_user_plans", {"userid": 4},
     "View all learning plans"),
    ("moodle/competency:planmanagedraft", "core_competency_create_plan",
     {"plan[name]": "ИОМ", "plan[userid]": 4}, "Manage learning plans"),
    ("moodle/competency:planmanage", "core_competency_create_plan",
     {"plan[name]": "ИОМ", "plan[userid]": 4, "plan[status]": 1}, "Manage learning plans"),
    ("moodle/competency:competencyview", "core_competency_grade_competency",
     {"userid": 4, "competencyid": 1, "grade": 2}, "View competency frameworks"),
    ("mod/quiz:viewreports", "mod_quiz_get_user_attempts", {"quizid": 1, "userid": 4},
     "View quiz reports"),
    ("gradereport/user:view", "gradereport_user_get_grade_items", {"courseid": 2, "userid": 4},
     "View user report"),
    ("enrol/manual:enrol", "enrol_manual_enrol_users",
     {"enrolments[0][roleid]": 5, "enrolments[0][userid]": 4, "enrolments[0][courseid]": 3},
     "Enrol users"),
    ("moodle/site:sendmessage", "core_message_send_instant_messages",
     {"messages[0][touserid]": 4, "messages[0][text]": "x"}, "Send messages to any user"),
])
def test_each_function_refuses_the_capability_it_checks(capability: str, function: str,
                                                        fields: dict, named: str) -> None:
    allowed = Moodle().call(function, **fields)
    assert not (isinstance(allowed, dict) and "exception" in allowed), allowed
    refused = Moodle(capabilities=PLUGIN_ROLE - set(capability.split())).call(function, **fields)
    assert refused["errorcode"] == "nopermissions"
    assert refused["message"].endswith(f"({named}).")


def test_a_course_the_role_cannot_view_is_not_accessible() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"moodle/course:view"})
    answer = moodle.call("core_enrol_get_enrolled_users", courseid=3)
    assert answer["errorcode"] == "errorcoursecontextnotvalid"
    assert moodle.call("mod_quiz_get_user_attempts", quizid=1, userid=4)["errorcode"] == \
        "requireloginerror"


def test_calendar_events_the_role_may_not_add_are_warnings() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"moodle/calendar:manageentries"})
    answer = moodle.call("core_calendar_create_calendar_events", **{
        "events[0][name]": "Стажировка", "events[0][courseid]": 3,
        "events[0][eventtype]": "course", "events[0][timestart]": 1800000000})
    assert answer["events"] == []
    assert answer["warnings"] == [{"item": "Стажировка", "warningcode": "nopermissions",
                                   "message": "you do not have permissions to create this event"}]


def test_a_whole_sync_and_push_succeed_with_exactly_the_plugin_role(
        make_app: Callable[..., Flask], database_url: str) -> None:
    with serving(create_app(TOKEN, capabilities=ROLE_CAPABILITIES, teachers=60)) as url:
        app = make_app(database_url=database_url, moodle_url=url, moodle_token=TOKEN,
                       catalogue_dir=str(DEMO_DIR),
                       thresholds_file=str(DEMO_DIR / "thresholds.toml"))
        for stage in (("sync",), ("deficits",), ("recommend",), ("approve", "--all")):
            result = AppRunner(app).invoke(stage, catch_exceptions=False)
            assert result.exit_code == 0, result.output
        pushed = AppRunner(app).invoke(("push",), catch_exceptions=False)
        assert pushed.exit_code == 0, pushed.output
        summary = json.loads(pushed.output)
        assert summary["errors"] == [] and summary["enrolments_sent"] > 0
        db.session.expire_all()
        items = [i for i in db.session.scalars(select(RouteItem))
                 if i.offer.moodle_course_id is not None]
        assert items and all(i.status == "enrolled" for i in items)


def test_a_token_without_course_access_gets_calendar_warnings_not_events() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"moodle/course:view"})
    group = min(g.id for g in moodle.site.groups.values() if g.courseid == 3)
    answer = moodle.call("core_calendar_get_calendar_events", **{
        "events[courseids][0]": 3, "events[groupids][0]": group})
    assert answer["events"] == []
    assert [(w["item"], w["itemid"], w["warningcode"]) for w in answer["warnings"]] == [
        ("course", 3, "nopermissions"), ("group", group, "nopermissions")]
    assert answer["warnings"][0]["message"].startswith(
        "No access rights in course context Course or activity not accessible.")
    members = moodle.call("core_group_get_group_members", **{"groupids[0]": group})
    assert members["errorcode"] == "errorcoursecontextnotvalid"
    assert members["message"].endswith("Course or activity not accessible.")


def test_any_of_the_capabilities_moodle_accepts_is_enough() -> None:
    # Recorded on a real 4.5 (kit-findings.md, 22:23 UTC): each alone changes nothing.
    for removed, function, fields in (
            ({"moodle/course:viewparticipants"}, "core_enrol_get_enrolled_users", {"courseid": 3}),
            ({"moodle/cohort:view"}, "core_cohort_search_cohorts",
             {"query": "school", "includes": "all", "context[contextid]": 1}),
            ({"moodle/competency:planview", "moodle/competency:planviewdraft"},
             "core_competency_list_user_plans", {"userid": 4})):
        answer = Moodle(capabilities=PLUGIN_ROLE - removed).call(function, **fields)
        assert not (isinstance(answer, dict) and "exception" in answer), (removed, answer)


def test_refusals_with_their_own_errorcode_are_answered_like_moodle() -> None:
    grades = Moodle(capabilities=PLUGIN_ROLE - {"moodle/grade:viewall"}).call(
        "gradereport_user_get_grade_items", courseid=2, userid=4)
    assert (grades["errorcode"], grades["message"]) == ("nopermissiontoviewgrades",
                                                        "Cannot view grades.")
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"mod/quiz:viewreports"})
    attempt = min(a.id for a in moodle.site.attempts.values())
    review = moodle.call("mod_quiz_get_attempt_review", attemptid=attempt)
    assert (review["errorcode"], review["message"]) == (
        "noreviewattempt", "You are not allowed to review this attempt.")
    neither = Moodle(capabilities=PLUGIN_ROLE - {"mod/quiz:viewreports",
                                                 "mod/quiz:reviewmyattempts"})
    assert neither.call("mod_quiz_get_attempt_review", attemptid=attempt)["message"].endswith(
        "(Review your own attempts).")
    hidden = Moodle(capabilities=PLUGIN_ROLE - {"mod/quiz:view"})
    for function, fields in (("mod_quiz_get_user_attempts", {"quizid": 1, "userid": 4}),
                             ("local_profroute_get_quiz_slots", {"quizid": 1})):
        assert hidden.call(function, **fields)["errorcode"] == "requireloginerror"


def test_plans_the_role_may_not_read_vanish_from_lists_and_are_refused_by_id() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"moodle/competency:planview",
                                                "moodle/competency:planmanage"})
    draft = moodle.call("core_competency_create_plan", **{"plan[name]": "Черновик",
                                                          "plan[userid]": 4})
    assert draft["status"] == 0
    site = moodle.site  # an active plan someone else made (the role may not create it)
    plan = Plan(id=max(site.plans) + 1, userid=4, name="Активный", description="",
                descriptionformat=1, status=1, duedate=0, usermodified=site.ws_userid,
                timecreated=site.now())
    site.plans[plan.id] = plan
    listed = moodle.call("core_competency_list_user_plans", userid=4)
    assert [p["name"] for p in listed] == ["Черновик"]  # silently, as a real 4.5 answers
    refused = moodle.call("core_competency_list_plan_competencies", id=plan.id)
    assert refused["message"].endswith("(View all learning plans).")
