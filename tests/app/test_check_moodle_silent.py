"""check-moodle names the capability whose absence would make Moodle answer a read short
WITHOUT an error: accessallgroups for a course in separate groups mode, viewdetails when
users ProfRoute knows are hidden, viewhiddencourses for a hidden target course."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from flask import Flask
from sandbox.sandbox_support import TOKEN, serving
from support import AppRunner

from config import DEMO_DIR
from lms_connectors.moodle.sandbox import PLUGIN_ROLE, create_app
from lms_connectors.moodle.sandbox.store import SEPARATEGROUPS, Site

ALL_GROUPS = "moodle/site:accessallgroups"


def check(make_app: Callable[..., Flask], capabilities: Iterable[str],
          prepare: Callable[[Site], None], sync_first: bool = False) -> tuple[int, dict]:
    """import-catalogue (and a sync with the plugin's role), then check-moodle --json with
    the token's role set to ``capabilities`` on a site ``prepare`` changed."""
    moodle = create_app(TOKEN, teachers=30)
    prepare(moodle.extensions["moodle_sandbox"].site)
    with serving(moodle) as url:
        app = make_app(moodle_url=url, moodle_token=TOKEN, moodle_retries=0)
        imported = AppRunner(app).invoke(("import-catalogue", str(DEMO_DIR)))
        assert imported.exit_code == 0, imported.output
        if sync_first:
            assert AppRunner(app).invoke(("sync",)).exit_code == 0
        role = moodle.extensions["moodle_sandbox_tokens"][TOKEN].capabilities
        role.clear()
        role.update(capabilities)
        result = AppRunner(app).invoke(("check-moodle", "--json"))
    return result.exit_code, json.loads(result.output)


def separate(shortnames: tuple[str, ...]) -> Callable[[Site], None]:
    def prepare(site: Site) -> None:
        for course in site.courses.values():
            if course.shortname in shortnames:
                course.groupmode = SEPARATEGROUPS
    return prepare


def failed(report: dict) -> dict[str, str]:
    return {line["name"]: line["detail"] for line in report["checks"] if not line["ok"]}


def test_a_separate_groups_target_course_without_accessallgroups_is_named_with_its_fix(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, PLUGIN_ROLE - {ALL_GROUPS}, separate(("pk-digital",)))
    assert code == 1
    lines = failed(report)
    assert list(lines) == ["course pk-digital: participants"]  # every loud probe answered
    detail = lines["course pk-digital: participants"]
    assert "core_enrol_get_enrolled_users" in detail and "WITHOUT an error" in detail
    assert f"Allow {ALL_GROUPS} in the role" in detail and "Define roles" in detail
    assert "«No groups»" in detail


def test_with_accessallgroups_a_separate_groups_course_passes(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, PLUGIN_ROLE, separate(("pk-digital", "diag-2026")))
    assert code == 0, failed(report)


def test_a_separate_groups_diagnostic_course_is_named_before_its_empty_teacher_list(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, PLUGIN_ROLE - {ALL_GROUPS}, separate(("diag-2026",)))
    assert code == 1
    lines = failed(report)
    assert ALL_GROUPS in lines["course diag-2026: participants"]
    assert "nobody holds the role" in lines["teachers"]  # what the short answer looks like


def test_known_teachers_hidden_from_the_role_name_viewdetails(
        make_app: Callable[..., Flask]) -> None:
    code, report = check(make_app, PLUGIN_ROLE - {"moodle/user:viewdetails"},
                         separate(()), sync_first=True)
    assert code == 1
    lines = failed(report)
    assert "moodle/user:viewdetails" in lines["user details"]
    assert "core_user_get_users_by_field" in lines["user details"]


def test_a_hidden_target_course_names_viewhiddencourses(make_app: Callable[..., Flask]) -> None:
    def hide(site: Site) -> None:
        next(c for c in site.courses.values() if c.shortname == "pk-math").visible = False

    code, report = check(make_app, PLUGIN_ROLE - {"moodle/course:viewhiddencourses"}, hide)
    assert code == 1
    assert "moodle/course:viewhiddencourses" in failed(report)["course pk-math"]
