"""check-moodle probes, per target course, every read the push makes before it writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import pytest
from flask import Flask
from sandbox.sandbox_support import TOKEN, serving
from support import AppRunner

from config import DEMO_DIR
from lms_connectors.moodle.functions import ROLE_CAPABILITIES, missing_capability
from lms_connectors.moodle.sandbox import create_app

ROLE = frozenset(ROLE_CAPABILITIES)


def check(make_app: Callable[..., Flask], capabilities: Iterable[str]) -> tuple[int, dict]:
    """import-catalogue, then check-moodle --json against a sandbox holding that role."""
    with serving(create_app(TOKEN, capabilities=capabilities, teachers=30)) as url:
        app = make_app(moodle_url=url, moodle_token=TOKEN, moodle_retries=0)
        imported = AppRunner(app).invoke(("import-catalogue", str(DEMO_DIR)))
        assert imported.exit_code == 0, imported.output
        result = AppRunner(app).invoke(("check-moodle", "--json"))
    return result.exit_code, json.loads(result.output)


def course_lines(report: dict) -> list[dict]:
    return [c for c in report["checks"] if c["name"].endswith(": reads")]


def test_the_plugin_role_on_a_fresh_site_passes(make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, ROLE)
    assert code == 0, report
    lines = course_lines(report)
    assert lines and all(line["ok"] for line in lines)


def test_a_role_that_cannot_see_participants_fails_naming_it_and_the_fix(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, ROLE - {"moodle/course:enrolreview",
                                           "moodle/course:viewparticipants"})
    assert code == 1
    failed = [line for line in course_lines(report) if not line["ok"]]
    assert failed and len(failed) == len(course_lines(report))
    for line in failed:
        assert "core_enrol_get_enrolled_users" in line["detail"]
        assert "missing capability moodle/course:viewparticipants" in line["detail"]
        assert "Define roles" in line["detail"] and "upgrade" in line["detail"]


def test_the_read_back_is_probed_as_the_push_reads_it(make_app: Callable[..., Flask]) -> None:
    # the push reads every enrolment (no onlyactive), so enrolreview alone is not needed
    code, report = check(make_app, ROLE - {"moodle/course:enrolreview"})
    assert code == 0, [line for line in course_lines(report) if not line["ok"]]


def test_a_role_that_cannot_manage_groups_names_that(make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, ROLE - {"moodle/course:managegroups"})
    assert code == 1
    details = " ".join(line["detail"] for line in course_lines(report) if not line["ok"])
    assert "core_group_get_course_groups" in details
    assert "missing capability moodle/course:managegroups" in details


@pytest.mark.parametrize(("errorcode", "message", "expected"), [
    ("nopermissions", "Sorry, but you do not currently have permissions to do that "
                      "(Review course enrolments).", "moodle/course:enrolreview"),
    ("errorcoursecontextnotvalid", "You cannot execute functions in the course context",
     "moodle/course:view"),
    ("requireloginerror", "Course or activity not accessible.", "moodle/course:view"),
    ("nopermissions", "Sorry (Something Moodle names otherwise).", None),
    ("invalidrecord", "Can't find data record", None),
])
def test_the_missing_capability_is_read_from_moodles_answer(errorcode: str, message: str,
                                                           expected: str | None) -> None:
    assert missing_capability("core_enrol_get_enrolled_users", errorcode, message) == expected


def test_a_role_that_cannot_enter_courses_is_named_by_every_course_read(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, ROLE - {"moodle/course:view"})
    assert code == 1
    line = next(line for line in course_lines(report) if not line["ok"])
    for function in ("core_enrol_get_enrolled_users", "core_group_get_course_groups",
                     "core_calendar_get_calendar_events"):
        assert function in line["detail"]
    assert "missing capability moodle/course:view" in line["detail"]
