"""Behaviour of the sandbox beyond answer shapes: paging, writes, tokens, hooks."""

from __future__ import annotations

import time

import pytest
from sandbox.sandbox_support import LIMITED, Moodle, form

from lms_connectors.moodle.functions import SERVICE_FUNCTIONS
from lms_connectors.moodle.sandbox.seed_catalog import DIAG_COURSE_ID, FINAL_QUIZ_ID

ENROL = "enrol_manual_enrol_users"


@pytest.fixture()
def moodle() -> Moodle:
    return Moodle()


def _page(moodle: Moodle, start: int, size: int) -> list[int]:
    options = form("options", [{"name": "limitfrom", "value": start},
                               {"name": "limitnumber", "value": size},
                               {"name": "userfields", "value": "id"}])
    return [u["id"] for u in moodle.call("core_enrol_get_enrolled_users", courseid=2, **options)]


def test_enrolled_users_pages_cover_the_course_once(moodle: Moodle) -> None:
    everyone = [u["id"] for u in moodle.call("core_enrol_get_enrolled_users", courseid=2)]
    pages = [_page(moodle, start, 50) for start in range(0, len(everyone) + 50, 50)]
    assert [len(p) for p in pages[:-1]] == [50] * (len(pages) - 2) + [len(everyone) % 50]
    assert pages[-1] == []
    assert sum(pages, []) == everyone
    assert len(everyone) == 181  # 180 teachers and the methodologist


def test_userfields_keeps_only_asked_keys_plus_id_and_fullname(moodle: Moodle) -> None:
    options = form("options", [{"name": "userfields", "value": "id,username"}])
    users = moodle.call("core_enrol_get_enrolled_users", courseid=3, **options)
    assert users and all(set(u) == {"id", "username", "fullname"} for u in users)


def _enrolment(moodle: Moodle, userid: int, courseid: int) -> dict[str, int] | None:
    state = moodle.hook("GET", "state").get_json()
    found = [e for e in state["enrolments"] if (e["userid"], e["courseid"]) == (userid, courseid)]
    assert len(found) <= 1
    return found[0] if found else None


def test_reenrol_is_idempotent_and_updates_dates_and_suspension(moodle: Moodle) -> None:
    row = {"roleid": 5, "userid": 40, "courseid": 10, "timestart": 1796072400,
           "timeend": 1803762000}
    assert moodle.call(ENROL, **form("enrolments", [row])) is None
    assert moodle.call(ENROL, **form("enrolments", [row])) is None
    assert _enrolment(moodle, 40, 10)["timeend"] == 1803762000
    moodle.call(ENROL, **form("enrolments", [{**row, "timeend": 1806440400, "suspend": 1}]))
    assert _enrolment(moodle, 40, 10)["timeend"] == 1806440400
    assert _enrolment(moodle, 40, 10)["suspend"] == 1
    moodle.call(ENROL, **form("enrolments", [{"roleid": 5, "userid": 40, "courseid": 10}]))
    assert _enrolment(moodle, 40, 10) | {"timecreated": 0} == {
        "userid": 40, "courseid": 10, "roleid": 5, "timestart": 0, "timeend": 0,
        "suspend": 0, "timecreated": 0}


def test_unknown_user_fails_the_whole_enrol_batch(moodle: Moodle) -> None:
    rows = [{"roleid": 5, "userid": 41, "courseid": 11}, {"roleid": 5, "userid": 99999,
                                                          "courseid": 11}]
    answer = moodle.call(ENROL, **form("enrolments", rows))
    assert answer["exception"] == "TypeError" and "errorcode" not in answer
    assert _enrolment(moodle, 41, 11) is None


def test_suspended_enrolment_leaves_users_courses_and_onlyactive(moodle: Moodle) -> None:
    moodle.call(ENROL, **form("enrolments", [{"roleid": 5, "userid": 42, "courseid": 12,
                                              "suspend": 1}]))
    courses = [c["id"] for c in moodle.call("core_enrol_get_users_courses", userid=42)]
    assert 12 not in courses and 2 in courses
    options = form("options", [{"name": "onlyactive", "value": 1}])
    active = moodle.call("core_enrol_get_enrolled_users", courseid=12, **options)
    listed = moodle.call("core_enrol_get_enrolled_users", courseid=12)
    assert 42 not in {u["id"] for u in active} and 42 in {u["id"] for u in listed}


