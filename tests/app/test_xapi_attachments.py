"""Attachments (multipart/mixed in and out, signatures) and the Alternate Request Syntax of
the statements endpoint, as the ADL conformance suite sends them."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.xapi.credentials import create_credential

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "xapi-test-boundary"


def statement(**changes: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "mbox": "mailto:learner@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"objectType": "Activity", "id": "http://example.org/meetings/1"},
            **changes}


def attachment(data: bytes, content_type: str = "text/plain",
               usage: str = "http://example.org/usage/notes") -> dict[str, Any]:
    return {"usageType": usage, "display": {"en-US": "notes"}, "contentType": content_type,
            "length": len(data), "sha2": hashlib.sha256(data).hexdigest()}


def multipart(statements: Any, *parts: tuple[str, bytes]) -> bytes:
    chunks = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode(),
              json.dumps(statements).encode()]
    for content_type, data in parts:
        chunks += [f"\r\n--{BOUNDARY}\r\nContent-Type: {content_type}\r\n"
                   "Content-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {hashlib.sha256(data).hexdigest()}\r\n\r\n".encode(),
                   data]
    return b"".join([*chunks, f"\r\n--{BOUNDARY}--".encode()])


def jws(payload: Any, alg: str = "RS256") -> bytes:
    def b64(value: Any) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{b64({'alg': alg})}.{b64(payload)}.c2lnbmF0dXJl".encode()


class Lrs:
    """The test client with a credential and the version header."""

    def __init__(self, client: FlaskClient) -> None:
        credential, secret = create_credential("http://moodle.example.org")
        self.client = client
        self.auth = "Basic " + base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
        self.headers = {"Authorization": self.auth, "X-Experience-API-Version": "1.0.3"}

    def post_multipart(self, body: bytes):  # type: ignore[no-untyped-def]
        return self.client.post("/xapi/statements", data=body, headers=self.headers,
                                content_type=f"multipart/mixed; boundary={BOUNDARY}")


@pytest.fixture
def lrs(client: FlaskClient) -> Lrs:
    return Lrs(client)


def test_an_attachment_is_stored_and_answered_with_attachments_true(lrs: Lrs) -> None:
    notes = b"meeting notes\x00\xff"
    sent = statement(attachments=[attachment(notes)])
    answer = lrs.post_multipart(multipart([sent], ("text/plain", notes)))
    assert answer.status_code == 200, answer.json
    plain = lrs.client.get("/xapi/statements", headers=lrs.headers,
                           query_string={"statementId": sent["id"]})
    assert plain.mimetype == "application/json"
    both = lrs.client.get("/xapi/statements", headers=lrs.headers,
                          query_string={"statementId": sent["id"], "attachments": "true"})
    assert both.status_code == 200 and both.mimetype == "multipart/mixed"
    assert notes in both.data and sent["id"].encode() in both.data


def test_attachments_without_their_data_or_data_without_attachment_are_400(lrs: Lrs) -> None:
    notes = b"notes"
    missing = lrs.client.post("/xapi/statements", json=statement(
        attachments=[attachment(notes)]), headers=lrs.headers)
    assert missing.status_code == 400 and "fileUrl" in missing.json["message"]
    extra = lrs.post_multipart(multipart([statement()], ("text/plain", notes)))
    assert extra.status_code == 400 and "no attachment" in extra.json["message"]
    linked = lrs.client.post("/xapi/statements", json=statement(attachments=[{
        **attachment(notes), "fileUrl": "http://example.org/notes.txt"}]), headers=lrs.headers)
    assert linked.status_code == 200


def test_a_signature_must_be_a_jws_of_the_statement_with_an_rs_algorithm(lrs: Lrs) -> None:
    def signed(payload_of: dict[str, Any], alg: str = "RS256",
               content_type: str = "application/octet-stream"):  # type: ignore[no-untyped-def]
        body = statement()
        signature = jws(payload_of or body, alg)
        body["attachments"] = [attachment(signature, content_type, SIGNATURE)]
        return lrs.post_multipart(multipart(body, (content_type, signature)))

    assert signed({}).status_code == 200
    assert signed({}, alg="HS256").status_code == 400
    assert signed(statement()).status_code == 400  # the payload is another statement
    assert signed({}, content_type="text/plain").status_code == 400


def test_the_alternate_request_syntax_stands_for_put_and_get(lrs: Lrs) -> None:
    sent = statement()
    form = {"statementId": sent["id"], "content": json.dumps(sent),
            "Authorization": lrs.auth, "X-Experience-API-Version": "1.0.3"}
    put = lrs.client.post("/xapi/statements?method=PUT", data=form)
    assert put.status_code == 204, put.json
    get = lrs.client.post("/xapi/statements?method=GET", data={
        "statementId": sent["id"], "Authorization": lrs.auth,
        "X-Experience-API-Version": "1.0.3"})
    assert get.status_code == 200 and get.json["id"] == sent["id"]
    assert get.headers["X-Experience-API-Consistent-Through"]
    extra = lrs.client.post(f"/xapi/statements?method=PUT&statementId={sent['id']}",
                            data=form)
    old = lrs.client.post("/xapi/statements?method=PUT",
                          data={**form, "X-Experience-API-Version": "0.8"})
    not_form = lrs.client.post("/xapi/statements?method=PUT", json=form, headers=lrs.headers)
    assert (extra.status_code, old.status_code, not_form.status_code) == (400, 400, 400)
