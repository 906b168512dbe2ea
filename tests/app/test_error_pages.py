"""Error pages say what a reader may know: a settings error's variables, files and values
reach administrators only; methodologists get a reference the administrator finds in the
log; the methodologist's own policy errors stay readable."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from support import signed_in

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.analyse.policy_schema import PolicyError
from app.settings import SettingsError
from app.web.access import allow

SECRET_DETAIL = "PROFROUTE_MOODLE_URL is not set: read /etc/profroute/app.toml"


def add_failing_pages(app: Flask) -> None:
    @allow(METHODOLOGIST, ADMIN)
    def broken_settings() -> str:
        raise SettingsError(SECRET_DETAIL)

    @allow(METHODOLOGIST, ADMIN)
    def broken_policy() -> str:
        raise PolicyError("groups.subject.deficit_below", "1.5 — доля больше 1")

    app.add_url_rule("/_test/settings", "broken_settings", broken_settings)
    app.add_url_rule("/_test/policy", "broken_policy", broken_policy)


def test_settings_details_reach_administrators_only(app: Flask,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    add_failing_pages(app)
    methodologist = signed_in(app, "petrova", ("--role", "methodologist", "--region"))
    with caplog.at_level(logging.WARNING, logger="app.errors"):
        answer = methodologist.get("/_test/settings")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Запрос не принят" in page
    assert "PROFROUTE_" not in page and "/etc/" not in page
    assert "настроен не полностью или с ошибкой" in page
    reference = page.split("(код ", 1)[1].split(")", 1)[0]
    assert any(reference in r.getMessage() and SECRET_DETAIL in r.getMessage()
               for r in caplog.records)
    admin = signed_in(app, "admin", ("--role", "admin"))
    assert SECRET_DETAIL in admin.get("/_test/settings").get_data(as_text=True)
    # The methodologist's own policy: they read what to fix.
    policy = methodologist.get("/_test/policy").get_data(as_text=True)
    assert "1.5 — доля больше 1" in policy