def test_unenrol_removes_and_tolerates_absent_enrolments(moodle: Moodle) -> None:
    rows = form("enrolments", [{"userid": 3, "courseid": 2}])
    assert moodle.call("enrol_manual_unenrol_users", **rows) is None
    assert moodle.call("enrol_manual_unenrol_users", **rows) is None
    assert _enrolment(moodle, 3, 2) is None


def test_mixed_message_batch_fails_but_stores_the_valid_message(moodle: Moodle) -> None:
    rows = [{"touserid": 13, "text": "Приглашение", "textformat": 1, "clientmsgid": "a1"},
            {"touserid": 99999, "text": "Нет такого", "textformat": 1, "clientmsgid": "a2"}]
    answer = moodle.call("core_message_send_instant_messages", **form("messages", rows))
    assert answer["errorcode"] == "formatnotsupported"
    stored = moodle.hook("GET", "state").get_json()["messages"]
    assert [(m["touserid"], m["clientmsgid"]) for m in stored] == [(13, "a1")]


def test_single_invalid_recipient_answers_msgid_minus_one(moodle: Moodle) -> None:
    rows = [{"touserid": 99999, "text": "x", "textformat": 2}]
    answer = moodle.call("core_message_send_instant_messages", **form("messages", rows))
    assert answer[0]["msgid"] == -1 and "errormessage" in answer[0]


@pytest.mark.parametrize(("mode", "status", "starts"), [
    ("http500", 500, "<h1>500"), ("html", 200, "<!DOCTYPE html>"),
    ("invalidtoken", 200, '{"exception"'),
])
def test_faults_fail_the_next_calls_then_stop(moodle: Moodle, mode: str, status: int,
                                              starts: str) -> None:
    fault = {"function": "core_webservice_get_site_info", "mode": mode, "times": 2}
    assert moodle.hook("POST", "faults", fault).status_code == 200
    for _ in range(2):
        answer = moodle.raw("core_webservice_get_site_info")
        assert answer.status_code == status
        assert answer.get_data(as_text=True).startswith(starts)
    assert moodle.call("core_webservice_get_site_info")["userid"] == moodle.site.ws_userid
    assert moodle.hook("GET", "state").get_json()["calls"]["core_webservice_get_site_info"] == 3


def test_timeout_fault_stalls_the_call() -> None:
    moodle = Moodle(timeout_seconds=0.2)
    moodle.hook("POST", "faults", {"function": "mod_quiz_get_user_attempts", "mode": "timeout"})
    started = time.perf_counter()
    assert moodle.raw("mod_quiz_get_user_attempts", quizid=1, userid=3).status_code == 504
    assert time.perf_counter() - started >= 0.2


def test_latency_hook_delays_every_call(moodle: Moodle) -> None:
    assert moodle.hook("POST", "latency", {"ms": 50}).get_json() == {"latency_ms": 50}
    started = time.perf_counter()
    for _ in range(3):
        moodle.call("core_webservice_get_site_info")
    assert time.perf_counter() - started >= 0.15
    assert moodle.hook("POST", "latency", {"ms": -1}).status_code == 400


def test_hooks_require_the_sandbox_token(moodle: Moodle) -> None:
    assert moodle.hook("GET", "state", token="wrong").status_code == 403
    assert moodle.client.get("/_sandbox/state").status_code == 403


def test_attempts_hook_adds_a_finished_attempt_seen_by_moodle_calls(moodle: Moodle) -> None:
    userid = next(u for u in range(3, 183) if not moodle.site.user_attempts(1, u))
    answer = moodle.hook("POST", "attempts", {"userid": userid, "fraction": 0.5})
    assert answer.status_code == 201 and answer.get_json()["sumgrades"] == 12
    attempts = moodle.call("mod_quiz_get_user_attempts", quizid=1, userid=userid)["attempts"]
    assert [a["state"] for a in attempts] == ["finished"]
    grades = moodle.call("gradereport_user_get_grade_items", courseid=2, userid=userid)
    assert grades["usergrades"][0]["gradeitems"][0]["graderaw"] == 50.0
    assert moodle.hook("POST", "attempts", {"userid": 99999}).status_code == 400


