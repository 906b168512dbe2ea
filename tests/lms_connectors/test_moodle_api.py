"""MoodleAPI: every operation parsed from the real recordings, with exact parameters checked."""

from __future__ import annotations

import logging

import pytest

from courses.records import CourseCompletion, MoodleCourse
from deficits.records import Competency, ItemMark, QuizInfo, SlotMark, Teacher
from lms_connectors.exceptions import (
    AccessDenied,
    InvalidRequest,
    MessageRejected,
    MoodleAPIError,
    MoodleCrash,
    RecordNotFound,
)
from lms_connectors.moodle.api import (
    ENROLLED_USER_FIELDS,
    MAX_ENROLMENTS_PER_CALL,
    Enrolment,
    Framework,
    MoodleAPI,
    ProfileFields,
    QuizGrade,
    SiteInfo,
)
from lms_connectors.moodle.functions import (
    CORE_FUNCTIONS,
    PLUGIN_FUNCTIONS,
    REQUIRED_FUNCTIONS,
    SERVICE_FUNCTIONS,
)


@pytest.fixture
def api(replay):
    return MoodleAPI(replay.client)


def _enrolled_params(course_id, limitfrom, limitnumber, only_active=False):
    options = [("userfields", ENROLLED_USER_FIELDS)]
    if only_active:
        options.append(("onlyactive", "1"))
    options += [("limitfrom", str(limitfrom)), ("limitnumber", str(limitnumber))]
    params = {"courseid": str(course_id)}
    for i, (name, value) in enumerate(options):
        params[f"options[{i}][name]"] = name
        params[f"options[{i}][value]"] = value
    return params


# --- site -------------------------------------------------------------------------------


def test_site_info_from_recording_drops_the_private_access_key(api, replay, caplog):
    caplog.set_level(logging.DEBUG)
    rec = replay.expect_recording("core_webservice_get_site_info")
    key = rec["response"]["userprivateaccesskey"]

    info = api.site_info()

    assert info == SiteInfo(
        sitename="Повышение квалификации учителей (тест)",
        siteurl="http://127.0.0.1:8081",
        release="4.5dev+ (Build: 20240903)",
        version="2024090300",
        userid=23,
        username="pd_integration",
        lang="en",
        functions=info.functions,
    )
    assert "mod_quiz_get_user_attempts" in info.functions
    assert len(info.functions) == len(rec["response"]["functions"])
    assert key not in repr(info) and key not in repr(vars(api)) and key not in caplog.text


# The site-info recording predates the push side: the service gained these functions later
# (README "Push side: … Added to the service").
ADDED_FOR_THE_PUSH = {
    "core_calendar_create_calendar_events", "core_calendar_get_calendar_events",
    "core_cohort_create_cohorts", "core_competency_add_competency_to_plan",
    "core_competency_create_plan", "core_competency_grade_competency",
    "core_competency_list_plan_competencies", "core_group_add_group_members",
    "core_group_create_groups", "core_group_get_group_members",
}


def test_missing_functions_on_the_recorded_site_are_the_later_push_functions(api, replay):
    replay.expect_recording("core_webservice_get_site_info")
    replay.expect_recording("core_webservice_get_site_info")
    replay.expect_recording("core_webservice_get_site_info")

    assert api.missing_functions() == ADDED_FOR_THE_PUSH
    assert api.missing_functions(CORE_FUNCTIONS) == set()
    assert api.missing_functions(PLUGIN_FUNCTIONS) == PLUGIN_FUNCTIONS


def test_required_functions_are_the_service_without_the_plugin():
    assert REQUIRED_FUNCTIONS == SERVICE_FUNCTIONS - PLUGIN_FUNCTIONS
    assert not REQUIRED_FUNCTIONS & PLUGIN_FUNCTIONS
    assert CORE_FUNCTIONS <= REQUIRED_FUNCTIONS


