"""Statement queries of ProfRoute's LRS: each filter, formats, `more` paging, bad parameters."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app.extensions import db
from app.xapi.credentials import create_credential

SITE = "http://www.example.org"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
MENTORED = "http://id.tincanapi.com/verb/mentored"
REGISTRATION = "58028332-2277-5b51-a632-7836992917ea"
QUIZ = f"{SITE}/mod/quiz/view.php?id=9"
SHA1 = hashlib.sha1(b"mailto:hidden@example.org").hexdigest()  # noqa: S324


def course(n: int) -> str:
    return f"{SITE}/course/view.php?id={n}"


def account(user: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": SITE, "name": user}}


def statement(n: int = 1, actor: dict[str, Any] | None = None, verb: str = COMPLETED,
              **extra: Any) -> dict[str, Any]:
    return {"actor": actor or account("2"), "verb": {"id": verb, "display": {"en": "did"}},
            "object": {"objectType": "Activity", "id": course(n),
                       "definition": {"name": {"en": "Course", "ru-RU": "Курс"}}},
            **extra}


class Lrs:
    def __init__(self, client: FlaskClient, key: str, secret: str) -> None:
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.client = client
        self.headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    def post(self, body: Any) -> list[str]:
        answer = self.client.post("/xapi/statements", json=body, headers=self.headers)
        assert answer.status_code == 200, answer.json
        return list(answer.json)

    def get(self, url: str = "/xapi/statements", **params: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, query_string=params or None, headers=self.headers)

    def ids(self, **params: Any) -> list[str]:
        answer = self.get(**params)
        assert answer.status_code == 200, answer.json
        return [s["id"] for s in answer.json["statements"]]


@pytest.fixture
def lrs(client: FlaskClient) -> Lrs:
    credential, secret = create_credential(SITE, "Moodle test site")
    return Lrs(client, credential.key, secret)


@pytest.fixture
def named(lrs: Lrs) -> dict[str, str]:
    """A few statements, each showing a filter, by name."""
    statements = {
        "with_context": statement(1, context={
            "registration": REGISTRATION, "instructor": {"mbox": "mailto:mentor@example.org"},
            "contextActivities": {"parent": [{"id": QUIZ}]}}),
        "other_user": statement(2, actor=account("3")),
        "by_mbox": statement(1, actor={"mbox": "mailto:t@example.org"}),
        "agent_object": {"actor": {"mbox": "mailto:mentor@example.org"},
                         "verb": {"id": MENTORED}, "object": account("2")},
        "by_sha1": statement(3, actor={"mbox_sha1sum": SHA1}, verb=MENTORED),
    }
    return dict(zip(statements, lrs.post(list(statements.values())), strict=True))


@pytest.mark.parametrize(("params", "expected"), [
    ({"verb": COMPLETED}, {"with_context", "other_user", "by_mbox"}),
    ({"activity": course(1)}, {"with_context", "by_mbox"}),
    ({"activity": QUIZ}, set()),
    ({"activity": QUIZ, "related_activities": "true"}, {"with_context"}),
    ({"agent": account("2")}, {"with_context", "agent_object"}),
    ({"agent": {"account": {"homePage": SITE, "name": "3"}}}, {"other_user"}),
    ({"agent": {"mbox": "mailto:t@example.org"}}, {"by_mbox"}),
    ({"agent": {"mbox_sha1sum": SHA1}}, {"by_sha1"}),
    ({"agent": {"mbox": "mailto:mentor@example.org"}}, {"agent_object"}),
    ({"agent": {"mbox": "mailto:mentor@example.org"}, "related_agents": "true"},
     {"with_context", "agent_object"}),
    ({"registration": REGISTRATION.upper()}, {"with_context"}),
    ({"verb": MENTORED, "agent": account("2")}, {"agent_object"}),
])
def test_each_filter_selects_its_statements(lrs: Lrs, named: dict[str, str],
                                            params: dict[str, Any], expected: set[str]) -> None:
    if "agent" in params:
        params = {**params, "agent": json.dumps(params["agent"])}
    by_id = {v: k for k, v in named.items()}
    assert {by_id[i] for i in lrs.ids(**params)} == expected


def test_since_and_until_follow_stored_and_limit_and_ascending_order(lrs: Lrs) -> None:
    first = lrs.post(statement(1))
    time.sleep(0.01)
    second = lrs.post(statement(2))
    time.sleep(0.01)
    third = lrs.post(statement(3))
    stored = lrs.get(statementId=first[0]).json["stored"]
    assert lrs.ids() == third + second + first
    assert lrs.ids(ascending="true") == first + second + third
    assert lrs.ids(since=stored) == third + second
    assert lrs.ids(until=stored) == first
    assert lrs.ids(limit=1) == third


@pytest.mark.parametrize("ascending", [False, True])
def test_more_pages_neither_repeat_nor_lose_statements_while_new_ones_arrive(
        lrs: Lrs, ascending: bool) -> None:
    original = [i for n in range(5) for i in lrs.post([statement(n) for _ in range(5)])]
    seen: list[str] = []
    answer = lrs.get(limit=4, ascending=str(ascending).lower())
    pages = 0
    while True:
        assert answer.status_code == 200, answer.json
        seen += [s["id"] for s in answer.json["statements"]]
        pages += 1
        lrs.post([statement(99), statement(98)])  # arrive between pages
        if not answer.json["more"]:
            break
        assert answer.json["more"].startswith("/xapi/statements?more=")
        answer = lrs.get(answer.json["more"])
    assert pages == 7
    assert len(seen) == len(set(seen)) and set(seen) == set(original)
    assert len(lrs.ids(limit=0)) == 25 + 2 * 7


def test_formats_ids_and_canonical(lrs: Lrs) -> None:
    [statement_id] = lrs.post(statement(1, context={"contextActivities": {
        "parent": [{"id": QUIZ, "definition": {"name": {"en": "Quiz"}}}]}}))
    ids = lrs.get(statementId=statement_id, format="ids").json
    assert ids["actor"] == account("2") and ids["verb"] == {"id": COMPLETED}
    assert ids["object"] == {"id": course(1)}
    assert ids["context"]["contextActivities"] == {"parent": [{"id": QUIZ}]}
    answer = lrs.client.get("/xapi/statements", query_string={"format": "canonical"},
                            headers={**lrs.headers, "Accept-Language": "ru"})
    [canonical] = answer.json["statements"]
    assert canonical["object"]["definition"]["name"] == {"ru-RU": "Курс"}
    assert canonical["verb"]["display"] == {"en": "did"}
    assert lrs.get(statementId=statement_id).json["object"]["definition"]["name"] == {
        "en": "Course", "ru-RU": "Курс"}


def test_consistent_through_is_answered_on_every_statements_get(lrs: Lrs) -> None:
    answer = lrs.get()
    through = dt.datetime.fromisoformat(answer.headers["X-Experience-API-Consistent-Through"])
    assert through <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("params", [
    {"unknown": "1"}, {"more": "garbage!"}, {"statementId": "x", "verb": COMPLETED},
    {"statementId": "x", "voidedStatementId": "y"}, {"agent": "not json"},
    {"agent": json.dumps({"name": "no identifier"})}, {"limit": "-1"}, {"limit": "ten"},
    {"since": "yesterday"}, {"format": "bogus"}, {"ascending": "yes"},
])
def test_bad_query_parameters_are_400(lrs: Lrs, params: dict[str, str]) -> None:
    answer = lrs.get(**params)
    assert answer.status_code == 400
    assert answer.json["code"] == 400 and answer.json["message"]


def test_a_batch_of_100_is_stored_with_a_few_queries(app: Flask, lrs: Lrs) -> None:
    lrs.post(statement(1))  # the credential check is cached after its first use
    executed: list[str] = []

    def count(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        executed.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        ids = lrs.post([statement(n, context={"registration": REGISTRATION})
                        for n in range(100)])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(ids) == 100
    assert len(executed) <= 8, executed


def test_a_forged_more_token_is_400_not_a_crash(lrs: Lrs) -> None:
    from app.xapi.query import StatementQuery

    good = StatementQuery(limit=1, after=("2026-11-20T10:00:00+00:00", "x")).cursor()
    assert lrs.get(more=good).status_code == 200
    for forged in ({"after": ["not a time", "x"]}, {"limit": "ten"}, {"agent": ["x"]}):
        data = {**json.loads(base64.urlsafe_b64decode(good + "==")), **forged}
        token = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
        assert lrs.get(more=token).status_code == 400, forged
