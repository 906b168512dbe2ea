"""Pages launched in Moodle's iframe: the launched session's cookie is ``SameSite=None; Secure;
Partitioned`` over HTTPS (password sign-ins keep Lax), and ``frame-ancestors`` names the
registered platforms' origins, read from the database at most once a minute."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lti_support import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    LEARNER,
    TOOL,
    Platform,
    launch,
    login_initiation,
    running_platform,
)
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from support import AppRunner, forget_login_per_request

from app.extensions import db
from app.lti import platforms
from app.lti.platforms import add_platform
from app.models import LtiPlatform, Teacher, WebUser

PASSWORD = "Пароль-для-теста-12"  # noqa: S105  (a throw-away test value)


@pytest.fixture
def platform(app: Flask) -> Iterator[Platform]:
    """The test platform, registered with the tool; teacher 5 exists."""
    forget_login_per_request(app)
    with running_platform() as running:
        add_platform(issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=DEPLOYMENT_ID,
                     key_set_url=running.keyset_url)
        db.session.add(Teacher(moodle_user_id=5, username="petrova", lastname="Петрова",
                               firstname="Анна"))
        db.session.commit()
        yield running


def session_cookies(answer: object) -> list[str]:
    """The ``session`` Set-Cookie lines of an answer, in order."""
    return [c for c in answer.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
            if c.startswith("session=")]


def kept(cookies: list[str]) -> list[str]:
    """The lines that set a value (not the ones expiring a cookie)."""
    return [c for c in cookies if not c.startswith("session=;")]


def expired(cookies: list[str]) -> list[str]:
    return [c for c in cookies if c.startswith("session=;") and "Max-Age=0" in c]


def launched(client: FlaskClient, platform: Platform, base_url: str = TOOL) -> object:
    state, nonce, _initiation = login_initiation(client)
    return launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)


def password_sign_in(client: FlaskClient, runner: AppRunner, base_url: str) -> object:
    if not any(u.login == "ivanova" for u in db.session.query(WebUser)):
        result = runner.invoke(["web-user", "add", "ivanova", "--role", "admin",
                                "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    headers = {"Referer": f"{base_url}/login"}  # Flask-WTF wants the referrer over HTTPS
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return client.post("/login", base_url=base_url, headers=headers, data={
        "login": "ivanova", "password": PASSWORD, "csrf_token": token.group(1)})


def test_a_launch_over_https_carries_its_session_in_a_partitioned_samesite_none_cookie(
        client: FlaskClient, platform: Platform) -> None:
    answer = launched(client, platform)
    assert answer.status_code == 302  # type: ignore[attr-defined]
    cookies = session_cookies(answer)
    [cookie] = kept(cookies)
    flags = set(cookie.split("; ")[1:])
    assert {"Secure", "HttpOnly", "SameSite=None", "Partitioned"} <= flags
    # an unpartitioned cookie of the same name (say, of a password sign-in) is expired beside it
    [old] = expired(cookies)
    assert "Partitioned" not in old
    page = client.get("/teachers/5", base_url=TOOL)  # the next page, as in the frame
    assert page.status_code == 200
    assert all("SameSite=None" in c and "Partitioned" in c for c in kept(session_cookies(page)))


def test_the_launch_state_cookies_are_partitioned_over_https(
        client: FlaskClient, platform: Platform) -> None:
    _state, _nonce, initiation = login_initiation(client)
    cookies = initiation.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    assert all({"Secure", "SameSite=None", "Partitioned"} <= set(c.split("; ")) for c in cookies)


def test_a_launch_over_plain_http_keeps_lax_as_browsers_refuse_none_without_secure(
        client: FlaskClient, platform: Platform) -> None:
    http = TOOL.replace("https://", "http://")
    initiation = client.post("/lti/login", base_url=http, data={
        "iss": ISSUER, "target_link_uri": http + "/lti/launch", "login_hint": "5",
        "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT_ID})
    cookies = initiation.headers.getlist("Set-Cookie")
    assert cookies and not any("SameSite=None" in c or "Partitioned" in c for c in cookies)
    state = re.search(r"[?&]state=([^&]+)", initiation.headers["Location"])
    nonce = re.search(r"[?&]nonce=([^&]+)", initiation.headers["Location"])
    assert state and nonce
    answer = client.post("/lti/launch", base_url=http, data={
        "id_token": platform.sign(platform.claims("5", (LEARNER,), nonce.group(1))),
        "state": state.group(1)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    [cookie] = session_cookies(answer)
    assert "SameSite=Lax" in cookie and "Partitioned" not in cookie and "Secure" not in cookie


def test_a_password_sign_in_keeps_lax_and_expires_a_launched_cookie(
        client: FlaskClient, platform: Platform, runner: AppRunner) -> None:
    fresh = password_sign_in(client, runner, "https://profroute.example.test")
    assert fresh.status_code == 302  # type: ignore[attr-defined]
    [cookie] = session_cookies(fresh)  # nothing launched before: nothing else to expire
    assert "SameSite=Lax" in cookie and "Partitioned" not in cookie and "Secure" in cookie
    launched(client, platform)
    again = password_sign_in(client, runner, "https://profroute.example.test")
    cookies = session_cookies(again)
    [cookie] = kept(cookies)
    assert "SameSite=Lax" in cookie and "Partitioned" not in cookie
    [old] = expired(cookies)
    assert "Partitioned" in old and "SameSite=None" in old


def csp_ancestors(answer: object) -> list[str]:
    policy = answer.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    found = re.search(r"frame-ancestors ([^;]+)", policy)
    assert found
    return found.group(1).split()


def test_a_registered_platform_may_frame_the_pages_at_once(app: Flask,
                                                           client: FlaskClient) -> None:
    assert csp_ancestors(client.get("/login")) == ["'self'"]
    assert client.get("/login").headers["X-Frame-Options"] == "SAMEORIGIN"
    add_platform(issuer="https://moodle.example.ru", client_id="abc", deployment_ids="1",
                 auth_login_url="https://sso.example.ru:8443/mod/lti/auth.php")
    answer = client.get("/login")
    assert csp_ancestors(answer) == [
        "'self'", "https://moodle.example.ru", "https://sso.example.ru:8443"]
    assert "X-Frame-Options" not in answer.headers


def test_frame_origins_are_read_once_a_minute_not_on_every_response(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(platforms.time, "monotonic", lambda: now[0])
    reads: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM lti_platform" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            assert csp_ancestors(client.get("/health")) == ["'self'"]
        assert len(reads) == 1
        # another worker registers a platform: this one frames it once its minute is over
        db.session.add(LtiPlatform(name="m", issuer="https://other.example.ru", client_id="x",
                                   auth_login_url="https://other.example.ru/mod/lti/auth.php",
                                   auth_token_url="https://other.example.ru/mod/lti/token.php",
                                   key_set_url="https://other.example.ru/mod/lti/certs.php"))
        db.session.commit()
        now[0] += platforms.ORIGINS_TTL - 1
        assert csp_ancestors(client.get("/health")) == ["'self'"]
        now[0] += 2
        assert csp_ancestors(client.get("/health")) == ["'self'", "https://other.example.ru"]
        assert len(reads) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_configured_and_registered_origins_are_named_once_each(
        make_app: Callable[..., Flask]) -> None:
    framed = make_app(frame_ancestors="https://moodle.example.ru https://lms.example.ru")
    add_platform(issuer="https://moodle.example.ru", client_id="abc", deployment_ids="1")
    answer = framed.test_client().get("/login")
    assert csp_ancestors(answer) == ["'self'", "https://moodle.example.ru",
                                     "https://lms.example.ru"]


def test_an_unreadable_platform_list_keeps_the_last_one_and_is_read_again_soon(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(platforms.time, "monotonic", lambda: now[0])
    add_platform(issuer="https://moodle.example.ru", client_id="abc", deployment_ids="1")
    assert csp_ancestors(client.get("/health"))[1:] == ["https://moodle.example.ru"]
    tries: list[int] = []

    def database_down(*args: object) -> None:
        tries.append(1)
        raise OperationalError("SELECT issuer FROM lti_platform", {}, Exception("down"))

    monkeypatch.setattr(platforms, "select", database_down)
    now[0] += platforms.ORIGINS_TTL
    for _ in range(2):
        answer = client.get("/health")
        assert csp_ancestors(answer)[1:] == ["https://moodle.example.ru"]
    assert len(tries) == 1  # not once per response while the database is down
    now[0] += platforms.ORIGINS_RETRY
    client.get("/health")
    assert len(tries) == 2