def test_missing_functions_names_what_the_service_lacks(api, replay, recording):
    body = dict(recording("core_webservice_get_site_info")["response"])
    body["functions"] = [f for f in body["functions"] if not f["name"].startswith("enrol_")]
    replay.expect("core_webservice_get_site_info", {}, body)
    replay.expect("core_webservice_get_site_info", {}, body)

    assert api.missing_functions(CORE_FUNCTIONS | {"enrol_manual_unenrol_users"}) == {
        "enrol_manual_enrol_users", "enrol_manual_unenrol_users"}
    assert api.missing_functions({"local_profroute_slots", "core_enrol_get_users_courses"}) == {
        "local_profroute_slots"
    }
    assert "enrol_manual_enrol_users" in REQUIRED_FUNCTIONS


def test_malformed_answer_is_an_api_error_not_a_key_error(api, replay):
    replay.expect("core_webservice_get_site_info", {}, [])
    replay.expect("core_webservice_get_site_info", {}, {"sitename": "x"})

    for _ in range(2):
        with pytest.raises(MoodleAPIError) as info:
            api.site_info()
        assert info.value.errorcode == "invalidresponse"


# --- users ------------------------------------------------------------------------------


def test_enrolled_users_parses_teachers_from_recording(api, replay, recording):
    users = recording("core_enrol_get_enrolled_users")["response"]
    replay.expect("core_enrol_get_enrolled_users", _enrolled_params(3, 0, 200), users)

    teachers = list(api.enrolled_users(3))

    assert len(teachers) == 8
    assert teachers[0] == Teacher(
        moodle_user_id=3,
        username="ivanova.ms",
        lastname="Иванова",
        firstname="Марина",
        email="ivanova.ms@school16001.example.ru",
        idnumber="T-16001-01",
        school_code="16001",
        school_name="МБОУ «СОШ № 1» г. Казани",
        municipality="г. Казань",
        subjects=("Математика",),
        roles=("student",),
    )
    methodist = teachers[-1]
    assert methodist.username == "metodist.kn"
    assert methodist.roles == ("editingteacher",)
    assert (methodist.school_code, methodist.school_name, methodist.municipality) == (None,) * 3
    replay.done()


def test_enrolled_users_sends_onlyactive_when_asked(api, replay, recording):
    rec = recording("core_enrol_get_enrolled_users__after_suspend_onlyactive")
    replay.expect(
        "core_enrol_get_enrolled_users", _enrolled_params(3, 0, 50, True), rec["response"]
    )

    teachers = list(api.enrolled_users(3, page_size=50, only_active=True))

    assert {t.username for t in teachers} >= {"ivanova.ms", "kozlova.ea"}
    assert "morozov.as" not in {t.username for t in teachers}
    assert teachers[0].lastname == "" and teachers[0].school_code is None  # fields not asked


@pytest.mark.parametrize(
    ("total", "page_size", "pages"),
    [(20, 5, [5, 5, 5, 5, 0]), (22, 5, [5, 5, 5, 5, 2]), (3, 200, [3]), (0, 10, [0])],
)
def test_enrolled_users_pages_until_a_short_page(api, replay, recording, total, page_size, pages):
    template = recording("core_enrol_get_enrolled_users")["response"][0]
    everyone = [dict(template, id=100 + i, username=f"u{i}") for i in range(total)]
    served = []

    def responder(form):
        start, size = int(form["options[1][value]"]), int(form["options[2][value]"])
        assert form["options[1][name]"] == "limitfrom"
        served.append(len(everyone[start : start + size]))
        return everyone[start : start + size]

    replay.adapter.responder = responder

    teachers = list(api.enrolled_users(2, page_size=page_size))

    assert [t.moodle_user_id for t in teachers] == [u["id"] for u in everyone]
    assert served == pages
    assert replay.client.calls == len(pages)


def test_enrolled_users_stops_when_moodle_ignores_paging(api, replay, recording, caplog):
    users = recording("core_enrol_get_enrolled_users")["response"]  # 8 users, ignoring limit 3
    replay.adapter.responder = lambda form: users

    teachers = list(api.enrolled_users(3, page_size=3))

    assert len(teachers) == 8
    assert replay.client.calls == 1
    assert "ignored limitnumber" in caplog.text


