"""The sandbox answers the silent refusal of a separate-groups course exactly like the kit's
Moodle 4.5 did (tests/recordings/moodle/*separategroups*, *groupid_probe*): same role (the
plugin's, less moodle/site:accessallgroups in the course), same course (4, pk-digital)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sandbox.sandbox_support import Moodle

from lms_connectors.moodle.sandbox import PLUGIN_ROLE
from lms_connectors.moodle.sandbox.store import SEPARATEGROUPS

FOLDER = Path(__file__).resolve().parents[1] / "recordings" / "moodle"
COURSE = 4


def recording(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))


def replay(doc: dict[str, Any], capabilities: frozenset[str]) -> Any:
    moodle = Moodle(capabilities=capabilities)
    course = moodle.site.courses[COURSE]
    assert course.shortname == "pk-digital"  # the recorded course
    course.groupmode = SEPARATEGROUPS
    return moodle.call(doc["function"], **doc["params"])


@pytest.mark.parametrize("name", [
    "core_enrol_get_enrolled_users__separategroups_without_accessallgroups",
    "core_enrol_get_enrolled_users__groupid_probe_without_accessallgroups",
])
def test_without_accessallgroups_the_sandbox_answers_as_recorded(name: str) -> None:
    doc = recording(name)
    assert replay(doc, PLUGIN_ROLE - {"moodle/site:accessallgroups"}) == doc["response"]


def test_with_accessallgroups_the_same_calls_answer_everyone_and_nobody() -> None:
    listed = replay(recording(
        "core_enrol_get_enrolled_users__separategroups_without_accessallgroups"), PLUGIN_ROLE)
    assert isinstance(listed, list) and listed
    assert replay(recording(
        "core_enrol_get_enrolled_users__groupid_probe_without_accessallgroups"), PLUGIN_ROLE) == []


def test_the_course_answer_tells_the_group_mode_as_recorded() -> None:
    doc = recording("core_course_get_courses_by_field__separategroups")
    answer = replay(doc, PLUGIN_ROLE)
    keys = ("id", "shortname", "groupmode", "groupmodeforce", "visible")
    assert [{k: c[k] for k in keys} for c in answer["courses"]] == [
        {k: c[k] for k in keys} for c in doc["response"]["courses"]]
    assert answer["warnings"] == doc["response"]["warnings"]
