"""Sessions end on sign-out, password change and disable (a copied cookie too); the secret key is
required to serve; the password rule; cookie flags."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from support import PASSWORD, AppRunner, forget_login_per_request
from werkzeug.test import TestResponse

from app import create_app
from app.accounts.passwords import MIN_PASSWORD, password_problem
from app.settings import KEY_COMMAND, Settings, SettingsError

KEY = "k" * 40

ADMIN_ROLES = ("--role", "admin", "--role", "methodologist", "--region")


@pytest.fixture(autouse=True)
def login_per_request(app: Flask) -> None:
    """Each served request forgets the last one's user and CSRF token."""
    forget_login_per_request(app)


def add_methodologist(runner: AppRunner, login: str = "ivanova") -> None:
    result = runner.invoke(["web-user", "add", login, *ADMIN_ROLES, "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def token(client: FlaskClient, path: str = "/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, login: str = "ivanova", password: str = PASSWORD) -> int:
    return client.post("/login", data={"login": login, "password": password,
                                       "csrf_token": token(client)}).status_code


def signed_in(client: FlaskClient) -> bool:
    """Whether the client's session is of a signed-in user (the imports page needs one)."""
    return client.get("/imports").status_code == 200


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second client holding the same session cookie (a stolen or saved copy)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    return other


# --- the secret key -----------------------------------------------------------------------------

def test_the_app_refuses_to_serve_without_a_secret_key(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}")
    with pytest.raises(SettingsError) as err:
        create_app(settings)
    assert "PROFROUTE_SECRET_KEY is not set" in str(err.value)
    assert KEY_COMMAND in str(err.value)
    served = create_app(settings.replace(secret_key=KEY))
    assert served.config["SECRET_KEY"] == KEY
    # the tests and the commands that serve no page make a key of their own process
    assert len(create_app(settings, {"TESTING": True}).config["SECRET_KEY"]) >= 32
    assert create_app(settings, require_secret_key=False).config["SECRET_KEY"] != KEY


def test_a_short_secret_key_is_refused_without_being_shown() -> None:
    short = "kept-secret-but-short"
    with pytest.raises(SettingsError) as err:
        Settings.load({"PROFROUTE_SECRET_KEY": short})
    assert "PROFROUTE_SECRET_KEY" in str(err.value) and "at least 32" in str(err.value)
    assert short not in str(err.value) and KEY_COMMAND in str(err.value)
    assert Settings.load({"PROFROUTE_SECRET_KEY": KEY}).secret_key == KEY


def test_serve_names_the_missing_key(runner: AppRunner) -> None:
    result = runner.invoke(["serve", "--port", "1"])
    assert result.exit_code == 2
    assert "PROFROUTE_SECRET_KEY is not set" in result.output


# --- the session version ------------------------------------------------------------------------

def test_signing_out_ends_this_session_its_copies_and_the_others(
        app: Flask, client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    assert sign_in(client) == 302 and signed_in(client)
    copied = copy_of(app, client)
    elsewhere = app.test_client()
    assert sign_in(elsewhere) == 302
    assert signed_in(copied) and signed_in(elsewhere)

    assert client.post("/logout", data={"csrf_token": token(client, "/policy")}).status_code == 302
    assert not signed_in(client)
    assert not signed_in(copied)  # the cookie saved before the sign-out is dead
    assert not signed_in(elsewhere)
    assert sign_in(client) == 302 and signed_in(client)  # a new sign-in works


def test_a_password_change_ends_every_session(
        app: Flask, client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    assert sign_in(client) == 302
    copied = copy_of(app, client)
    new = "другой-пароль-методиста"
    assert runner.invoke(["web-user", "passwd", "ivanova", "--password-stdin"],
                         input=new + "\n").exit_code == 0
    assert not signed_in(client) and not signed_in(copied)
    assert sign_in(client) == 401 and sign_in(client, password=new) == 302


def test_disabling_ends_every_session_and_enabling_revives_none(
        app: Flask, client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    add_methodologist(runner, "boss")  # the last active admin could not be disabled
    assert sign_in(client) == 302
    copied = copy_of(app, client)
    assert runner.invoke(["web-user", "disable", "ivanova"]).exit_code == 0
    assert runner.invoke(["web-user", "enable", "ivanova"]).exit_code == 0
    assert not signed_in(client) and not signed_in(copied)
    assert sign_in(client) == 302 and signed_in(client)


def test_a_session_without_its_version_is_refused(
        client: FlaskClient, runner: AppRunner) -> None:
    add_methodologist(runner)
    assert sign_in(client) == 302 and signed_in(client)
    with client.session_transaction() as session:
        del session["profroute_session_version"]
    assert not signed_in(client)


def test_an_account_changed_by_another_process_counts_at_the_next_request(
        app: Flask, client: FlaskClient, runner: AppRunner) -> None:
    """A worker keeps the accounts it checked while their tables' change counters stay the
    same: a change written by plain SQL (another process) still counts at once."""
    add_methodologist(runner)
    add_methodologist(runner, "boss")
    assert sign_in(client) == 302 and signed_in(client)
    assert client.get("/admin/accounts").status_code == 200
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.begin() as connection:
        connection.execute(sa.text("DELETE FROM web_user_role WHERE role = 'admin' AND "
                                   "web_user_id = (SELECT id FROM web_user "
                                   "WHERE login = 'ivanova')"))
    assert client.get("/admin/accounts").status_code == 403  # the role is gone
    assert signed_in(client)  # still a methodologist
    with other.begin() as connection:
        connection.execute(sa.text("UPDATE web_user SET active = false "
                                   "WHERE login = 'ivanova'"))
    assert not signed_in(client)
    other.dispose()


# --- cookies ------------------------------------------------------------------------------------

def session_cookie(answer: TestResponse) -> str:
    cookies = [c for c in answer.headers.getlist("Set-Cookie")
               if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def sign_in_answer(client: FlaskClient, **kwargs: Any) -> TestResponse:
    page = client.get("/login", **kwargs).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return client.post("/login", data={"login": "ivanova", "password": PASSWORD,
                                       "csrf_token": found.group(1)}, **kwargs)


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
        app: Flask, runner: AppRunner) -> None:
    add_methodologist(runner)
    plain = session_cookie(sign_in_answer(app.test_client()))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    over_https = {"base_url": "https://localhost",  # Flask-WTF wants the referrer over HTTPS
                  "headers": {"Referer": "https://localhost/login"}}
    secure = session_cookie(sign_in_answer(app.test_client(), **over_https))
    assert "HttpOnly" in secure and "SameSite=Lax" in secure and "Secure" in secure
    # X-Forwarded-Proto is believed only from a configured proxy
    forwarded = {"headers": {"X-Forwarded-Proto": "https"}}
    assert "Secure" not in session_cookie(sign_in_answer(app.test_client(), **forwarded))


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(
        make_app: Callable[..., Flask]) -> None:
    proxied = make_app(trusted_proxies=1)
    forget_login_per_request(proxied)
    assert AppRunner(proxied).invoke(["web-user", "add", "ivanova", *ADMIN_ROLES, "--password-stdin"],
                                     input=PASSWORD + "\n").exit_code == 0
    forwarded = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3",
                             "Referer": "https://localhost/login"}}
    answer = sign_in_answer(proxied.test_client(), **forwarded)
    assert "Secure" in session_cookie(answer)
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


# --- the password rule --------------------------------------------------------------------------

@pytest.mark.parametrize(("password", "why"), [
    ("короткий", f"at least {MIN_PASSWORD} characters"),
    ("qwerty123456", "most common"),
    ("1Q2W3E4R5T6Y", "most common"),
    ("парольпароль", "most common"),  # "gfhjkmgfhjkm" typed in the Russian layout
    ("abcabcabcabcabc", "repeated"),
    ("ivanova.metodist", "the login"),
])
def test_the_password_rule_says_why_a_password_is_refused(password: str, why: str) -> None:
    problem = password_problem(password, "Ivanova.Metodist")
    assert problem is not None and why in problem


@pytest.mark.parametrize("password", [PASSWORD, "синий-трамвай-едет-в-депо", "x9#Lq2!vT0pZ"])
def test_the_password_rule_lets_a_long_uncommon_password_pass(password: str) -> None:
    assert password_problem(password, "ivanova") is None


def test_web_user_says_why_a_password_is_refused_and_never_shows_it(
        runner: AppRunner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    add_methodologist(runner)
    common = runner.invoke(["web-user", "passwd", "ivanova", "--password-stdin"],
                           input="1qaz2wsx3edc\n")
    assert common.exit_code == 2 and "most common passwords" in common.output
    short = runner.invoke(["web-user", "add", "petrova", *ADMIN_ROLES, "--password-stdin"],
                          input="пароль-2026\n")
    assert short.exit_code == 2 and "at least 12 characters (this one has 11)" in short.output
    logged = "".join(r.getMessage() for r in caplog.records) + common.output + short.output
    assert "1qaz2wsx3edc" not in logged and "пароль-2026" not in logged