@pytest.mark.parametrize(
    ("customfields", "expected"),
    [
        ([], (None, None, None, ())),
        (
            [
                {"shortname": "schoolcode", "value": " 16001 "},
                {"shortname": "schoolname", "value": ""},
                {"shortname": "subject", "value": "Математика; Физика,Информатика ,"},
            ],
            ("16001", None, None, ("Математика", "Физика", "Информатика")),
        ),
        (
            [{"shortname": "okato", "value": "92401"}, {"shortname": "subj", "value": "История"}],
            ("92401", None, None, ("История",)),
        ),
    ],
    ids=["no-fields", "split-and-strip", "configured-shortnames"],
)
def test_profile_fields_by_configurable_shortnames(api, replay, customfields, expected):
    user = {"id": 7, "username": "x", "fullname": "X", "middlename": "Петровна"}
    user["customfields"] = customfields
    replay.expect("core_enrol_get_enrolled_users", None, [user])
    fields = (
        ProfileFields(school_code="okato", subject="subj")
        if "okato" in str(customfields)
        else ProfileFields()
    )

    (teacher,) = api.enrolled_users(2, fields=fields)

    assert (
        teacher.school_code,
        teacher.school_name,
        teacher.municipality,
        teacher.subjects,
    ) == expected
    assert teacher.middlename == "Петровна"


# --- courses and competencies -------------------------------------------------------------


def test_courses_by_field_category(api, replay):
    replay.expect_recording("core_course_get_courses_by_field__category")

    courses = api.courses_by_field("category", 3)

    assert [c.shortname for c in courses] == ["pk-assess", "pk-digital", "pk-inclusive", "pk-math"]
    assert courses[0] == MoodleCourse(
        course_id=3,
        shortname="pk-assess",
        fullname="Формирующее оценивание на уроке",
        category_id=3,
        startdate=1789419600,
        enddate=1797714000,
        visible=True,
        enrolment_methods=("manual",),
    )


def test_courses_by_field_without_field_skips_the_front_page(api, replay):
    replay.expect_recording("core_course_get_courses_by_field__all")

    courses = api.courses_by_field()

    assert [c.course_id for c in courses] == [2, 3, 4, 5, 6]
    assert courses[0].category_id == 2


@pytest.mark.parametrize(
    "name", ["core_course_get_courses_by_field", "method_get_courses_by_field"]
)
def test_courses_by_field_single(api, replay, recording, name):
    rec = replay.expect_recording(name)

    (course,) = api.courses_by_field(rec["params"]["field"], rec["params"]["value"])

    assert course.course_id == rec["response"]["courses"][0]["id"]


@pytest.mark.parametrize(("field", "value"), [("snils", "1"), ("id", ""), ("shortname", None)])
def test_courses_by_field_refuses_bad_arguments(api, replay, field, value):
    with pytest.raises(InvalidRequest):
        api.courses_by_field(field, value)
    assert replay.adapter.sent == []


def test_course_competencies(api, replay):
    replay.expect_recording("core_competency_list_course_competencies")

    assert api.course_competencies(3) == [
        Competency(idnumber="PK-03", name="Оценочная деятельность", moodle_id=3),
        Competency(idnumber="PK-02", name="Методическая компетентность", moodle_id=2),
    ]


def test_frameworks(api, replay):
    replay.expect_recording("core_competency_list_competency_frameworks")

    assert api.frameworks() == [
        Framework(1, "PKU-2026", "Профессиональные компетенции учителя", True, 6)
    ]


def test_competencies_of_a_framework(api, replay):
    replay.expect_recording("core_competency_list_competencies")

    competencies = api.competencies(1, framework_idnumber="PKU-2026")

    assert [c.idnumber for c in competencies] == [f"PK-0{i}" for i in range(1, 7)]
    assert competencies[0] == Competency(
        "PK-01", "Предметные знания", group="", moodle_id=1, framework_idnumber="PKU-2026"
    )


def test_competency_group_is_the_parents_idnumber(api, replay):
    rows = [
        {"id": 1, "idnumber": "PK", "shortname": "Все", "parentid": 0},
        {"id": 2, "idnumber": "PK-01", "shortname": "Знания", "parentid": 1},
    ]
    replay.expect("core_competency_list_competencies", None, rows)

    assert [c.group for c in api.competencies(1)] == ["", "PK"]


