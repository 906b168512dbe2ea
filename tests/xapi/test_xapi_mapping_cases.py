"""Mapping of single statements: sites, actors, malformed input, kinds by verb and type."""

from __future__ import annotations

import pytest

from courses.events import ActivityCompletion, EnrolmentChange
from courses.records import CourseCompletion
from xapi import vocab
from xapi.mapping import map_statement, map_statements, normalise_site

SITE = "https://moodle.school.example/lms"


def completed_course(user: str = "7", home: str = SITE, course: str = "12", **extra) -> dict:
    return {"id": "s-1", "actor": {"account": {"homePage": home, "name": user}},
            "verb": {"id": vocab.VERB_COMPLETED},
            "object": {"id": f"{SITE}/course/view.php?id={course}",
                       "definition": {"type": vocab.TYPE_COURSE}},
            "timestamp": "2026-03-01T10:00:00+03:00", **extra}


def test_course_completed_on_a_site_in_a_subfolder_maps_with_utc_time() -> None:
    mapped = map_statement(completed_course(), SITE + "/")
    assert mapped.kind == "course_completed"
    assert mapped.events == (CourseCompletion(7, 12, True, None, 1772348400),)


def test_site_comparison_ignores_case_of_host_and_end_slash() -> None:
    assert normalise_site("HTTPS://Moodle.School.Example/lms/") == SITE
    assert map_statement(completed_course(home=SITE.upper().replace("/LMS", "/lms")),
                         SITE).kind == "course_completed"


def test_statement_of_another_site_is_foreign_not_unmapped() -> None:
    result = map_statements([completed_course(home="https://other.example")], SITE)
    assert result.counts == {"foreign": 1} and result.unmapped == [] and result.events == ()


@pytest.mark.parametrize(("statement", "reason"), [
    ({"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": vocab.VERB_COMPLETED}}, "account"),
    (completed_course(user="admin"), "user id"),
    (completed_course(course="x"), "integer 'id'"),
    (completed_course(timestamp=None), "timestamp"),
    (completed_course(timestamp="yesterday"), "isoformat"),
    ({**completed_course(), "object": {"id": "https://elsewhere.example/course/view.php?id=1",
                                       "definition": {"type": vocab.TYPE_COURSE}}}, "not on"),
    ({**completed_course(), "verb": {"id": "http://example.com/verbs/danced"}}, "no mapper"),
    ("not a statement", "JSON object"),
    ({**completed_course(), "actor": None}, "account"),
])
def test_malformed_statement_is_unmapped_with_a_reason(statement, reason: str) -> None:
    mapped = map_statement(statement, SITE)
    assert mapped.kind == "unmapped" and mapped.events == ()
    assert reason in mapped.reason


def test_map_statements_keeps_ids_or_indexes_of_unmapped_and_never_raises() -> None:
    bad = completed_course(user="x")
    del bad["id"]
    result = map_statements([completed_course(), bad, 42], SITE)
    assert result.counts == {"course_completed": 1, "unmapped": 2}
    assert [key for key, _ in result.unmapped] == [1, 2]
    assert len(result.events) == 1


def test_unknown_moodle_event_name_is_unmapped_and_named() -> None:
    statement = completed_course(context={"extensions": {vocab.EXT_MOODLE_INFO: {
        "event_name": "\\mod_forum\\event\\post_created"}}})
    mapped = map_statement(statement, SITE)
    assert mapped.kind == "unmapped" and "post_created" in mapped.reason


def module_statement(verb: str, result: dict | None) -> dict:
    statement = completed_course()
    statement.update(verb={"id": verb}, object={"id": f"{SITE}/mod/page/view.php?id=40"},
                     context={"contextActivities": {"parent": [
                         {"id": f"{SITE}/course/section.php?id=3"},
                         {"id": f"{SITE}/course/view.php?id=12"}]}})
    if result is not None:
        statement["result"] = result
    return statement


def test_activity_completion_by_verb_when_no_event_name() -> None:
    done = map_statement(module_statement(vocab.VERB_COMPLETED, {"completion": True}), SITE)
    undone = map_statement(module_statement(vocab.VERB_UNCOMPLETED, None), SITE)
    assert done.events == (ActivityCompletion(7, 12, 40, True, 1772348400),)
    assert undone.events == (ActivityCompletion(7, 12, 40, False, 1772348400),)


def test_completed_module_without_completion_result_is_not_guessed_a_completion() -> None:
    mapped = map_statement(module_statement(vocab.VERB_COMPLETED, {"score": {"raw": 1}}), SITE)
    assert mapped.kind == "unmapped"


def test_activity_completion_without_course_parent_is_unmapped() -> None:
    statement = module_statement(vocab.VERB_UNCOMPLETED, None)
    statement["context"] = {}
    assert "no course" in map_statement(statement, SITE).reason


@pytest.mark.parametrize(("verb", "kind"), [
    (vocab.VERB_ENROLLED, "created"), (vocab.VERB_LEFT, "deleted"),
    (vocab.VERB_SUSPENDED, "suspended"), (vocab.VERB_RESUMED, "resumed")])
def test_enrolment_changes_by_verb(verb: str, kind: str) -> None:
    statement = completed_course(verb={"id": verb})
    assert map_statement(statement, SITE).events == (EnrolmentChange(7, 12, kind, 1772348400),)


def test_enrolment_change_refuses_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        EnrolmentChange(1, 2, "paused", 0)  # type: ignore[arg-type]
