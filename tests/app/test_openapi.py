"""The OpenAPI document is generated from the views, and the API answers as it says.

Schemathesis loads ``/api/openapi.json`` from the app (WSGI, no server) and sends requests
generated from it (valid ones and ones that break the schema) to every operation, signed in as
each role of the access map's world: no answer may be a 5xx, and each must have a documented
status, content type and body. The figures go in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update
from support import signed_in

from app.extensions import db
from app.models import Deficit


def _access_map() -> Any:
    """The world and the callers of ``test_access_map.py`` (one module, not a copy)."""
    name = "access_map_world"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_access_map.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


WORLD = _access_map()
ROLES = tuple(WORLD.SIGN_IN)  # teacher, methodologist of «Альфа», of the region, admin
# Generated cases per operation, role and mode (fewer when an operation has fewer to offer).
EXAMPLES = 60
LEAST_REQUESTS = 1000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def world(app: Flask) -> Iterator[dict[str, FlaskClient]]:
    """The access map's world, its levels with the thresholds they were scored by, and a
    signed-in client per role."""
    WORLD.seed()
    db.session.execute(update(Deficit).values(thresholds={
        "deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2, "source": "default",
        "label": ""}))
    db.session.commit()
    yield {role: signed_in(app, role, WORLD.SIGN_IN[role]) for role in ROLES}


def session_cookie(app: Flask, client: FlaskClient) -> dict[str, str]:
    """The signed-in client's session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "the client is not signed in"
    return {name: cookie.value}


def browser_of(client: FlaskClient) -> dict[str, Any]:
    """The client's address and User-Agent, as ``case.call`` takes them: a session holds
    only from the browser and address that signed in (session protection)."""
    return {"headers": {"User-Agent": str(client.environ_base["HTTP_USER_AGENT"])},
            "environ_base": {"REMOTE_ADDR": str(client.environ_base["REMOTE_ADDR"])}}


def send_generated(operation: schemathesis.APIOperation, mode: GenerationMode,
                   cookies: dict[str, str], browser: dict[str, Any]) -> Counter[int]:
    """Send the cases Hypothesis generates for ``operation`` (from a fixed seed) with the
    session ``cookies`` from the ``browser`` that signed in, check each answer; the statuses
    answered."""
    statuses: Counter[int] = Counter()
    checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, cookies=cookies))
    def send(case: schemathesis.Case) -> None:
        response = case.call(**browser)
        case.validate_response(response, checks=checks)
        statuses[response.status_code] += 1

    send()
    return statuses


def test_the_document_describes_every_api_route(app: Flask,
                                                world: dict[str, FlaskClient]) -> None:
    document = world["admin"].get("/api/openapi.json").get_json()
    documented = {path for path in document["paths"]}
    routes = {str(rule) for rule in app.url_map.iter_rules()
              if str(rule).startswith("/api/") and rule.endpoint != "openapi.openapi_json"}
    assert documented == {"/api/deficit-map", "/api/deficit-map/{view}", "/api/policy",
                          "/api/teachers/{moodle_user_id}/route", "/api/moodle/check",
                          "/api/effectiveness", "/api/capacity"}
    assert len(routes) == len(documented)
    route = document["paths"]["/api/teachers/{moodle_user_id}/route"]["get"]
    assert set(route["responses"]) >= {"200", "401", "403", "404"}
    deficit_map = document["paths"]["/api/deficit-map"]["get"]
    assert [p["name"] for p in deficit_map["parameters"]] == ["diagnostic"]
    assert "422" in deficit_map["responses"]
    schemas = document["components"]["schemas"]
    assert set(schemas["DeficitMap"]["required"]) >= {"schools", "municipality", "policy"}
    assert schemas["Error"]["required"] == ["code", "message", "status"]


def test_who_may_read_the_document_and_the_docs_page(app: Flask,
                                                     world: dict[str, FlaskClient]) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/api/openapi.json").status_code == 401
    assert world["teacher"].get("/api/openapi.json").status_code == 403
    assert world["alfa"].get("/api/openapi.json").status_code == 200
    assert world["alfa"].get("/api-docs").status_code == 403
    page = world["admin"].get("/api-docs")
    assert page.status_code == 200
    html = page.data.decode()
    # Swagger UI from this site only, started by a static script (no inline script, no CDN)
    assert "<script>" not in html and "https://" not in html
    assert "/api-docs/swagger-ui/swagger-ui-bundle.js" in html and "/static/api-docs.js" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    bundle = world["admin"].get("/api-docs/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data
    assert world["admin"].get("/static/api-docs.js").status_code == 200


def test_bad_arguments_answer_422_naming_the_argument(world: dict[str, FlaskClient]) -> None:
    answer = world["region"].get("/api/deficit-map?diagnostic=первая")
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["errors"] == {"query": {"diagnostic": ["Not a valid integer."]}}
    assert "diagnostic" in body["message"] and body["status"] == "Unprocessable Entity"
    assert world["region"].get(f"/api/deficit-map?diagnostic={2**31}").status_code == 422
    # Empty or 0: the latest diagnostic, as before the API was described
    latest = world["region"].get("/api/deficit-map").get_json()
    assert world["region"].get("/api/deficit-map?diagnostic=").get_json() == latest
    assert world["region"].get("/api/deficit-map?diagnostic=0").get_json() == latest


def test_generated_requests_as_each_role_get_no_server_error(
        app: Flask, world: dict[str, FlaskClient], capsys: pytest.CaptureFixture[str]) -> None:
    document = world["admin"].get("/api/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app  # requests go to the app through WSGI, not over a network
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    for role in ROLES:
        cookies = session_cookie(app, world[role])
        for operation in operations:
            has_parameters = any(p.name not in cookies for p in operation.iter_parameters())
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode is GenerationMode.NEGATIVE and not has_parameters:
                    continue  # nothing to break but the session: no parameters, no body
                statuses.update(send_generated(operation, mode, cookies,
                                               browser_of(world[role])))
                sent[f"{role} {operation.label} {mode}"] = statuses.total() - sum(sent.values())
    total = sum(sent.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} requests, {len(operations)} operations, "
              f"{len(ROLES)} roles, statuses {dict(sorted(statuses.items()))}")
    assert total >= LEAST_REQUESTS
    assert not any(status >= 500 for status in statuses)
    assert statuses[200] > 0 and statuses[403] > 0 and statuses[404] > 0