# --- quizzes and attempts -----------------------------------------------------------------


def test_quizzes(api, replay):
    replay.expect_recording("mod_quiz_get_quizzes_by_courses")

    assert api.quizzes([2]) == [
        QuizInfo(
            quiz_id=1,
            cmid=9,
            course_id=2,
            name="Входная диагностика профессиональных компетенций",
            grademethod=1,
            sumgrades=12.0,
            grade=100.0,
            attempts_allowed=2,
        )
    ]


@pytest.mark.parametrize("course_ids", [[], [0], [2, "3"], [True]])
def test_quizzes_refuses_bad_course_ids_before_sending(api, replay, course_ids):
    with pytest.raises(InvalidRequest):
        api.quizzes(course_ids)
    assert replay.adapter.sent == []


def test_user_attempts_all(api, replay):
    replay.expect_recording("mod_quiz_get_user_attempts")

    attempts = api.user_attempts(1, 4, status="all")

    assert [(a.attempt_id, a.attempt_no, a.sumgrades) for a in attempts] == [
        (2, 1, 7.0),
        (3, 2, 10.0),
    ]
    first = attempts[0]
    assert (first.quiz_id, first.user_id, first.state) == (1, 4, "finished")
    assert (first.time_start, first.time_finish) == (1795182503, 1795184543)
    assert first.item_marks[0] == ItemMark("PK-01 Предметные знания", 2.0, 2.0)
    assert len(first.item_marks) == 6 and first.is_scorable


def test_user_attempts_default_status_finished_sends_no_status(api, replay):
    replay.expect_recording("mod_quiz_get_user_attempts__finished_default")

    (attempt,) = api.user_attempts(1, 3)

    assert attempt.attempt_id == 1 and attempt.sumgrades == 8.0


def test_user_attempts_in_progress_has_no_sumgrades_and_is_not_scorable(api, replay):
    replay.expect_recording("mod_quiz_get_user_attempts__unfinished")

    (attempt,) = api.user_attempts(1, 17, status="unfinished")

    assert attempt.state == "inprogress" and attempt.sumgrades is None
    assert not attempt.is_scorable


def test_user_attempts_none(api, replay):
    replay.expect_recording("mod_quiz_get_user_attempts__none")

    assert api.user_attempts(1, 22, "all") == []


@pytest.mark.parametrize(
    ("quiz_id", "user_id", "status"), [(1, 4, "true"), (0, 4, "all"), (1, -1, "all")]
)
def test_user_attempts_refuses_bad_arguments(api, replay, quiz_id, user_id, status):
    with pytest.raises(InvalidRequest):
        api.user_attempts(quiz_id, user_id, status)
    assert replay.adapter.sent == []


def test_attempt_review_slot_marks(api, replay):
    replay.expect_recording("mod_quiz_get_attempt_review")

    attempt = api.attempt_review(1)

    assert attempt.attempt_id == 1 and attempt.user_id == 3 and attempt.sumgrades == 8.0
    assert len(attempt.slot_marks) == 12 and len(attempt.item_marks) == 6
    assert attempt.slot_marks[:2] == (
        SlotMark(slot=1, mark=1.0, maxmark=1.0, question_type="multichoice"),
        SlotMark(slot=2, mark=0.0, maxmark=1.0, question_type="truefalse"),
    )
    assert sum(s.mark for s in attempt.slot_marks) == attempt.sumgrades


def test_attempt_review_in_progress_marks_are_none(api, replay):
    replay.expect_recording("mod_quiz_get_attempt_review__inprogress")

    attempt = api.attempt_review(17)

    assert attempt.state == "inprogress"
    assert {s.mark for s in attempt.slot_marks} == {None}


@pytest.mark.parametrize(
    ("mark", "expected"), [("1,50", 1.5), ("0.33", 0.33), ("", None), (None, None)]
)
def test_attempt_review_mark_text(api, replay, recording, mark, expected):
    body = recording("mod_quiz_get_attempt_review")["response"]
    body["questions"] = [dict(body["questions"][0], mark=mark)]
    replay.expect("mod_quiz_get_attempt_review", {"attemptid": "1"}, body)

    assert api.attempt_review(1).slot_marks[0].mark == expected


