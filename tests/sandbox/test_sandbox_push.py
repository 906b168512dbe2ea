"""Push-side behaviour of the sandbox, as the recorded Moodle behaves (README "Push side")."""

from __future__ import annotations

import pytest
from sandbox.sandbox_support import Moodle, form

from lms_connectors.moodle.functions import PLUGIN_FUNCTIONS, REQUIRED_FUNCTIONS


@pytest.fixture()
def moodle() -> Moodle:
    return Moodle()


def _enrolled(moodle: Moodle, courseid: int = 3) -> list[int]:
    return sorted(u for (u, c), e in moodle.site.enrolments.items()
                  if c == courseid and e.roleid == 5)


def _outsider(moodle: Moodle, courseid: int = 3) -> int:
    return next(u for u in sorted(moodle.site.users) if u > 2
                and moodle.site.users[u].idnumber.startswith("T-")
                and (u, courseid) not in moodle.site.enrolments)


def _cohort(idnumber: str, name: str, **extra: str) -> dict[str, str]:
    return {"cohorts[0][categorytype][type]": extra.pop("type", "system"),
            "cohorts[0][categorytype][value]": extra.pop("value", ""),
            "cohorts[0][name]": name, "cohorts[0][idnumber]": idnumber, **extra}


def test_seed_has_one_cohort_per_school_with_its_teachers(moodle: Moodle) -> None:
    site = moodle.site
    assert len(site.cohorts) == 14
    for cohort in site.cohorts.values():
        code = cohort.idnumber.removeprefix("school-")
        assert {site.users[u].profile["schoolcode"] for u in cohort.members} <= {code}
    found = moodle.call("core_cohort_search_cohorts", query="school-16101",
                        includes="all", **{"context[contextid]": 1})
    assert [c["idnumber"] for c in found["cohorts"]] == ["school-16101"]


def test_create_cohort_twice_is_invalidparameter_and_unknown_category_too(moodle: Moodle) -> None:
    first = moodle.call("core_cohort_create_cohorts", **_cohort("mentors-2026", "Наставники"))
    again = moodle.call("core_cohort_create_cohorts", **_cohort("mentors-2026", "Повтор"))
    bad = moodle.call("core_cohort_create_cohorts",
                      **_cohort("x-2026", "x", type="idnumber", value="NO-SUCH-CAT"))
    in_cat = moodle.call("core_cohort_create_cohorts",
                         **_cohort("pk-2026", "ПК", type="idnumber", value="CAT-PK"))
    assert first[0]["id"] == 15 and in_cat[0]["id"] == 16
    assert again["errorcode"] == bad["errorcode"] == "invalidparameter"
    listed = moodle.call("core_cohort_search_cohorts", query="pk-2026", includes="self",
                         **{"context[contextid]": 1})
    assert listed["cohorts"] == []  # a category cohort needs includes=all


def test_add_cohort_members_answers_warnings_for_unknown_and_existing(moodle: Moodle) -> None:
    user = moodle.site.cohorts[1].members[0]
    rows = [{"cohorttype": ("id", 1), "usertype": ("id", user)},
            {"cohorttype": ("id", 1), "usertype": ("username", "no.such.user")},
            {"cohorttype": ("idnumber", "school-00000"), "usertype": ("id", user)},
            {"cohorttype": ("id", 2), "usertype": ("id", user)}]
    fields = {}
    for i, row in enumerate(rows):
        for part, (kind, value) in row.items():
            fields[f"members[{i}][{part}][type]"] = kind
            fields[f"members[{i}][{part}][value]"] = value
    answer = moodle.call("core_cohort_add_cohort_members", **fields)
    assert [w["warningcode"] for w in answer["warnings"]] == ["3", "2", "2"]
    assert answer["warnings"][1]["message"] == "user username=no.such.user not exists"
    assert user in moodle.site.cohorts[2].members


def test_create_groups_refuses_a_taken_name_or_idnumber(moodle: Moodle) -> None:
    group = {"courseid": 3, "name": "Наставники 2026", "description": "",
             "idnumber": "mentors"}
    created = moodle.call("core_group_create_groups", **form("groups", [group]))
    same_name = moodle.call("core_group_create_groups",
                            **form("groups", [{**group, "idnumber": "other"}]))
    same_id = moodle.call("core_group_create_groups",
                          **form("groups", [{**group, "name": "Другая"}]))
    other_course = moodle.call("core_group_create_groups", **form("groups", [{**group,
                                                                              "courseid": 4}]))
    assert created[0]["idnumber"] == "mentors" and created[0]["enrolmentkey"] == ""
    assert same_name["errorcode"] == "invalidparameter"
    assert same_id == {"exception": "core\\exception\\moodle_exception",
                       "errorcode": "idnumbertaken", "message": "This ID number is already in use"}
    assert other_course[0]["courseid"] == 4