def test_final_hook_draws_the_final_attempts_again_after_what_was_studied(
        moodle: Moodle) -> None:
    site = moodle.site
    before = {a.userid: a.marks for a in site.attempts.values() if a.quiz == FINAL_QUIZ_ID}
    answer = moodle.hook("POST", "final")
    assert answer.status_code == 201 and answer.get_json()["attempts"] == len(before)
    # Nothing studied since the seed: the same teachers, the same marks.
    assert {a.userid: a.marks for a in site.attempts.values()
            if a.quiz == FINAL_QUIZ_ID} == before
    # Teachers who now complete a course of a competency do better in its slots.
    course = next(c for c in site.courses.values() if c.competencies and c.activities
                  and c.id != DIAG_COURSE_ID and c.category != 2)
    index = {c.id: i for i, c in enumerate(site.competencies.values())}
    slots = [k for k, q in enumerate(site.quizzes[FINAL_QUIZ_ID].questions)
             if q.competency in {index[c] for c in course.competencies}]
    takers = sorted(before)
    for user in takers:
        if (user, course.id) not in site.enrolments:
            assert moodle.hook("POST", "completions", {"userid": user, "courseid": course.id}
                               ).status_code == 400
            site.enrolments[(user, course.id)] = site.enrolments[(user, DIAG_COURSE_ID)]
        moodle.hook("POST", "completions", {"userid": user, "courseid": course.id})
    assert moodle.hook("POST", "final").status_code == 201
    after = {a.userid: a.marks for a in site.attempts.values() if a.quiz == FINAL_QUIZ_ID}
    assert set(after) == set(before)
    gained = sum(after[u][k] for u in takers for k in slots) - \
        sum(before[u][k] for u in takers for k in slots)
    assert gained > 0.05 * len(takers) * len(slots)
    assert moodle.hook("POST", "final", token="wrong").status_code == 403


def test_limited_token_lacks_functions(moodle: Moodle) -> None:
    info = moodle.call("core_webservice_get_site_info", token=LIMITED)
    assert [f["name"] for f in info["functions"]] == ["core_webservice_get_site_info"]
    answer = moodle.call("mod_quiz_get_user_attempts", token=LIMITED, quizid=1, userid=3)
    assert answer["errorcode"] == "accessexception"


def test_site_info_lists_served_functions_and_release(moodle: Moodle) -> None:
    info = moodle.call("core_webservice_get_site_info")
    assert info["release"] == "4.5dev+ (Build: 20240903)" and info["version"] == "2024090300"
    names = {f["name"] for f in info["functions"]}
    assert names - SERVICE_FUNCTIONS == {"core_calendar_delete_calendar_events"}
    assert SERVICE_FUNCTIONS <= names
    assert "песочница" in info["sitename"]


@pytest.mark.parametrize("fields", [
    {"quizid": 1, "userid": 3, "includepreviews": "true"},
    {"quizid": 1, "userid": 3, "foo": "bar"},
    {"userid": 3},
    {"quizid": "x", "userid": 3},
])
def test_invalid_parameters_answer_invalidparameter(moodle: Moodle, fields: dict) -> None:
    assert moodle.call("mod_quiz_get_user_attempts", **fields)["errorcode"] == "invalidparameter"


def test_get_and_xml_are_served(moodle: Moodle) -> None:
    answer = moodle.client.get("/webservice/rest/server.php", query_string={
        "wstoken": "behaviour-token", "wsfunction": "core_course_get_courses_by_field",
        "field": "shortname", "value": "diag-2026"})
    assert answer.content_type == "application/xml; charset=utf-8"
    assert '<KEY name="shortname"><VALUE>diag-2026</VALUE>' in answer.get_data(as_text=True)


def test_in_progress_attempt_has_null_sumgrades_and_zero_item_marks(moodle: Moodle) -> None:
    attempt = next(a for a in moodle.site.attempts.values() if a.state == "inprogress")
    review = moodle.call("mod_quiz_get_attempt_review", attemptid=attempt.id)
    assert review["grade"] is None and review["attempt"]["sumgrades"] is None
    assert {m["grade"] for m in review["attempt"]["gradeitemmarks"]} == {0}
    assert {q["mark"] for q in review["questions"]} == {""}
