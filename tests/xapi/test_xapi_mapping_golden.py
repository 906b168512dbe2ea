"""Golden tests: every case of Moodle's xAPI log store maps to the expected domain events."""

from __future__ import annotations

import copy

import pytest

from courses.events import ActivityCompletion, EnrolmentChange
from courses.records import CourseCompletion
from deficits.records import QuizAttempt
from xapi import vocab
from xapi.mapping import map_statements

SITE = "http://www.example.org"  # the plugin tests' app_url and account_homepage
T = 1433946701  # common.statement.json timestamp 2015-06-10T14:31:41Z = event timecreated
QUIZ = QuizAttempt(attempt_id=1, quiz_id=1, user_id=1, attempt_no=0, state="finished",
                   time_start=T - 1, time_finish=T, sumgrades=50.0)  # duration PT1S, raw 50

# case -> (kind of each statement in order, domain events)
EXPECTED: dict[str, tuple[list[str], list[object]]] = {
    "core__course_completed__completing_existing_course":
        (["course_completed"], [CourseCompletion(1, 2, True, None, T)]),
    "core__course_completion_updated__course_completion_updated":
        (["course_completion_updated"], []),
    "core__course_module_completion_update__completing_existing_module":
        (["activity_completion"], [ActivityCompletion(1, 2, 1, True, T)]),
    "core__course_module_completion_update__uncompleting_existing_module":
        (["activity_completion"], [ActivityCompletion(1, 2, 1, False, T)]),
    "core__course_viewed__viewing_existing_course": (["viewed"], []),
    "core__user_enrolment_created__existing_user_enrolled":
        (["enrolment"], [EnrolmentChange(2, 2, "created", T)]),
    "core__user_enrolment_deleted__existing_user_enrolment_deleted":
        (["enrolment"], [EnrolmentChange(2, 2, "deleted", T)]),
    "core__user_enrolment_updated__user_resumed_course":
        (["enrolment"], [EnrolmentChange(2, 2, "resumed", T)]),
    "core__user_enrolment_updated__user_suspended_course":
        (["enrolment"], [EnrolmentChange(2, 2, "suspended", T)]),
    "mod_assign__assignment_graded__existing_assignment_graded_comment": (["unmapped"], []),
    "mod_assign__assignment_graded__existing_assignment_graded_nocomment": (["unmapped"], []),
    "mod_quiz__attempt_reviewed__existing_attempt_reviewed": (["quiz_attempt_reviewed"], []),
    "mod_quiz__attempt_started__existing_attempt_started": (["quiz_attempt_started"], []),
    "mod_quiz__attempt_submitted__essay": (["quiz_attempt", "question"], [QUIZ]),
    "mod_quiz__attempt_submitted__multichoice": (["quiz_attempt", "question"], [QUIZ]),
    "mod_quiz__attempt_submitted__no_questions": (["quiz_attempt"], [QUIZ]),
    "mod_quiz__attempt_submitted__truefalse": (["quiz_attempt", "question"], [QUIZ]),
    "mod_quiz__course_module_viewed__existing_module": (["viewed"], []),
    "mod_quiz__question_manually_graded": (["unmapped"], []),
    "mod_scorm__scoreraw_submitted__existing_scoreraw_submitted": (["unmapped"], []),
}
MAPPED_KINDS = {"course_completed", "activity_completion", "enrolment", "quiz_attempt",
                "question", "viewed"}


def quiz_ids(data: dict) -> dict[int, int]:
    """cmid -> quiz id, from the case's course_modules rows (what the app knows of its quiz)."""
    return {cm["id"]: cm["instance"] for cm in data["course_modules"]}


def test_every_golden_case_has_an_expectation(case_names) -> None:
    assert case_names == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_log_store_case_maps_to_expected_events(case: str, load_case) -> None:
    _, statements, data = load_case(case)
    kinds, events = EXPECTED[case]
    result = map_statements(statements, SITE, quiz_ids=quiz_ids(data))
    assert list(result.events) == events
    assert sum(result.counts.values()) == len(statements) == len(kinds)
    for kind in set(kinds):
        assert result.counts[kind] == kinds.count(kind)
    assert len(result.unmapped) == kinds.count("unmapped")
    assert all(reason for _, reason in result.unmapped)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_expectation_table_agrees_with_the_moodle_event(case: str, load_case) -> None:
    event, statements, _ = load_case(case)
    _, events = EXPECTED[case]
    for domain_event in events:
        assert domain_event.user_id == int(statements[0]["actor"]["account"]["name"])
        assert domain_event.user_id in (event.get("relateduserid"), event.get("userid"))
        assert getattr(domain_event, "course_id", event["courseid"]) == event["courseid"]
        times = [getattr(domain_event, name, None)
                 for name in ("time", "time_completed", "time_finish")]
        assert event["timecreated"] in times


@pytest.mark.parametrize("case", sorted(c for c, (k, _) in EXPECTED.items()
                                        if set(k) <= MAPPED_KINDS))
def test_without_event_name_the_verb_and_type_give_the_same_events(case: str, load_case) -> None:
    _, statements, data = load_case(case)
    stripped = copy.deepcopy(statements)
    for statement in stripped:
        del statement["context"]["extensions"][vocab.EXT_MOODLE_INFO]
    result = map_statements(stripped, SITE, quiz_ids=quiz_ids(data))
    assert list(result.events) == EXPECTED[case][1]
    assert result.unmapped == []


def test_quiz_attempt_of_an_unknown_quiz_is_reported_not_guessed(load_case) -> None:
    _, statements, _ = load_case("mod_quiz__attempt_submitted__multichoice")
    result = map_statements(statements, SITE)
    assert result.events == ()
    assert result.counts == {"unmapped": 1, "question": 1}
    assert "quiz_ids" in result.unmapped[0][1] and result.unmapped[0][0] == 0
