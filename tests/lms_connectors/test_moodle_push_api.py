"""MoodleAPI push-side operations against the recorded answers: cohorts, groups, calendar, plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from courses.records import CourseCompletion
from lms_connectors.exceptions import (
    AccessDenied,
    FunctionNotInService,
    InvalidParameter,
    InvalidRequest,
    MoodleAPIError,
    NotEnrolled,
    RecordNotFound,
)
from lms_connectors.moodle.api import (
    CalendarEvent,
    Cohort,
    Enrolment,
    EventSpec,
    Group,
    MoodleAPI,
    MoodleWarning,
    Plan,
    QuizSlot,
)

SEARCH = "core_cohort_search_cohorts"
EVENTS = "core_calendar_get_calendar_events"
WEBINAR = "Вебинар: формирующее оценивание"


@pytest.fixture
def api(replay):
    return MoodleAPI(replay.client)


def _search_params(query, offset=0):
    return {"query": query, "context[contextid]": "1", "includes": "all",
            "limitfrom": str(offset), "limitnum": "25"}


# --- cohorts ------------------------------------------------------------------------------


def test_cohort_by_idnumber_matches_the_idnumber_exactly(api, replay, recording):
    found = recording("core_cohort_search_cohorts")["response"]
    replay.expect(SEARCH, _search_params("school-16004"), found)
    replay.expect(SEARCH, _search_params("school-1600"), found)

    assert api.cohort_by_idnumber(" school-16004 ") == Cohort(
        4, "school-16004", "МБОУ «СОШ № 4» г. Альметьевска",
        "Педагоги: МБОУ «СОШ № 4» г. Альметьевска (Альметьевский муниципальный район)")
    assert api.cohort_by_idnumber("school-1600") is None
    replay.done()


def test_cohort_by_idnumber_reads_the_next_page_of_a_full_page(api, replay, recording):
    row = recording("core_cohort_search_cohorts")["response"]["cohorts"][0]
    full = {"cohorts": [{**row, "id": i, "idnumber": f"mentors-2026-{i}"} for i in range(25)]}
    last = {"cohorts": [{**row, "id": 99, "idnumber": "mentors-2026"}]}
    replay.expect(SEARCH, _search_params("mentors-2026"), full)
    replay.expect(SEARCH, _search_params("mentors-2026", 25), last)

    assert api.cohort_by_idnumber("mentors-2026").cohort_id == 99


def test_create_cohort_in_the_system_context(api, replay):
    replay.expect_recording("core_cohort_create_cohorts")

    cohort = api.create_cohort("mentors-2026", "Резерв наставников 2026",
                               description="Педагоги, рекомендованные в наставники")

    assert cohort == Cohort(6, "mentors-2026", "Резерв наставников 2026",
                            "Педагоги, рекомендованные в наставники")


def test_create_cohort_in_a_category_by_id(api, replay, recording):
    answer = recording("core_cohort_create_cohorts__category_idnumber")["response"]
    params = {"cohorts[0][categorytype][type]": "id", "cohorts[0][categorytype][value]": "3",
              "cohorts[0][name]": "Слушатели программ ПК 2026",
              "cohorts[0][idnumber]": "pk-listeners-2026", "cohorts[0][description]": "",
              "cohorts[0][descriptionformat]": "1", "cohorts[0][visible]": "1"}
    replay.expect("core_cohort_create_cohorts", params, answer)

    cohort = api.create_cohort("pk-listeners-2026", "Слушатели программ ПК 2026", category_id=3)

    assert cohort.cohort_id == 7 and cohort.description == ""


@pytest.mark.parametrize("name", ["core_cohort_create_cohorts__duplicate_idnumber",
                                  "core_cohort_create_cohorts__invalid_category"])
def test_create_cohort_refused_by_moodle(api, replay, name):
    replay.expect_recording(name, check_params=False)

    with pytest.raises(InvalidParameter):
        api.create_cohort("mentors-2026", "Повтор", category_id=3)


def test_add_cohort_members_by_ids_returns_the_warnings(api, replay, recording):
    answer = recording("core_cohort_add_cohort_members__duplicate_and_unknown")["response"]
    params = {}
    for i, user in enumerate([19, 99999]):
        params.update({f"members[{i}][cohorttype][type]": "id",
                       f"members[{i}][cohorttype][value]": "5",
                       f"members[{i}][usertype][type]": "id",
                       f"members[{i}][usertype][value]": str(user)})
    replay.expect("core_cohort_add_cohort_members", params, answer)
    replay.expect("core_cohort_add_cohort_members", None,
                  recording("core_cohort_add_cohort_members")["response"])

    warnings = api.add_cohort_members(5, [19, 99999])

    assert warnings[0] == MoodleWarning(
        "3", "record already exists: cohort(idnumber=school-16005 username=kozlova.ea)")
    assert [w.warningcode for w in warnings] == ["3", "2", "2"]
    assert api.add_cohort_members(5, (20, 21, 22)) == []


def test_cohort_members(api, replay):
    replay.expect_recording("core_cohort_get_cohort_members")

    assert api.cohort_members([1, 5]) == {1: {3, 4, 5, 6}, 5: set()}


# --- groups -------------------------------------------------------------------------------


def test_course_groups_carry_idnumbers(api, replay):
    replay.expect_recording("core_group_get_course_groups")

    groups = api.course_groups(3)

    assert len(groups) == 5
    assert groups[3] == Group(6, 3, "МБОУ «СОШ № 1» г. Казани", "pk-assess-school-16001",
                              "Группа педагогов ОО 16001")


def test_create_group(api, replay):
    replay.expect_recording("core_group_create_groups")

    group = api.create_group(3, "Наставники 2026", idnumber="pk-assess-mentors-2026",
                             description="Группа наставников по итогам диагностики")

    assert group == Group(26, 3, "Наставники 2026", "pk-assess-mentors-2026",
                          "Группа наставников по итогам диагностики")


@pytest.mark.parametrize(("name", "cls", "code"), [
    ("core_group_create_groups__duplicate_idnumber", MoodleAPIError, "idnumbertaken"),
    ("core_group_create_groups__duplicate_name", InvalidParameter, "invalidparameter"),
    ("core_group_create_groups__nonexistent_course", AccessDenied, "errorcoursecontextnotvalid"),
])
def test_create_group_refused_by_moodle(api, replay, recording, name, cls, code):
    rec = replay.expect_recording(name, check_params=False)
    row = rec["params_structured"]["groups"][0]

    with pytest.raises(cls) as info:
        api.create_group(row["courseid"], row["name"], idnumber=row.get("idnumber", ""),
                         description=row["description"])
    assert info.value.errorcode == code


def test_create_group_without_idnumber_sends_none(api, replay):
    params = {"groups[0][courseid]": "3", "groups[0][name]": "Без кода",
              "groups[0][description]": "", "groups[0][descriptionformat]": "1"}
    answer = [{"id": 27, "courseid": 3, "name": "Без кода", "description": "",
               "descriptionformat": 1, "enrolmentkey": "", "idnumber": "", "visibility": 0,
               "participation": True}]
    replay.expect("core_group_create_groups", params, answer)

    assert api.create_group(3, "Без кода").idnumber == ""


def test_add_group_members(api, replay):
    replay.expect_recording("core_group_add_group_members")
    replay.expect_recording("core_group_add_group_members__again")

    assert api.add_group_members(26, [4, 11]) is None
    assert api.add_group_members(26, [4]) is None
    replay.done()


def test_add_group_members_not_enrolled(api, replay):
    replay.expect_recording("core_group_add_group_members__not_enrolled")

    with pytest.raises(InvalidParameter):
        api.add_group_members(26, [17])


def test_group_members(api, replay):
    replay.expect_recording("core_group_get_group_members")
    replay.expect_recording("core_group_get_group_members__nonexistent")

    assert api.group_members([26, 6]) == {26: {4, 11}, 6: {3, 4, 5}}
    with pytest.raises(RecordNotFound):
        api.group_members([99999])


# --- calendar -----------------------------------------------------------------------------


def test_calendar_events_of_a_course_in_a_window(api, replay):
    replay.expect_recording("core_calendar_get_calendar_events")

    events = api.calendar_events(course_ids=[3], time_from=1796072400, time_to=1798750800)

    assert [e.event_id for e in events] == [1, 2]
    assert events[0] == CalendarEvent(1, WEBINAR, "course", 3, 0, 23, 1796904000, 5400,
                                      "<p>Онлайн-встреча слушателей курса</p>")


def test_calendar_events_by_id_always_turns_user_and_site_events_off(api, replay, recording):
    # The recorded answer without the options holds the WS user's user and site events too:
    # the options are always sent, and what still slips through is dropped.
    answer = recording("core_calendar_get_calendar_events__eventids")["response"]
    params = {"events[eventids][0]": "1", "events[eventids][1]": "2",
              "options[userevents]": "0", "options[siteevents]": "0"}
    replay.expect(EVENTS, params, answer)

    events = api.calendar_events(event_ids=(1, 2))

    assert [e.event_id for e in events] == [1, 2]
    assert {e.eventtype for e in events} == {"course"}


def test_calendar_events_by_group(api, replay, recording):
    event = recording("core_calendar_create_calendar_events__group_and_user")["response"]
    params = {"events[groupids][0]": "6", "options[userevents]": "0", "options[siteevents]": "0"}
    replay.expect(EVENTS, params, {"events": event["events"], "warnings": []})

    events = api.calendar_events(group_ids=[6])

    assert [(e.event_id, e.group_id, e.eventtype) for e in events] == [(3, 6, "group")]


def test_create_calendar_event_for_a_course(api, replay):
    replay.expect_recording("core_calendar_create_calendar_events")

    event = api.create_calendar_event(EventSpec(
        WEBINAR, 3, 1796904000, 5400, description="<p>Онлайн-встреча слушателей курса</p>"))

    assert (event.event_id, event.user_id, event.eventtype) == (1, 23, "course")


def test_create_calendar_event_for_a_group(api, replay, recording):
    rec = recording("core_calendar_create_calendar_events__group_and_user")
    params = {k: v for k, v in rec["params"].items() if k.startswith("events[0]")}
    answer = {"events": rec["response"]["events"][:1], "warnings": []}
    replay.expect("core_calendar_create_calendar_events", params, answer)

    event = api.create_calendar_event(
        EventSpec("Консультация для группы ОО 16001", 3, 1796990400, 3600, group_id=6))

    assert (event.event_id, event.group_id, event.eventtype) == (3, 6, "group")


def test_create_calendar_event_failures(api, replay):
    replay.expect_recording("core_calendar_create_calendar_events__nonexistent_course",
                            check_params=False)
    skipped = {"events": [], "warnings": [{"item": "x", "warningcode": "nopermissions",
                                           "message": "you do not have permissions"}]}
    replay.expect("core_calendar_create_calendar_events", None, skipped)

    with pytest.raises(RecordNotFound):
        api.create_calendar_event(EventSpec("Нет курса", 99999, 1796904000))
    with pytest.raises(AccessDenied):
        api.create_calendar_event(EventSpec("x", 3, 1796904000))


# --- learning plans and ratings ----------------------------------------------------------


def test_create_plan_active_directly(api, replay):
    replay.expect_recording("core_competency_create_plan__active")

    plan = api.create_plan(11, "ИОМ 2026/27: Новикова Татьяна Андреевна", duedate=1811710800)

    assert plan == Plan(3, 11, "ИОМ 2026/27: Новикова Татьяна Андреевна", 1, 1811710800)
    assert plan.active


def test_create_plan_draft_with_description(api, replay):
    rec = replay.expect_recording("core_competency_create_plan")
    sent = rec["params_structured"]["plan"]

    plan = api.create_plan(4, sent["name"], description=sent["description"], status=0,
                           duedate=1811710800)

    assert (plan.plan_id, plan.status, plan.active) == (1, 0, False)


def test_create_plan_for_an_unknown_user(api, replay):
    replay.expect_recording("core_competency_create_plan__nonexistent_user", check_params=False)

    with pytest.raises(RecordNotFound):
        api.create_plan(99999, "ИОМ: нет такого пользователя")


def test_user_plans(api, replay, recording):
    replay.expect_recording("core_competency_list_user_plans")
    plans = [recording(n)["response"] for n in ("core_competency_create_plan",
                                                 "core_competency_create_plan__again")]
    replay.expect("core_competency_list_user_plans", {"userid": "4"}, plans)

    assert api.user_plans(3) == []
    assert [(p.plan_id, p.status, p.template_id) for p in api.user_plans(4)] == [
        (1, 0, None), (2, 0, None)]


def test_plan_competencies(api, replay):
    replay.expect_recording("core_competency_list_plan_competencies")

    assert api.plan_competencies(1) == [3, 2]


def test_add_competency_to_plan_twice_is_true(api, replay):
    replay.expect_recording("core_competency_add_competency_to_plan")
    replay.expect_recording("core_competency_add_competency_to_plan__duplicate")
    replay.expect_recording("core_competency_add_competency_to_plan__nonexistent_competency")

    assert api.add_competency_to_plan(1, 3) is True
    assert api.add_competency_to_plan(1, 3) is True
    with pytest.raises(RecordNotFound):
        api.add_competency_to_plan(1, 99999)


def test_grade_competency_adds_evidence_each_time(api, replay):
    replay.expect_recording("core_competency_grade_competency")
    replay.expect_recording("core_competency_grade_competency__again")

    note = "Подтверждено сертификатом внешних курсов"
    assert api.grade_competency(8, 4, 2, note) == 19
    assert api.grade_competency(8, 4, 2, note) == 20


@pytest.mark.parametrize("name", ["core_competency_grade_competency__invalid_grade",
                                  "core_competency_grade_competency__nonexistent_user"])
def test_grade_competency_refused(api, replay, recording, name):
    rec = replay.expect_recording(name)
    p = rec["params_structured"]

    with pytest.raises(MoodleAPIError) as info:
        api.grade_competency(p["userid"], p["competencyid"], p["grade"])
    assert info.value.errorcode == "invalidpersistenterror"


# --- completion ---------------------------------------------------------------------------


def test_course_completion_completed_and_in_progress(api, replay):
    replay.expect_recording("core_completion_get_course_completion_status")
    replay.expect_recording("core_completion_get_course_completion_status__inprogress")
    replay.expect_recording("core_completion_get_course_completion_status__notstarted")

    assert api.course_completion(3, 3) == CourseCompletion(3, 3, True, 100.0, 1795549042)
    assert api.course_completion(3, 4) == CourseCompletion(4, 3, False, 50.0, None)
    assert api.course_completion(3, 7) == CourseCompletion(7, 3, False, 0.0, None)


def test_course_completion_without_criteria_is_none(api, replay):
    replay.expect_recording("core_completion_get_course_completion_status__nocriteria")

    assert api.course_completion(2, 3) is None


def test_course_completion_of_a_user_not_enrolled_raises(api, replay):
    replay.expect_recording("core_completion_get_course_completion_status__notenrolled")

    with pytest.raises(NotEnrolled) as info:
        api.course_completion(3, 22)
    assert isinstance(info.value, RecordNotFound)


# --- enrolment changes -------------------------------------------------------------------


def test_suspend_keeps_the_given_dates(api, replay):
    params = {"enrolments[0][roleid]": "5", "enrolments[0][userid]": "16",
              "enrolments[0][courseid]": "3", "enrolments[0][timestart]": "1797282000",
              "enrolments[0][timeend]": "1806440400", "enrolments[0][suspend]": "1"}
    replay.expect("enrol_manual_enrol_users", params, None)

    api.suspend([Enrolment(16, 3, timestart=1797282000, timeend=1806440400)])

    replay.done()


# --- local validation: nothing is sent ---------------------------------------------------


@pytest.mark.parametrize(("operation", "args", "kwargs"), [
    ("cohort_by_idnumber", ("  ",), {}),
    ("cohort_by_idnumber", ("x" * 101,), {}),
    ("create_cohort", ("", "name"), {}),
    ("create_cohort", ("id", ""), {}),
    ("create_cohort", ("id", "name"), {"category_id": 0}),
    ("add_cohort_members", (5, []), {}),
    ("add_cohort_members", (5, [3, 3]), {}),
    ("add_cohort_members", (0, [3]), {}),
    ("add_cohort_members", (5, list(range(1, 252))), {}),
    ("cohort_members", ([],), {}),
    ("course_groups", (0,), {}),
    ("create_group", (3, " "), {}),
    ("create_group", (3, "n"), {"idnumber": "x" * 101}),
    ("add_group_members", (26, [0]), {}),
    ("group_members", ([True],), {}),
    ("calendar_events", (), {}),
    ("calendar_events", (), {"course_ids": [3], "time_from": 10, "time_to": 5}),
    ("calendar_events", (), {"event_ids": [-1]}),
    ("create_calendar_event", (EventSpec("", 3, 1796904000),), {}),
    ("create_calendar_event", (EventSpec("n", 3, 0),), {}),
    ("create_calendar_event", (EventSpec("n", 3, 1796904000, -1),), {}),
    ("create_calendar_event", (EventSpec("n", 3, 1796904000, group_id=-6),), {}),
    ("user_plans", (0,), {}),
    ("create_plan", (4, "n"), {"status": 2}),
    ("create_plan", (4, "n"), {"status": True}),
    ("create_plan", (4, "n"), {"duedate": -1}),
    ("create_plan", (4, ""), {}),
    ("plan_competencies", ("1",), {}),
    ("add_competency_to_plan", (1, 0), {}),
    ("grade_competency", (8, 4, 0), {}),
    ("grade_competency", (8, 4, 2, None), {}),
    ("course_completion", (3, 0), {}),
    ("quiz_slots", (0,), {}),
    ("completions_since", ([], 0), {}),
    ("completions_since", ([3], -1), {}),
    ("suspend", ([],), {}),
])
def test_push_operations_refuse_bad_arguments_before_sending(api, replay, operation, args,
                                                             kwargs):
    with pytest.raises(InvalidRequest):
        getattr(api, operation)(*args, **kwargs)
    assert replay.adapter.sent == []


# --- plugin (local_profroute): its own recordings ----------------------------------------

PLUGIN_RECORDINGS = Path(__file__).resolve().parents[1] / "plugin" / "recordings"
needs_plugin_recordings = pytest.mark.skipif(not PLUGIN_RECORDINGS.is_dir(),
                                             reason="plugin recordings not found")


def _plugin(replay, name, check_params=True):
    rec = json.loads((PLUGIN_RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    replay.expect(rec["function"], rec["params"] if check_params else None, rec["response"])
    return rec


@needs_plugin_recordings
def test_quiz_slots_from_the_plugin_recording(api, replay):
    _plugin(replay, "local_profroute_get_quiz_slots")

    slots = api.quiz_slots(1)

    assert len(slots) == 12
    assert slots[0] == QuizSlot(1, 1, 1, "multichoice", slots[0].name, "PK-01-Q1", 3, "PK-01",
                                "PK-01 Предметные знания", 1.0, ("PK-01", "диагностика"))
    assert [s.category_idnumber for s in slots[::2]] == [f"PK-0{i}" for i in range(1, 7)]


@needs_plugin_recordings
@pytest.mark.parametrize(("name", "cls"), [
    ("local_profroute_get_quiz_slots__nonexistent_quiz", RecordNotFound),
    ("local_profroute_get_quiz_slots__function_not_in_service", FunctionNotInService),
    ("local_profroute_get_quiz_slots__limited_user", AccessDenied),
])
def test_quiz_slots_failures(api, replay, name, cls):
    rec = _plugin(replay, name)

    with pytest.raises(cls):
        api.quiz_slots(int(rec["params"]["quizid"]))


def test_quiz_slots_without_the_plugin_is_record_not_found(api, replay, recording):
    replay.expect("local_profroute_get_quiz_slots", {"quizid": "1"},
                  recording("error_function_does_not_exist")["response"])

    with pytest.raises(RecordNotFound):
        api.quiz_slots(1)


@needs_plugin_recordings
def test_completions_since_from_the_plugin_recordings(api, replay):
    _plugin(replay, "local_profroute_get_completions")
    _plugin(replay, "local_profroute_get_completions__since")

    everything = api.completions_since([2, 3, 4, 5, 6], 0)
    later = api.completions_since([3, 4, 5, 6], 1795665676)

    assert len(everything) == 8 and everything[0] == CourseCompletion(
        3, 3, True, None, 1795665676)
    assert all(c.completed for c in everything)
    assert later == everything[1:]


@needs_plugin_recordings
def test_completions_since_warnings_leave_the_other_courses(api, replay, caplog):
    _plugin(replay, "local_profroute_get_completions__unknown_and_site_course")
    _plugin(replay, "local_profroute_get_completions__limited_user")

    found = api.completions_since([99999, 1, 4], 0)

    assert {(c.user_id, c.course_id) for c in found} == {(6, 4), (15, 4)}
    assert api.completions_since([3, 4], 0) == []
    assert "invalidcourseid" in caplog.text and "nopermissions" in caplog.text
