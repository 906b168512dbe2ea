"""LTI 1.3 launches from a test platform with real RSA keys: who is signed in, and every
refusal (signature, issuer, audience, expiry, replayed nonce, state, deployment)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lti_support import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    INSTRUCTOR,
    ISSUER,
    LEARNER,
    SITE_ADMIN,
    TOOL,
    Platform,
    keyset_of,
    launch,
    login_initiation,
    rsa_key,
    running_platform,
)
from sqlalchemy import func, select
from support import forget_login_per_request

from app.extensions import db
from app.lti.accounts import NO_PASSWORD
from app.lti.platforms import add_platform
from app.models import LtiAccount, LtiPlatform, Teacher, WebUser


@pytest.fixture
def platform(app: Flask) -> Iterator[Platform]:
    """The test platform, registered with the tool; teachers 5 (Петрова) and 6 exist."""
    forget_login_per_request(app)
    with running_platform() as running:
        add_platform(issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=DEPLOYMENT_ID,
                     key_set_url=running.keyset_url)
        db.session.add_all([
            Teacher(moodle_user_id=5, username="petrova", lastname="Петрова", firstname="Анна"),
            Teacher(moodle_user_id=6, username="sidorov", lastname="Сидоров", firstname="Иван")])
        db.session.commit()
        yield running


def signed_in_as(client: FlaskClient) -> str | None:
    """The login the client's session holds (None when not signed in)."""
    with client.session_transaction(base_url=TOOL) as session:
        user_id = session.get("_user_id")
    if user_id is None:
        return None
    user = db.session.get(WebUser, int(user_id))
    return user.login if user else None


def accounts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LtiAccount)) or 0


def test_a_learner_launch_signs_the_teacher_in_and_opens_their_own_page(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, initiation = login_initiation(client)
    location = initiation.headers["Location"]
    assert location.startswith(ISSUER + "/mod/lti/auth.php?")
    assert f"client_id={CLIENT_ID}" in location and "redirect_uri=" in location
    answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/teachers/5"
    assert signed_in_as(client) is not None
    account = db.session.scalars(select(LtiAccount)).one()
    user = db.session.get(WebUser, account.web_user_id)
    assert (account.role, account.subject, user.password_hash) == ("teacher", "5", NO_PASSWORD)
    assert user.name == "Петрова Анна"  # the teacher's name as ProfRoute holds it
    assert account.teacher_id == db.session.scalars(
        select(Teacher.id).filter_by(moodle_user_id=5)).one()
    assert platform.fetched == ["/mod/lti/certs.php"]


def test_a_launched_teacher_holds_the_teacher_role_and_sees_only_their_own_page(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
    assert answer.status_code == 302
    assert client.get("/teachers/5", base_url=TOOL).status_code == 200
    assert client.get("/teachers?q=%25", base_url=TOOL).status_code == 403  # no lists for a teacher
    assert client.get("/lti", base_url=TOOL).status_code == 403


def test_a_launched_admin_may_open_the_admin_pages(client: FlaskClient,
                                                   platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("77", (INSTRUCTOR, *SITE_ADMIN),
                                                          nonce)), state)
    assert answer.status_code == 302
    assert client.get("/lti", base_url=TOOL).status_code == 200


def test_a_second_launch_reuses_the_login_made_by_the_first(
        client: FlaskClient, platform: Platform) -> None:
    for _ in range(2):
        state, nonce, _answer = login_initiation(client)
        answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
        assert answer.status_code == 302
    assert accounts() == 1


def _launch_as_learner(client: FlaskClient, platform: Platform, kid: str | None = None) -> int:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce), kid=kid)
    return int(launch(client, token, state).status_code)


def test_the_platform_key_set_is_fetched_once_and_reused_by_later_launches(
        app: Flask, platform: Platform) -> None:
    for _ in range(3):
        assert _launch_as_learner(app.test_client(), platform) == 302
    assert platform.fetched == ["/mod/lti/certs.php"]


def test_a_rotated_platform_key_is_fetched_again_and_accepted(
        client: FlaskClient, platform: Platform) -> None:
    assert _launch_as_learner(client, platform) == 302
    platform.rotate()  # Moodle's new key: a kid the cached set does not hold
    assert _launch_as_learner(client, platform) == 302
    assert len(platform.fetched) == 2


def test_made_up_kids_fetch_the_key_set_again_at_most_once_a_minute(
        client: FlaskClient, platform: Platform) -> None:
    assert _launch_as_learner(client, platform) == 302
    for kid in ("forged-1", "forged-2", "forged-3"):
        assert _launch_as_learner(client, platform, kid=kid) == 400
    assert len(platform.fetched) == 2  # the first fetch and one refetch, not one per token
    assert _launch_as_learner(client, platform) == 302  # the real key still works


