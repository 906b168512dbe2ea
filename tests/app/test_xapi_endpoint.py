"""ProfRoute as the LRS Moodle's xAPI log store sends to: store, conflicts, voiding, auth."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app.extensions import db
from app.models import XapiStatement
from app.xapi.credentials import create_credential, set_credential_active

ROOT = Path(__file__).resolve().parents[2]
LOGSTORE = ROOT.parent / "shared" / "xapi" / "logstore_xapi_statements"
SITE = "http://www.example.org"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def statement(course: int = 2, user: str = "2", **extra: Any) -> dict[str, Any]:
    return {"actor": {"objectType": "Agent", "account": {"homePage": SITE, "name": user}},
            "verb": {"id": COMPLETED, "display": {"en": "completed"}},
            "object": {"objectType": "Activity", "id": f"{SITE}/course/view.php?id={course}"},
            "timestamp": "2026-11-20T10:00:00Z", **extra}


def voiding(target: str) -> dict[str, Any]:
    return {"actor": {"mbox": "mailto:admin@example.org"}, "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": target}}


class Lrs:
    """The test client with a site's credential and the version header."""

    def __init__(self, client: FlaskClient, key: str, secret: str) -> None:
        self.client, self.key, self.secret = client, key, secret

    def headers(self, version: str | None = "1.0.3", secret: str | None = None
                ) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{secret or self.secret}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        if version:
            headers["X-Experience-API-Version"] = version
        return headers

    def post(self, body: Any, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.post("/xapi/statements", json=body,
                                headers=kw.pop("headers", None) or self.headers(), **kw)

    def put(self, body: Any, statement_id: str):  # type: ignore[no-untyped-def]
        return self.client.put("/xapi/statements", json=body, headers=self.headers(),
                               query_string={"statementId": statement_id})

    def get(self, **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/xapi/statements", query_string=params, headers=self.headers())


@pytest.fixture
def lrs(client: FlaskClient) -> Lrs:
    credential, secret = create_credential(SITE, "Moodle test site")
    return Lrs(client, credential.key, secret)


def stored_count() -> int:
    db.session.rollback()
    return db.session.query(XapiStatement).count()


def test_about_answers_the_versions_without_credentials(client: FlaskClient) -> None:
    answer = client.get("/xapi/about")
    assert answer.status_code == 200
    assert answer.json == {"version": ["1.0.3", "2.0.0"]}
    assert answer.headers["X-Experience-API-Version"] == "2.0.0"


def test_post_one_statement_answers_its_new_id_and_sets_what_the_lrs_sets(lrs: Lrs) -> None:
    answer = lrs.post(statement())
    assert answer.status_code == 200
    [statement_id] = answer.json
    assert uuid.UUID(statement_id).version == 4
    stored = lrs.get(statementId=statement_id)
    assert stored.status_code == 200
    body = stored.json
    assert body["id"] == statement_id and body["version"] == "1.0.0"
    assert body["stored"].endswith("Z") and body["timestamp"] == "2026-11-20T10:00:00Z"
    assert body["authority"]["account"] == {"homePage": SITE, "name": lrs.key}
    assert "X-Experience-API-Consistent-Through" in stored.headers


def test_post_a_list_answers_the_ids_in_order(lrs: Lrs) -> None:
    given = str(uuid.uuid4())
    answer = lrs.post([statement(1), statement(2, id=given), statement(3)])
    assert answer.status_code == 200
    assert len(answer.json) == 3 and answer.json[1] == given
    assert lrs.get(statementId=given).json["object"]["id"].endswith("id=2")


def test_put_stores_under_the_statement_id(lrs: Lrs) -> None:
    statement_id = str(uuid.uuid4())
    answer = lrs.put(statement(), statement_id)
    assert answer.status_code == 204 and answer.data == b""
    assert lrs.get(statementId=statement_id).json["id"] == statement_id
    assert lrs.put(statement(id=str(uuid.uuid4())), statement_id).status_code == 400
    missing = lrs.client.put("/xapi/statements", json=statement(), headers=lrs.headers())
    assert missing.status_code == 400 and "statementId" in missing.json["message"]


def test_the_same_statement_again_is_accepted_without_change(lrs: Lrs) -> None:
    statement_id = str(uuid.uuid4())
    first = statement(id=statement_id)
    assert lrs.post([first]).status_code == 200
    before = lrs.get(statementId=statement_id).json
    same_instant = {**first, "timestamp": "2026-11-20T13:00:00.000+03:00"}
    assert lrs.post([same_instant, statement(5)]).status_code == 200
    assert lrs.put(first, statement_id).status_code == 204
    assert lrs.get(statementId=statement_id).json == before
    assert stored_count() == 2


def test_the_same_id_with_another_body_is_409_and_nothing_of_the_batch_is_stored(
        lrs: Lrs) -> None:
    statement_id = str(uuid.uuid4())
    lrs.post(statement(id=statement_id))
    answer = lrs.post([statement(7), statement(8, id=statement_id)])
    assert answer.status_code == 409
    assert answer.json["code"] == 409 and "statement 1" in answer.json["message"]
    assert lrs.put(statement(9), statement_id).status_code == 409
    assert stored_count() == 1


def test_voiding_hides_the_target_from_queries_but_not_from_voided_statement_id(
        lrs: Lrs) -> None:
    [target, other] = lrs.post([statement(1), statement(2)]).json
    [voider] = lrs.post(voiding(target)).json
    assert lrs.get(statementId=target).status_code == 404
    assert lrs.get(voidedStatementId=target).json["id"] == target
    assert lrs.get(voidedStatementId=other).status_code == 404
    ids = [s["id"] for s in lrs.get().json["statements"]]
    assert sorted(ids) == sorted([other, voider])
    assert lrs.get(verb=VOIDED).json["statements"][0]["object"]["id"] == target


def test_a_voiding_statement_arriving_before_its_target_voids_it(lrs: Lrs) -> None:
    target = str(uuid.uuid4())
    [voider] = lrs.post(voiding(target)).json
    lrs.post(statement(id=target))
    assert lrs.get(statementId=target).status_code == 404
    lrs.post(voiding(voider))  # a voiding statement cannot itself be voided
    assert lrs.get(statementId=voider).status_code == 200


def test_the_version_header_is_required_and_answered(lrs: Lrs) -> None:
    for version, status, answered in [(None, 400, "1.0.3"), ("0.95", 400, "1.0.3"),
                                      ("1.0.1", 200, "1.0.3"), ("2.0.0", 200, "2.0.0")]:
        answer = lrs.client.get("/xapi/statements", headers=lrs.headers(version))
        assert answer.status_code == status, version
        assert answer.headers["X-Experience-API-Version"] == answered
    assert lrs.post(statement(), headers=lrs.headers(None)).status_code == 400
    assert stored_count() == 0


def test_requests_without_a_valid_active_credential_are_401(lrs: Lrs) -> None:
    bare = lrs.client.post("/xapi/statements", json=statement(),
                           headers={"X-Experience-API-Version": "1.0.3"})
    assert bare.status_code == 401 and bare.headers["WWW-Authenticate"].startswith("Basic")
    assert lrs.post(statement(), headers=lrs.headers(secret="wrong")).status_code == 401
    stranger = Lrs(lrs.client, "nosuchkey", lrs.secret)
    assert stranger.get().status_code == 401
    assert lrs.get().status_code == 200
    set_credential_active(lrs.key, active=False)
    assert lrs.post(statement()).status_code == 401
    assert stored_count() == 0


@pytest.mark.parametrize(("bad", "field"), [
    ({"actor": {"mbox": "not-an-email"}}, "actor.mbox"),
    ({"verb": {"id": "not an iri"}}, "verb.id"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"version": "3.0.0"}, "version"),
    ({"object": {"objectType": "StatementRef", "id": "not-a-uuid"}}, "object.id"),
    ({"verb": {"id": VOIDED}}, "object.objectType"),
    ({"unknown": 1}, "unknown"),
])
def test_an_invalid_statement_rejects_the_whole_batch_with_the_reason(
        lrs: Lrs, bad: dict[str, Any], field: str) -> None:
    answer = lrs.post([statement(1), {**statement(2), **bad}, statement(3)])
    assert answer.status_code == 400
    assert answer.json["message"].startswith(f"statement 1: {field}")
    assert answer.json["errors"][0]["statement"] == 1
    assert stored_count() == 0


def test_malformed_batches_are_400(lrs: Lrs) -> None:
    twice = str(uuid.uuid4())
    assert lrs.post([statement(id=twice), statement(id=twice)]).status_code == 400
    assert lrs.post([statement(), "text"]).json["message"].startswith("statement 1")
    assert lrs.post([]).status_code == 400
    raw = lrs.client.post("/xapi/statements", data="{not json", headers=lrs.headers(),
                          content_type="application/json")
    assert raw.status_code == 400 and raw.json["status"] == "Bad Request"
    assert stored_count() == 0


def moodle_statements() -> list[dict[str, Any]]:
    """Every statement the log store plugin's tests expect, merged with common.statement.json."""
    common = json.loads((LOGSTORE / "common.statement.json").read_text())

    def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in extra.items():
            both = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merge(out[key], value) if both else value
        return out

    return [merge(one, common) for path in sorted(LOGSTORE.glob("*.statements.json"))
            for one in json.loads(path.read_text())]


def test_every_moodle_log_store_statement_is_accepted(lrs: Lrs) -> None:
    statements = moodle_statements()
    assert len(statements) >= 20
    answer = lrs.post(statements)
    assert answer.status_code == 200, answer.json
    assert len(set(answer.json)) == len(statements) == stored_count()
    agent = json.dumps({"account": {"homePage": SITE, "name": "1"}})
    mine = lrs.get(agent=agent, limit=0).json["statements"]
    assert mine and all(s["actor"]["account"]["name"] == "1" for s in mine)


@pytest.fixture
def live_lrs(app: Flask, lrs: Lrs) -> Iterator[tuple[str, tuple[str, str]]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/xapi", (lrs.key, lrs.secret)
    server.shutdown()
    thread.join(5)


def test_moodle_statements_over_real_http_and_read_back_with_more(
        live_lrs: tuple[str, tuple[str, str]]) -> None:
    base, auth = live_lrs
    headers = {"X-Experience-API-Version": "1.0.3"}
    with requests.Session() as http:
        sent = http.post(f"{base}/statements", json=moodle_statements(), auth=auth,
                         headers=headers, timeout=30)
        assert sent.status_code == 200, sent.text
        seen: list[str] = []
        url = f"{base}/statements?limit=5&ascending=true"
        while url:
            page = http.get(url, auth=auth, headers=headers, timeout=30)
            assert page.status_code == 200 and page.headers["X-Experience-API-Version"]
            seen += [s["id"] for s in page.json()["statements"]]
            more = page.json()["more"]
            url = base.removesuffix("/xapi") + more if more else ""
        assert sorted(seen) == sorted(sent.json())
        refused = http.get(f"{base}/statements", headers=headers, timeout=30)
        assert refused.status_code == 401
