"""The LTI tool's key set, its role map, and the registration of platforms (admin page, CLI)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jwcrypto.jwk import JWK
from sqlalchemy import func, select
from support import AppRunner

from app import create_app
from app.extensions import db
from app.lti.platforms import add_platform, frame_origins
from app.lti.roles import parse_role_map, resolve_role
from app.models import LtiDeployment, LtiPlatform
from app.settings import Settings, SettingsError

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
DEFAULT_MAP = parse_role_map(Settings().lti_role_map)


def platforms() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LtiPlatform)) or 0


def test_the_jwks_publishes_one_stable_public_key_and_no_private_part(
        client: FlaskClient) -> None:
    first, second = client.get("/lti/jwks").get_json(), client.get("/lti/jwks").get_json()
    assert first == second and len(first["keys"]) == 1
    key = first["keys"][0]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert JWK(**{k: v for k, v in key.items() if k not in ("alg", "use", "kid")}
               ).thumbprint() == key["kid"]


@pytest.mark.parametrize(("roles", "expected"), [
    ([MEMBERSHIP + "Learner"], "teacher"),
    ([MEMBERSHIP + "Instructor"], "methodologist"),
    ([MEMBERSHIP + "Instructor", SYSTEM_ADMIN,
      "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], "admin"),
    ([MEMBERSHIP + "Learner", MEMBERSHIP + "Instructor"], "methodologist"),
    ([MEMBERSHIP + "Mentor"], None),
    ([MEMBERSHIP + "Instructor#TeachingAssistant"], None),
    ([], None),
])
def test_the_default_role_map_gives_the_strongest_mapped_role(
        roles: list[str], expected: str | None) -> None:
    assert resolve_role(roles, DEFAULT_MAP) == expected


def test_a_role_map_may_name_full_uris_and_only_known_roles() -> None:
    mapping = parse_role_map(f"{SYSTEM_ADMIN}=admin\nLearner = teacher")
    assert resolve_role([SYSTEM_ADMIN], mapping) == "admin"
    assert resolve_role(["http://purl.imsglobal.org/vocab/lis/v2/institution/person"
                         "#Administrator"], mapping) is None
    for bad in ("Instructor=superuser", "Instructor", "=admin"):
        with pytest.raises(SettingsError, match="PROFROUTE_LTI_ROLE_MAP"):
            parse_role_map(bad)


def test_the_app_refuses_to_start_with_a_malformed_role_map(tmp_path: object) -> None:
    with pytest.raises(SettingsError, match="'Instructor=root'"):
        create_app(Settings(database_url="sqlite:///:memory:",
                            lti_role_map="Learner=teacher; Instructor=root"),
                   require_secret_key=False)


def test_a_moodle_platform_gets_moodles_urls_from_its_issuer(app: Flask) -> None:
    platform = add_platform(issuer="https://moodle.example.ru/", client_id="abc",
                            deployment_ids="3, 4")
    assert (platform.issuer, platform.auth_login_url, platform.auth_token_url,
            platform.key_set_url) == (
        "https://moodle.example.ru", "https://moodle.example.ru/mod/lti/auth.php",
        "https://moodle.example.ru/mod/lti/token.php",
        "https://moodle.example.ru/mod/lti/certs.php")
    assert [d.deployment_id for d in platform.deployments] == ["3", "4"]
    assert frame_origins() == ["https://moodle.example.ru"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"issuer": "moodle.example.ru"}, "not an http(s) URL"),
    ({"issuer": "javascript:alert(1)"}, "not an http(s) URL"),
    ({"client_id": " "}, "Client ID is empty"),
    ({"deployment_ids": ""}, "Deployment ID is missing"),
    ({"key_set_url": "file:///etc/passwd"}, "Public keyset URL 'file:///etc/passwd' is not"),
])
def test_a_malformed_registration_is_refused_and_stores_nothing(
        app: Flask, fields: dict[str, str], message: str) -> None:
    values = {"issuer": "https://moodle.example.ru", "client_id": "abc", "deployment_ids": "1",
              **fields}
    with pytest.raises(ValueError, match=re.escape(message)):
        add_platform(**values)
    assert platforms() == 0


def test_the_admin_page_needs_a_login_and_shows_the_urls_to_give_moodle(
        client: FlaskClient, signed_in_client: FlaskClient) -> None:
    answer = client.get("/lti")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert client.post("/lti/platforms", data={}).status_code in (302, 400)
    assert platforms() == 0
    page = signed_in_client.get("/lti").get_data(as_text=True)
    for url in ("http://localhost/lti/launch", "http://localhost/lti/login",
                "http://localhost/lti/jwks"):
        assert f"<code>{url}</code>" in page


def test_the_tool_url_setting_wins_over_the_request_address(make_app: object) -> None:
    app = make_app(lti_tool_url="https://pr.example.ru/")  # type: ignore[operator]
    runner = AppRunner(app)
    result = runner.invoke(["lti", "show"])
    assert result.exit_code == 0, result.output
    assert "Initiate login URL: https://pr.example.ru/lti/login" in result.output
    assert "Public keyset URL: https://pr.example.ru/lti/jwks" in result.output


def test_a_platform_registered_from_the_admin_page_is_listed(
        signed_in_client: FlaskClient) -> None:
    answer = signed_in_client.post("/lti/platforms", data={
        "issuer": "https://moodle.example.ru", "client_id": "Xy12", "deployment_ids": "2"})
    assert answer.status_code == 302
    page = signed_in_client.get("/lti").get_data(as_text=True)
    assert "https://moodle.example.ru" in page and "Xy12" in page
    again = signed_in_client.post("/lti/platforms", data={
        "issuer": "https://moodle.example.ru", "client_id": "Xy12", "deployment_ids": "2"})
    assert again.status_code == 400 and "already registered" in again.get_data(as_text=True)
    assert platforms() == 1


def test_the_cli_registers_a_platform_with_several_deployments(
        app: Flask, runner: AppRunner) -> None:
    result = runner.invoke(["lti", "add-platform", "--issuer", "http://localhost:8080",
                            "--client-id", "c1", "--deployment-id", "1",
                            "--deployment-id", "5"])
    assert result.exit_code == 0, result.output
    assert "registered platform http://localhost:8080" in result.output
    assert sorted(db.session.scalars(select(LtiDeployment.deployment_id))) == ["1", "5"]
    again = runner.invoke(["lti", "add-platform", "--issuer", "http://localhost:8080",
                           "--client-id", "c1", "--deployment-id", "1"])
    assert again.exit_code == 2 and "already registered" in again.output