@pytest.mark.parametrize(("roles", "role"), [
    ((INSTRUCTOR,), "methodologist"),
    ((INSTRUCTOR, *SITE_ADMIN), "admin"),
])
def test_staff_roles_map_to_methodologist_and_admin_and_open_the_map(
        client: FlaskClient, platform: Platform, roles: tuple[str, ...], role: str) -> None:
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("77", roles, nonce)), state)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    account = db.session.scalars(select(LtiAccount)).one()
    assert (account.role, account.teacher_id) == (role, None)
    assert signed_in_as(client) == f"moodle{account.platform_id}-77"


def test_the_launch_cookies_and_the_launched_session_are_samesite_none_and_secure(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, initiation = login_initiation(client)
    cookies = initiation.headers.getlist("Set-Cookie")
    state_cookie = [c for c in cookies if c.startswith(f"lti1p3-{state}=")]
    assert state_cookie and "SameSite=None" in state_cookie[0] and "Secure" in state_cookie[0]
    assert all("SameSite=None" in c and "Secure" in c for c in cookies)
    answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
    session_cookies = [c for c in answer.headers.getlist("Set-Cookie")
                       if c.startswith("session=") and not c.startswith("session=;")]
    assert len(session_cookies) == 1  # password sign-ins keep Lax: tests/app/test_lti_frames.py
    assert "SameSite=None" in session_cookies[0] and "Secure" in session_cookies[0]


def refused(answer: object, client: FlaskClient, words: str) -> None:
    assert answer.status_code == 400  # type: ignore[attr-defined]
    text = answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Вход из Moodle не выполнен" in text and words in text, text
    assert signed_in_as(client) is None


def test_a_token_signed_by_another_key_is_refused(client: FlaskClient, platform: Platform
                                                   ) -> None:
    state, nonce, _answer = login_initiation(client)
    other_pem, _kid = rsa_key()
    token = platform.sign(platform.claims("5", (LEARNER,), nonce), pem=other_pem)
    refused(launch(client, token, state), client, "Подпись id_token")
    assert accounts() == 0


def test_a_token_of_another_issuer_is_refused(client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce,
                                          iss="https://evil.example.test"))
    refused(launch(client, token, state), client, "не зарегистрирована")


@pytest.mark.parametrize("aud", ["another-tool", ["another-tool", CLIENT_ID],
                                 [CLIENT_ID, "another-tool"]])
def test_a_token_for_another_audience_is_refused(
        client: FlaskClient, platform: Platform, aud: object) -> None:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce, aud=aud))
    answer = launch(client, token, state)
    assert answer.status_code == 400 and signed_in_as(client) is None
    assert accounts() == 0


def test_an_expired_token_is_refused(client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    issued = int(time.time()) - 600
    token = platform.sign(platform.claims("5", (LEARNER,), nonce, iat=issued, exp=issued + 60))
    refused(launch(client, token, state), client, "Срок действия id_token истёк")


def test_a_token_without_exp_is_refused(client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    claims = platform.claims("5", (LEARNER,), nonce)
    del claims["exp"]
    refused(launch(client, platform.sign(claims), state), client, "exp")


def test_a_replayed_launch_is_refused_by_its_nonce(client: FlaskClient, platform: Platform
                                                   ) -> None:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce))
    assert launch(client, token, state).status_code == 302
    with client.session_transaction(base_url=TOOL) as session:  # signed out again
        session.clear()
    refused(launch(client, token, state), client, "nonce")


def test_a_nonce_the_tool_never_issued_is_refused(client: FlaskClient, platform: Platform
                                                  ) -> None:
    state, _nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), "made-up-nonce"))
    refused(launch(client, token, state), client, "nonce")


@pytest.mark.parametrize("state", [None, "state-forged"])
def test_a_launch_with_a_missing_or_foreign_state_is_refused(
        client: FlaskClient, platform: Platform, state: str | None) -> None:
    _state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce))
    refused(launch(client, token, state), client, "state")