def test_add_group_members_needs_enrolment_and_is_idempotent(moodle: Moodle) -> None:
    gid = moodle.call("core_group_create_groups", **form("groups", [
        {"courseid": 3, "name": "Н", "description": ""}]))[0]["id"]
    member, outsider = _enrolled(moodle)[0], _outsider(moodle)
    rows = [{"groupid": gid, "userid": member}]
    assert moodle.call("core_group_add_group_members", **form("members", rows)) is None
    assert moodle.call("core_group_add_group_members", **form("members", rows)) is None
    mixed = rows + [{"groupid": gid, "userid": outsider}]
    assert moodle.call("core_group_add_group_members",
                       **form("members", mixed))["errorcode"] == "invalidparameter"
    members = moodle.call("core_group_get_group_members", **{"groupids[0]": gid})
    assert members == [{"groupid": gid, "userids": [member]}]
    unknown = moodle.call("core_group_get_group_members", **{"groupids[0]": 99999})
    assert unknown["errorcode"] == "invalidrecord"


def _event(**extra: object) -> dict[str, object]:
    return form("events", [{"name": "Вебинар", "courseid": 3, "eventtype": "course",
                            "timestart": 1796904000, "timeduration": 5400, **extra}])


def test_calendar_create_is_not_idempotent_and_owned_by_the_ws_user(moodle: Moodle) -> None:
    first = moodle.call("core_calendar_create_calendar_events", **_event())["events"][0]
    second = moodle.call("core_calendar_create_calendar_events", **_event())["events"][0]
    assert (first["id"], second["id"]) == (1, 2)
    assert first["userid"] == second["userid"] == moodle.site.ws_userid
    unknown = moodle.call("core_calendar_create_calendar_events", **_event(courseid=99999))
    assert unknown["errorcode"] == "invalidrecord" and len(moodle.site.events) == 2


def test_get_calendar_events_eventids_quirk_and_group_events(moodle: Moodle) -> None:
    moodle.call("core_calendar_create_calendar_events", **_event())
    group = min(g.id for g in moodle.site.groups.values() if g.courseid == 3)
    moodle.call("core_calendar_create_calendar_events", **_event(eventtype="group", groupid=group))
    moodle.call("core_calendar_create_calendar_events", **_event(eventtype="user", courseid=0))
    moodle.call("core_calendar_create_calendar_events", **_event(eventtype="site", courseid=0))
    by_id = moodle.call("core_calendar_get_calendar_events", **{"events[eventids][0]": 1})
    assert sorted(e["id"] for e in by_id["events"]) == [1, 3, 4]  # user and site added
    off = {"options[userevents]": 0, "options[siteevents]": 0}
    only = moodle.call("core_calendar_get_calendar_events", **{"events[eventids][0]": 1}, **off)
    assert [e["id"] for e in only["events"]] == [1]
    course = moodle.call("core_calendar_get_calendar_events", **{"events[courseids][0]": 3}, **off)
    assert [e["id"] for e in course["events"]] == [1]  # no group event for courseids
    groups = moodle.call("core_calendar_get_calendar_events",
                         **{"events[groupids][0]": group}, **off)
    assert [e["id"] for e in groups["events"]] == [2]


def test_delete_unknown_or_deleted_event_is_invalidrecord(moodle: Moodle) -> None:
    moodle.call("core_calendar_create_calendar_events", **_event())
    rows = form("events", [{"eventid": 1, "repeat": 0}])
    assert moodle.call("core_calendar_delete_calendar_events", **rows) is None
    again = moodle.call("core_calendar_delete_calendar_events", **rows)
    assert again["errorcode"] == "invalidrecord" and "table event" in again["message"]


def _plan(moodle: Moodle, userid: int, status: int = 1) -> dict:
    return moodle.call("core_competency_create_plan", **{
        "plan[name]": "ИОМ 2026/27", "plan[userid]": userid, "plan[status]": status})


def test_create_plan_is_not_idempotent_and_can_start_active(moodle: Moodle) -> None:
    first, second = _plan(moodle, 4), _plan(moodle, 4, status=0)
    assert (first["id"], first["isactive"], second["id"], second["isdraft"]) == (1, True, 2, True)
    plans = moodle.call("core_competency_list_user_plans", userid=4)
    assert [p["id"] for p in plans] == [1, 2]
    assert moodle.call("core_competency_create_plan", **{
        "plan[name]": "x", "plan[userid]": 99999})["errorcode"] == "invaliduser"