# --- completions and grades ---------------------------------------------------------------


def test_user_courses_without_user_count(api, replay):
    replay.expect_recording("core_enrol_get_users_courses__returnusercount0")

    completions = api.user_courses(10)

    assert completions == [
        CourseCompletion(user_id=10, course_id=2, completed=False, progress=100.0),
        CourseCompletion(user_id=10, course_id=6, completed=False, progress=50.0),
        CourseCompletion(user_id=10, course_id=3, completed=True, progress=100.0),
    ]


def test_user_courses_null_or_absent_completion(api, replay):
    body = [{"id": 4, "completed": None, "progress": None}, {"id": 5}]
    replay.expect("core_enrol_get_users_courses", {"userid": "8", "returnusercount": "0"}, body)

    assert api.user_courses(8) == [
        CourseCompletion(user_id=8, course_id=4, completed=False, progress=None),
        CourseCompletion(user_id=8, course_id=5, completed=False, progress=None),
    ]


def test_quiz_grade_changes_in_one_call_for_all_users(api, replay):
    replay.expect_recording("gradereport_user_get_grade_items__allusers")

    grades = api.quiz_grade_changes(2, quiz_cmid=9)

    assert replay.client.calls == 1
    assert len(grades) == 20
    by_user = {g.user_id: g for g in grades}
    assert by_user[14] == QuizGrade(14, 1, 9, 41.66667, 100.0, 1795265195, 1795549041)
    assert by_user[17].grade_raw is None and by_user[17].date_submitted is None


def test_quiz_grade_changes_filters_by_cmid(api, replay):
    replay.expect_recording("gradereport_user_get_grade_items__allusers")
    replay.expect_recording("gradereport_user_get_grade_items__allusers")

    assert len(api.quiz_grade_changes(2)) == 20
    assert api.quiz_grade_changes(2, quiz_cmid=99) == []


# --- writes -------------------------------------------------------------------------------


def test_enrol_sends_dates_and_suspend_explicitly(api, replay):
    replay.expect_recording("enrol_manual_enrol_users__with_dates")

    api.enrol([Enrolment(22, 4, timestart=1789246800, timeend=1797541200)])

    replay.done()


def test_enrol_with_defaults_still_sends_every_field(api, replay):
    expected = {
        "enrolments[0][roleid]": "5",
        "enrolments[0][userid]": "12",
        "enrolments[0][courseid]": "3",
        "enrolments[0][timestart]": "0",
        "enrolments[0][timeend]": "0",
        "enrolments[0][suspend]": "1",
        "enrolments[1][roleid]": "5",
        "enrolments[1][userid]": "19",
        "enrolments[1][courseid]": "3",
        "enrolments[1][timestart]": "0",
        "enrolments[1][timeend]": "0",
        "enrolments[1][suspend]": "0",
    }
    replay.expect("enrol_manual_enrol_users", expected, None)

    api.enrol([Enrolment(12, 3, suspend=True), Enrolment(19, 3)])

    replay.done()


@pytest.mark.parametrize(
    "enrolments",
    [
        [],
        [Enrolment(u, 3) for u in range(1, MAX_ENROLMENTS_PER_CALL + 2)],
        [Enrolment(0, 3)],
        [Enrolment(3, -1)],
        [Enrolment(True, 3)],
        [Enrolment(3, 3, role_id=0)],
        [Enrolment(3, 3, timestart=100, timeend=100)],
        [Enrolment(3, 3, timestart=-5)],
        [Enrolment(3, 3, timestart=1.5)],
        [Enrolment(3, 3, suspend=2)],
        [Enrolment(3, 3), Enrolment(3, 3, timeend=10)],
    ],
    ids=[
        "empty",
        "too-many",
        "user-0",
        "course-neg",
        "bool-id",
        "role-0",
        "end-eq-start",
        "neg-start",
        "float-start",
        "suspend-2",
        "duplicate",
    ],
)
def test_enrol_refuses_invalid_batches_before_sending(api, replay, enrolments):
    with pytest.raises(InvalidRequest):
        api.enrol(enrolments)
    assert replay.adapter.sent == []