def test_a_launch_in_a_browser_that_did_not_start_the_login_is_refused(
        app: Flask, client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5", (LEARNER,), nonce))
    refused(launch(app.test_client(), token, state), app.test_client(), "cookie")


def test_a_launch_from_an_unregistered_deployment_is_refused(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    claims = platform.claims("5", (LEARNER,), nonce)
    claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = "99"
    refused(launch(client, platform.sign(claims), state), client, "Deployment ID")


def test_a_login_initiation_from_an_unregistered_platform_is_refused(
        client: FlaskClient, platform: Platform) -> None:
    _state, _nonce, answer = login_initiation(client, iss="https://evil.example.test")
    assert answer.status_code == 400
    assert "не зарегистрирована" in answer.get_data(as_text=True)


def test_an_unknown_moodle_learner_gets_a_russian_page_and_no_login(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("999", (LEARNER,), nonce)), state)
    assert answer.status_code == 403
    text = answer.get_data(as_text=True)
    assert "Пользователь Moodle с номером 999" in text and "не найден среди педагогов" in text
    assert signed_in_as(client) is None and accounts() == 0


def test_a_launch_whose_roles_are_not_in_the_map_is_refused(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    mentor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
    refused(launch(client, platform.sign(platform.claims("5", (mentor,), nonce)), state),
            client, "PROFROUTE_LTI_ROLE_MAP")


def test_a_disabled_launched_login_is_refused(client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    assert launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)),
                  state).status_code == 302
    account = db.session.scalars(select(LtiAccount)).one()
    db.session.get(WebUser, account.web_user_id).active = False
    db.session.commit()
    other = client.application.test_client()
    state, nonce, _answer = login_initiation(other)
    refused(launch(other, platform.sign(platform.claims("5", (LEARNER,), nonce)), state),
            other, "отключён")


def unsigned(header: object, body: object) -> str:
    """A token of any JSON parts (the signature part is junk)."""
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return f"{part(header)}.{part(body)}.c2ln"


@pytest.mark.parametrize("token", [
    "", "not-a-jwt", "a.b.c", unsigned([], {}), unsigned({"alg": "RS256"}, [1, 2]),
    unsigned({"alg": "RS256", "kid": "x"}, {"iss": ISSUER, "aud": 5, "sub": "5"}),
    unsigned({"alg": "none"}, {"iss": ISSUER, "aud": CLIENT_ID, "sub": "5",
                               "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "1"}),
    unsigned({"alg": "HS256", "kid": "x"}, {
        "iss": ISSUER, "aud": CLIENT_ID, "sub": "5",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "1"}),
])
def test_a_malformed_id_token_is_refused_with_a_page_never_a_500(
        client: FlaskClient, platform: Platform, token: str) -> None:
    state, _nonce, _answer = login_initiation(client)
    answer = launch(client, token, state)
    assert answer.status_code == 400 and signed_in_as(client) is None


def test_a_very_long_sub_is_refused_before_anything_is_stored(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    token = platform.sign(platform.claims("5" * 300, (INSTRUCTOR,), nonce))
    assert launch(client, token, state).status_code == 400 and accounts() == 0


def test_a_malformed_platform_key_set_is_refused_with_a_page_and_never_cached(
        app: Flask) -> None:
    forget_login_per_request(app)
    with running_platform(keyset='{"keys": "none"}') as bad:
        add_platform(issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=DEPLOYMENT_ID,
                     key_set_url=bad.keyset_url)
        client = app.test_client()
        state, nonce, _answer = login_initiation(client)
        answer = launch(client, bad.sign(bad.claims("5", (LEARNER,), nonce)), state)
        assert answer.status_code == 400
        assert "key set is malformed" in answer.get_data(as_text=True)
        db.session.add(Teacher(moodle_user_id=5, username="petrova", lastname="Петрова",
                               firstname="Анна"))
        db.session.commit()
        bad.keyset = keyset_of(bad.private_pem, bad.kid)  # the platform fixed its key set
        assert _launch_as_learner(client, bad) == 302


def test_an_instructor_who_is_also_a_teacher_is_a_methodologist_linked_to_the_teacher(
        client: FlaskClient, platform: Platform) -> None:
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("6", (INSTRUCTOR,), nonce)), state)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    account = db.session.scalars(select(LtiAccount)).one()
    assert account.role == "methodologist"
    assert account.teacher_id == db.session.scalars(
        select(Teacher.id).filter_by(moodle_user_id=6)).one()


def test_a_password_login_is_never_taken_over_by_a_launch(
        client: FlaskClient, platform: Platform) -> None:
    platform_id = db.session.scalars(select(LtiPlatform.id)).one()
    db.session.add(WebUser(login=f"moodle{platform_id}-5", name="Чужой", password_hash="x"))
    db.session.commit()
    state, nonce, _answer = login_initiation(client)
    answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
    refused(answer, client, "уже занят")
    assert accounts() == 0
