"""Security headers on every response, no inline script or style in the templates, and the
sign-in rate limits shared through the database by every worker."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import PASSWORD, AppRunner, forget_login_per_request
from werkzeug.test import TestResponse

from app import create_app
from app.settings import Settings, SettingsError
from app.web.access import public
from app.web.security import DatabaseStorage

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"
MOODLE = "https://moodle.example.ru"

ADMIN_ROLES = ("--role", "admin", "--role", "methodologist", "--region")


@pytest.fixture(autouse=True)
def login_per_request(app: Flask) -> None:
    forget_login_per_request(app)


def add_methodologist(runner: AppRunner, login: str = "ivanova") -> None:
    result = runner.invoke(["web-user", "add", login, *ADMIN_ROLES, "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def sign_in(client: FlaskClient, login: str = "ivanova", password: str = PASSWORD,
            **kwargs: Any) -> TestResponse:
    page = client.get("/login", **kwargs).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return client.post("/login", data={"login": login, "password": password,
                                       "csrf_token": found.group(1)},
                       **kwargs)


# --- headers ------------------------------------------------------------------------------------

def test_every_kind_of_response_carries_the_security_headers(
        client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    answers = {
        "page": client.get("/login"),
        "redirect": client.get("/imports"),
        "api": client.get("/api/policy"),
        "not found": client.get("/no-such-page"),
        "static": client.get("/static/profroute.css"),
        "refused form": client.post("/policy", data={}),
        "refused sign-in": sign_in(client, password="не-тот-пароль-совсем"),
    }
    for kind, answer in answers.items():
        headers = answer.headers
        policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy, kind
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy, kind
        assert headers.get("X-Content-Type-Options") == "nosniff", kind
        assert headers.get("Referrer-Policy") == "same-origin", kind
        assert headers.get("X-Frame-Options") == "SAMEORIGIN", kind
        assert "Strict-Transport-Security" not in headers, kind  # plain HTTP here
    assert answers["static"].status_code == 200


def test_registered_moodle_origins_may_frame_the_pages(make_app: Callable[..., Flask]) -> None:
    framed = make_app(frame_ancestors=f"{MOODLE} https://lms.example.ru:8443")
    headers = framed.test_client().get("/login").headers
    assert headers["Content-Security-Policy"].endswith(
        f"frame-ancestors 'self' {MOODLE} https://lms.example.ru:8443")
    assert "X-Frame-Options" not in headers  # it cannot name other origins


@pytest.mark.parametrize("origins", ["*", "https://moodle.example.ru/course", "moodle.example.ru"])
def test_a_framing_origin_must_be_a_plain_origin(origins: str) -> None:
    with pytest.raises(SettingsError, match="PROFROUTE_FRAME_ANCESTORS"):
        Settings.load({"PROFROUTE_FRAME_ANCESTORS": origins})


def test_a_view_may_set_its_own_policy(app: Flask) -> None:
    @app.get("/_own_policy")
    @public
    def own_policy() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"Content-Security-Policy": "default-src 'none'"}

    headers = app.test_client().get("/_own_policy").headers
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_templates_hold_no_inline_script_or_style() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)
    for template in sorted(TEMPLATES.glob("*.html")):
        found = inline.search(template.read_text(encoding="utf-8"))
        assert found is None, f"{template.name}: {found.group(0) if found else ''}"


# --- rate limits --------------------------------------------------------------------------------

def test_failed_sign_ins_of_one_login_are_limited_with_a_russian_429(
        app: Flask, runner: AppRunner) -> None:
    add_methodologist(runner)
    add_methodologist(runner, "petrova")
    for _ in range(5):  # the default: 5 per 15 minutes
        assert sign_in(app.test_client(), password="неверный-пароль-123").status_code == 401
    refused = sign_in(app.test_client())  # even the right password now
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Слишком много неудачных попыток входа" in page and "Повторите через" in page
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert re.search(r"через (1[0-5]|[1-9]) мин\.", page)
    # the same login in other letters is the same account's limit; another login is free
    assert sign_in(app.test_client(), " IVANOVA ").status_code == 429
    assert sign_in(app.test_client(), "petrova").status_code == 302


def test_successful_sign_ins_do_not_count(app: Flask, runner: AppRunner) -> None:
    add_methodologist(runner)
    for _ in range(8):
        assert sign_in(app.test_client()).status_code == 302


def test_failed_sign_ins_from_one_address_are_limited_across_logins(
        make_app: Callable[..., Flask]) -> None:
    limited = make_app(login_limit_address="3 per hour")
    forget_login_per_request(limited)
    AppRunner(limited).invoke(["web-user", "add", "ivanova", *ADMIN_ROLES, "--password-stdin"],
                              input=PASSWORD + "\n")
    here, elsewhere = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "203.0.113.8"}
    for login in ("a-login", "b-login", "c-login"):
        assert sign_in(limited.test_client(), login, environ_base=here).status_code == 401
    assert sign_in(limited.test_client(), environ_base=here).status_code == 429
    assert sign_in(limited.test_client(), environ_base=elsewhere).status_code == 302


def test_two_workers_on_one_database_share_the_count(
        app: Flask, settings: Settings, runner: AppRunner) -> None:
    add_methodologist(runner)
    other = create_app(settings, {"TESTING": True})  # a second worker: its own app, same data
    forget_login_per_request(other)
    for worker in (app, other, app, other, app):
        assert sign_in(worker.test_client(), password="неверный-пароль-123"
                       ).status_code == 401
    assert sign_in(other.test_client()).status_code == 429
    assert sign_in(app.test_client()).status_code == 429


def test_the_database_storage_counts_windows(app: Flask) -> None:
    storage = DatabaseStorage()
    assert storage.check()
    assert (storage.incr("k", 3600), storage.incr("k", 3600, amount=2)) == (1, 3)
    assert storage.get("k") == 3 and storage.get_expiry("k") > time.time() + 3000
    assert storage.incr("gone", 0) == 1  # a window of no length has closed already
    assert storage.get("gone") == 0 and storage.incr("gone", 3600) == 1
    long_key = "login:" + "я" * 400
    assert storage.incr(long_key, 3600) == 1 and storage.incr(long_key, 3600) == 2
    storage.clear("k")
    assert storage.get("k") == 0 and storage.get(long_key) == 2
    assert storage.reset() == 2 and storage.get(long_key) == 0