@pytest.mark.parametrize(("max_fields", "limit"), [(1000, 166), (5000, MAX_ENROLMENTS_PER_CALL)])
def test_enrol_batch_stays_under_max_input_vars(replay, max_fields, limit):
    api = MoodleAPI(replay.client, max_fields=max_fields)
    replay.expect("enrol_manual_enrol_users", None, None)

    assert api.enrol_batch_limit == limit
    api.enrol([Enrolment(u, 3) for u in range(1, limit + 1)])
    with pytest.raises(InvalidRequest) as info:
        api.enrol([Enrolment(u, 3) for u in range(1, limit + 2)])

    assert "max_input_vars" in str(info.value)
    assert len(replay.adapter.order) == 1
    assert len(replay.adapter.order[0]) == limit * 6 + 3 <= max_fields


def test_unenrol_accepts_300_pairs_of_3_fields(api, replay):
    replay.expect("enrol_manual_unenrol_users", None, None)

    api.unenrol([(u, 4) for u in range(1, 301)], role_id=5)
    with pytest.raises(InvalidRequest):
        api.unenrol([(u, 4) for u in range(1, 302)])

    assert len(replay.adapter.order[0]) == 903


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("enrol_manual_enrol_users__nonexistent_user", MoodleCrash),
        ("enrol_manual_enrol_users__role_not_assignable", AccessDenied),
    ],
)
def test_enrol_failures(api, replay, recording, name, cls):
    rec = recording(name)
    replay.expect(rec["function"], None, rec["response"])
    row = rec["params_structured"]["enrolments"][0]

    with pytest.raises(cls):
        api.enrol([Enrolment(row["userid"], row["courseid"], role_id=row["roleid"])])
    assert replay.client.calls == 1


@pytest.mark.parametrize(
    ("name", "role_id"),
    [("enrol_manual_unenrol_users", 5), ("enrol_manual_unenrol_users__not_enrolled", None)],
)
def test_unenrol(api, replay, name, role_id):
    replay.expect_recording(name)

    api.unenrol([(20, 4)], role_id=role_id)

    replay.done()


def test_unenrol_refuses_an_empty_batch(api, replay):
    with pytest.raises(InvalidRequest):
        api.unenrol([])
    assert replay.adapter.sent == []


def test_send_message(api, replay, recording):
    rec = replay.expect_recording("core_message_send_instant_messages")
    message = rec["params_structured"]["messages"][0]

    msgid = api.send_message(3, message["text"], "pd-rec-0001")

    assert msgid == 1


def test_send_message_rejected_raises_with_moodles_reason(api, replay):
    replay.expect_recording("core_message_send_instant_messages__invalid_recipient")

    with pytest.raises(MessageRejected) as info:
        api.send_message(99999, "Нет такого пользователя", "pd-rec-0004")

    assert isinstance(info.value, MoodleAPIError)
    assert "You cannot send a message to a user ID (99999) that doesn't exist." in str(info.value)
    assert "\n" not in str(info.value) and info.value.hint


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((0, "text", "id-1"), {}),
        ((3, "  ", "id-1"), {}),
        ((3, "text", "id 1"), {}),
        ((3, "text", ""), {}),
        ((3, "text", "id-1"), {"textformat": 3}),
    ],
)
def test_send_message_refuses_bad_arguments(api, replay, args, kwargs):
    with pytest.raises(InvalidRequest):
        api.send_message(*args, **kwargs)
    assert replay.adapter.sent == []


def test_send_message_is_one_call_per_recipient_and_not_retried(api, replay):
    replay.expect("core_message_send_instant_messages", None, {"e": 1}, status=502)

    with pytest.raises(Exception):  # noqa: B017 - any failure; the point is the call count
        api.send_message(3, "text", "id-1")

    assert replay.client.calls == 1
    assert replay.sleeps == []


def test_record_not_found_for_an_unknown_course(api, replay, recording):
    rec = recording("error_nonexistent_course")
    replay.expect("core_competency_list_course_competencies", {"id": "99999"}, rec["response"])

    with pytest.raises(RecordNotFound):
        api.course_competencies(99999)