def test_add_competency_to_plan_twice_is_true_without_duplicate(moodle: Moodle) -> None:
    _plan(moodle, 4)
    for _ in range(2):
        assert moodle.call("core_competency_add_competency_to_plan", planid=1,
                           competencyid=3) is True
    listed = moodle.call("core_competency_list_plan_competencies", id=1)
    assert [(c["competency"]["id"], c["usercompetency"]["id"]) for c in listed] == [(3, 0)]
    unknown = moodle.call("core_competency_add_competency_to_plan", planid=1, competencyid=99999)
    assert unknown["errorcode"] == "invalidrecord"


def test_grade_competency_adds_evidence_each_time(moodle: Moodle) -> None:
    first = moodle.call("core_competency_grade_competency", userid=8, competencyid=4, grade=2)
    again = moodle.call("core_competency_grade_competency", userid=8, competencyid=4, grade=2)
    assert first["usercompetencyid"] == again["usercompetencyid"]
    assert (first["id"], again["id"]) == (1, 2) and len(moodle.site.evidence) == 2
    bad = moodle.call("core_competency_grade_competency", userid=8, competencyid=4, grade=7)
    nobody = moodle.call("core_competency_grade_competency", userid=99999, competencyid=4,
                         grade=2)
    assert bad["message"] == "Error: Invalid rating"
    assert nobody["message"] == "Error: Invalid user ID"


def test_completion_status_nocriteriaset_and_usernotenroled(moodle: Moodle) -> None:
    diag = moodle.call("core_completion_get_course_completion_status", courseid=2, userid=3)
    outsider = moodle.call("core_completion_get_course_completion_status", courseid=3,
                           userid=_outsider(moodle))
    assert diag["errorcode"] == "nocriteriaset" and outsider["errorcode"] == "usernotenroled"
    internship = max(i for i, c in moodle.site.courses.items() if c.category == 4)
    assert moodle.site.courses[internship].shortname.startswith("int-")
    assert moodle.site.courses[internship].has_criteria


def test_suspend_then_reactivate_and_unenrol(moodle: Moodle) -> None:
    user = _enrolled(moodle)[0]
    row = {"roleid": 5, "userid": user, "courseid": 3, "timestart": 0, "timeend": 0}
    moodle.call("enrol_manual_enrol_users", **form("enrolments", [{**row, "suspend": 1}]))
    active = form("options", [{"name": "onlyactive", "value": 1}])
    listed = {u["id"] for u in moodle.call("core_enrol_get_enrolled_users", courseid=3, **active)}
    courses = {c["id"] for c in moodle.call("core_enrol_get_users_courses", userid=user)}
    assert user not in listed and 3 not in courses
    moodle.call("enrol_manual_enrol_users", **form("enrolments", [{**row, "suspend": 0}]))
    assert 3 in {c["id"] for c in moodle.call("core_enrol_get_users_courses", userid=user)}
    moodle.call("enrol_manual_unenrol_users",
                **form("enrolments", [{"userid": user, "courseid": 3}]))
    assert (user, 3) not in moodle.site.enrolments
    assert all(user not in g.members for g in moodle.site.groups.values() if g.courseid == 3)


def test_plugin_functions_answer_slots_and_completions(moodle: Moodle) -> None:
    slots = moodle.call("local_profroute_get_quiz_slots", quizid=1)["slots"]
    assert len(slots) == 24 and slots[0]["categoryidnumber"] == "PK-01"
    assert slots[0]["tags"][0] == slots[0]["categoryidnumber"] and slots[-1]["page"] == 6
    everything = moodle.call("local_profroute_get_completions",
                             **{"courseids[0]": 3, "courseids[1]": 1, "courseids[2]": 99999})
    times = [c["timecompleted"] for c in everything["completions"]]
    assert times == sorted(times) and {c["courseid"] for c in everything["completions"]} == {3}
    assert [w["itemid"] for w in everything["warnings"]] == [1, 99999]
    later = moodle.call("local_profroute_get_completions",
                        **{"courseids[0]": 3, "since": times[0]})
    assert all(c["timecompleted"] > times[0] for c in later["completions"])


def test_without_the_plugin_its_functions_are_unknown() -> None:
    moodle = Moodle(plugin=False)
    names = {f["name"] for f in moodle.call("core_webservice_get_site_info")["functions"]}
    assert REQUIRED_FUNCTIONS <= names and not names & PLUGIN_FUNCTIONS
    answer = moodle.call("local_profroute_get_quiz_slots", quizid=1)
    assert answer == moodle.call("local_profroute_no_such_function")
    assert answer["errorcode"] == "invalidrecord"


def test_no_plugin_command_line_option() -> None:
    from lms_connectors.moodle.sandbox.__main__ import _parse

    assert _parse(["--no-plugin"]).no_plugin and not _parse([]).no_plugin
