"""The web UI needs a signed-in user for every page with data, and the form's CSRF token for
every change."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support import PASSWORD, AppRunner, forget_login_per_request

from app.extensions import db
from app.models import PolicyRevision, SchoolResult, WebUser

POLICY_FORM = {"deficit_below": "55", "risk_below": "75", "min_questions": "2",
               "attempt_policy": "last", "overrides": "", "comment": "Решение методсовета"}
RESULTS = ("Код ОО;Наименование ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл\n"
           "16104;МБОУ «СОШ № 4»;2025;ВПР;Математика;5;12,5\n").encode("cp1251")


@pytest.fixture(autouse=True)
def login_per_request(app: Flask) -> None:
    """Each served request forgets the last one's user and CSRF token."""
    forget_login_per_request(app)


REGION = ("--role", "methodologist", "--region")


def add_methodologist(runner: AppRunner, login: str = "ivanova",
                      name: str = "Иванова М. П.") -> None:
    result = runner.invoke(["web-user", "add", login, "--name", name, *REGION,
                            "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def token(client: FlaskClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, login: str = "ivanova", password: str = PASSWORD,
            next_page: str = "") -> object:
    return client.post("/login", data={"login": login, "password": password,
                                       "csrf_token": token(client), "next": next_page})


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_no_page_with_data_opens_without_a_login_and_the_api_answers_401(
        client: FlaskClient) -> None:
    for page in ("/", "/teachers?q=%25", "/indicators", "/policy", "/imports", "/dynamics"):
        answer = client.get(page)
        assert answer.status_code == 302, page
        assert answer.headers["Location"].startswith("/login?next="), page
    refused = client.get("/api/policy")
    assert refused.status_code == 401 and refused.get_json()["code"] == 401
    page = client.get("/login").get_data(as_text=True)
    assert "Войти" in page and "/teachers" not in page  # the menu shows nothing closed


def test_a_post_without_login_redirects_to_login_and_changes_nothing(
        app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # this test is about the login, not CSRF
    for path, data in (("/policy", POLICY_FORM), ("/policy/recompute", {}),
                       ("/imports/identify", {"apply": "1"})):
        answer = client.post(path, data=data)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login?next=")
    answer = client.post("/imports/results", data={"files": (io.BytesIO(RESULTS), "vpr.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert count(PolicyRevision) == 0 and count(SchoolResult) == 0


def test_a_post_without_the_csrf_token_is_refused_even_when_signed_in(
        client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    assert sign_in(client).status_code == 302
    refused = client.post("/policy", data=POLICY_FORM)
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True) and count(PolicyRevision) == 0
    forged = client.post("/policy", data=POLICY_FORM | {"csrf_token": "forged"})
    assert forged.status_code == 400 and count(PolicyRevision) == 0
    saved = client.post("/policy", data=POLICY_FORM | {"csrf_token": token(client, "/policy")})
    assert saved.status_code == 302 and count(PolicyRevision) == 1


def test_an_anonymous_post_with_a_valid_token_still_needs_the_login(
        client: FlaskClient) -> None:
    answer = client.post("/policy", data=POLICY_FORM | {"csrf_token": token(client)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login?next=%2Fpolicy"
    assert count(PolicyRevision) == 0


def test_sign_in_refuses_a_wrong_password_and_a_disabled_login_then_signs_out(
        app: Flask, client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    wrong = sign_in(client, password="не-тот-пароль")
    assert wrong.status_code == 401
    assert "Неверный логин или пароль" in wrong.get_data(as_text=True)
    assert sign_in(client, login="nobody").status_code == 401
    assert client.get("/imports").status_code == 302

    answer = sign_in(client, next_page="/imports")
    assert answer.status_code == 302 and answer.headers["Location"] == "/imports"
    page = client.get("/imports").get_data(as_text=True)
    assert "Иванова М. П." in page and "Выйти" in page

    assert runner.invoke(["web-user", "disable", "ivanova"]).exit_code == 0
    assert client.get("/imports").status_code == 302  # the open session ends
    assert sign_in(app.test_client()).status_code == 401

    assert runner.invoke(["web-user", "enable", "ivanova"]).exit_code == 0
    assert sign_in(client).status_code == 302
    out = client.post("/logout", data={"csrf_token": token(client, "/policy")})
    assert out.status_code == 302 and client.get("/imports").status_code == 302


def test_sign_in_never_sends_the_user_to_another_site(app: Flask, runner: AppRunner) -> None:
    add_methodologist(runner)
    for target in ("https://evil.example/", "//evil.example/x", "policy"):
        answer = sign_in(app.test_client(), next_page=target)
        assert answer.status_code == 302 and answer.headers["Location"] == "/", target


def test_web_user_commands_never_show_or_log_the_password(
        app: Flask, runner: AppRunner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add_methodologist(runner, "petrova", "Петрова А. С.")
    typed = runner.invoke(["web-user", "add", "sidorov", "--name", "Сидоров", *REGION],
                          input="ещё-один-пароль\nещё-один-пароль\n")
    assert typed.exit_code == 0 and "ещё-один-пароль" not in typed.output
    again = runner.invoke(["web-user", "add", "petrova", "--role", "admin", "--password-stdin"],
                          input=PASSWORD + "\n")
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(["web-user", "add", "kozlov", "--role", "admin", "--password-stdin"],
                          input="123\n")
    assert short.exit_code == 2 and "at least 12" in short.output
    changed = runner.invoke(["web-user", "passwd", "petrova", "--password-stdin"],
                            input="новый-пароль-2026\n")
    assert changed.exit_code == 0
    listed = runner.invoke(["web-user", "list"])
    users = json.loads(listed.output)
    assert [u["login"] for u in users] == ["petrova", "sidorov"]
    assert all(set(u) == {"login", "name", "active", "created", "roles"} for u in users)
    everything = listed.output + "".join(r.getMessage() for r in caplog.records)
    for secret in (PASSWORD, "ещё-один-пароль", "новый-пароль-2026"):
        assert secret not in everything
    stored = db.session.scalars(select(WebUser).filter_by(login="petrova")).one()
    assert stored.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert sign_in(app.test_client(), "petrova", "новый-пароль-2026").status_code == 302
