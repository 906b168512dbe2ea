"""Regression cases of the ADL LRS conformance suite, one per class of failure it found in the
statements endpoint (the suite itself runs outside ``make test``: tests/tools/xapi-conformance.sh)."""

from __future__ import annotations

import base64
import copy
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.xapi.credentials import create_credential

AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.org"}
OTHER = {"objectType": "Agent", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
ACTIVITY = {"objectType": "Activity", "id": "http://example.org/meetings/1"}


def statement(**changes: Any) -> dict[str, Any]:
    return {"actor": AGENT, "verb": {"id": ATTENDED}, "object": ACTIVITY, **changes}


def substatement(**changes: Any) -> dict[str, Any]:
    return {"objectType": "SubStatement", "actor": OTHER, "verb": {"id": ATTENDED},
            "object": ACTIVITY, **changes}


class Lrs:
    """The test client with a credential and the version header."""

    def __init__(self, client: FlaskClient) -> None:
        credential, secret = create_credential("http://moodle.example.org")
        token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
        self.client = client
        self.headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    def post(self, body: Any):  # type: ignore[no-untyped-def]
        return self.client.post("/xapi/statements", json=body, headers=self.headers)

    def get(self, **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get("/xapi/statements", query_string=params, headers=self.headers)


@pytest.fixture
def lrs(client: FlaskClient) -> Lrs:
    return Lrs(client)


VALID = {
    "anonymous group as instructor": statement(context={"instructor": {
        "objectType": "Group", "member": [AGENT, OTHER]}}),
    "identified group as instructor": statement(context={"instructor": {
        "objectType": "Group", "mbox": "mailto:team@example.org"}}),
    "group with an account as team": statement(context={"team": {
        "objectType": "Group", "account": {"homePage": "http://example.org", "name": "t"}}}),
    "agent as a sub-statement's object": statement(object=substatement(object=AGENT)),
    "group as a sub-statement's object": statement(object=substatement(object={
        "objectType": "Group", "member": [AGENT]})),
    "group instructor in a sub-statement": statement(object=substatement(context={
        "instructor": {"objectType": "Group", "member": [AGENT]}})),
    "empty definition": statement(object={**ACTIVITY, "definition": {}}),
    "empty activity extensions": statement(object={**ACTIVITY, "definition": {
        "extensions": {}}}),
    "empty result extensions": statement(result={"extensions": {}}),
    "empty context extensions": statement(context={"extensions": {}}),
    "version 1.0": statement(version="1.0"),
    "week duration": statement(result={"duration": "P4W"}),
}
INVALID = {
    "agent as object without objectType": (statement(object={"mbox": AGENT["mbox"]}),
                                           "object.id"),
    "openid that is no URI": (statement(actor={"objectType": "Agent", "openid": "nope"}),
                              "actor.openid"),
    "score as a string": (statement(result={"score": {"max": "100"}}), "result.score.max"),
    "weeks with days": (statement(result={"duration": "P4W1D"}), "result.duration"),
    "duration without a number": (statement(result={"duration": "PTxS"}), "result.duration"),
    "-00:00 offset": (statement(timestamp="2026-05-18T05:32:34.804-00:00"), "timestamp"),
    "revision with a StatementRef in a sub-statement": (statement(object=substatement(
        object={"objectType": "StatementRef", "id": str(uuid.uuid4())},
        context={"revision": "r1"})), "object"),
    "identified group as authority": (statement(authority={
        "objectType": "Group", "mbox": "mailto:team@example.org"}), "authority"),
    "one-member group as authority": (statement(authority={
        "objectType": "Group", "member": [AGENT]}), "authority"),
    "attachment content type as a number": (statement(attachments=[{
        "usageType": "http://example.org/usage", "display": {"en": "a"}, "contentType": 5,
        "length": 1, "sha2": "ab"}]), "attachments[0].contentType"),
    "empty name": (statement(actor={**AGENT, "name": ""}), "actor"),
}


def test_valid_statements_are_stored(lrs: Lrs) -> None:
    refused = {}
    for name, body in VALID.items():
        answer = lrs.post(copy.deepcopy(body))
        if answer.status_code != 200:
            refused[name] = answer.json
    assert refused == {}


def test_invalid_statements_are_400_with_the_field(lrs: Lrs) -> None:
    wrong = {}
    for name, (body, field) in INVALID.items():
        answer = lrs.post(body)
        if answer.status_code != 400 or not answer.json["errors"][0]["field"].startswith(field):
            wrong[name] = (answer.status_code, answer.json)
    assert wrong == {}


def test_a_single_context_activity_is_answered_as_a_list(lrs: Lrs) -> None:
    parent = {"id": "http://example.org/course/1"}
    context = {"contextActivities": {"parent": parent, "grouping": [parent]}}
    [statement_id] = lrs.post(statement(context=context, object=substatement(
        context=context))).json
    stored = lrs.get(statementId=statement_id).json
    for part in (stored, stored["object"]):
        assert part["context"]["contextActivities"] == {"parent": [parent],
                                                        "grouping": [parent]}
    same = lrs.post(statement(id=statement_id, context={"contextActivities": {
        "parent": [parent], "grouping": [parent]}}, object=substatement(context=context)))
    assert same.status_code == 200  # the list form is the same statement, not a conflict


def test_every_statements_get_says_how_far_it_is_consistent(lrs: Lrs) -> None:
    header = "X-Experience-API-Consistent-Through"
    missing = lrs.get(statementId=str(uuid.uuid4()))
    refused = lrs.get(statementId=str(uuid.uuid4()), verb=ATTENDED)
    assert (missing.status_code, refused.status_code) == (404, 400)
    assert missing.headers[header] and refused.headers[header]


def test_a_statement_ref_meets_the_filters_its_target_meets(lrs: Lrs) -> None:
    verb = f"http://example.org/verbs/{uuid.uuid4()}"
    [voided] = lrs.post(statement(verb={"id": verb})).json
    [voiding] = lrs.post(statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                                   object={"objectType": "StatementRef", "id": voided})).json
    [ref] = lrs.post(statement(verb={"id": verb}, object={
        "objectType": "StatementRef", "id": voiding})).json
    found = {s["id"] for s in lrs.get(verb=verb).json["statements"]}
    assert found == {voiding, ref}
