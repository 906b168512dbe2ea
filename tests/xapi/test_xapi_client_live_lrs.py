"""The LRS client against a real LRS (Ralph) over HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import requests

from xapi import vocab
from xapi.client import LRSClient
from xapi.exceptions import LRSAuthError, LRSRejected
from xapi.mapping import map_statements
from xapi.times import format_timestamp

pytestmark = pytest.mark.slow


def course_statement(site: str, user: int, course: int, verb: str = vocab.VERB_COMPLETED,
                     **extra) -> dict:
    return {"actor": {"objectType": "Agent", "account": {"homePage": site, "name": str(user)}},
            "verb": {"id": verb}, "timestamp": "2026-02-01T09:00:00Z",
            "object": {"objectType": "Activity", "id": f"{site}/course/view.php?id={course}",
                       "definition": {"type": vocab.TYPE_COURSE}}, **extra}


def teacher(site: str, user: int = 1) -> dict:
    return {"objectType": "Agent", "account": {"homePage": site, "name": str(user)}}


def test_put_then_read_back_one_statement_by_id(client: LRSClient, lrs) -> None:
    statement = course_statement(lrs.site, 1, 5, id=str(uuid.uuid4()))
    assert client.put_statement(statement) == statement["id"]
    stored = client.statement(statement["id"])  # Ralph answers a list: tolerated
    assert stored is not None and stored["object"]["id"] == statement["object"]["id"]
    assert "stored" in stored
    assert client.statement(str(uuid.uuid4())) is None


def test_put_of_an_already_stored_id_is_not_an_error(client: LRSClient, lrs) -> None:
    statement = course_statement(lrs.site, 1, 5, id=str(uuid.uuid4()))
    client.put_statement(statement)
    assert client.put_statement(statement) == statement["id"]  # same body: 204 or 409
    changed = {**statement, "verb": {"id": vocab.VERB_VIEWED}}
    assert client.put_statement(changed) == statement["id"]  # 409: it holds the id already
    assert client.statement(statement["id"])["verb"]["id"] == vocab.VERB_COMPLETED


def test_post_batch_returns_ids_in_order_and_a_resend_stores_nothing_new(
        client: LRSClient, lrs) -> None:
    batch = [course_statement(lrs.site, user, 5) for user in (1, 2, 3)]
    ids = client.post_statements(batch)
    assert len(set(ids)) == 3 and all(uuid.UUID(i) for i in ids)
    with_ids = [{**s, "id": i} for s, i in zip(batch, ids, strict=True)]
    assert client.post_statements(with_ids) == ids  # all stored: Ralph answers 204
    users = [s["actor"]["account"]["name"]
             for s in client.get_statements(agent=teacher(lrs.site, 2))]
    assert users == ["2"]


def test_pull_follows_more_links_across_pages_in_stored_order(client: LRSClient, lrs) -> None:
    ids = [client.put_statement(course_statement(lrs.site, 1, course, id=str(uuid.uuid4())))
           for course in range(1, 8)]
    pulled = list(client.get_statements(agent=teacher(lrs.site), limit=2))
    assert [s["id"] for s in pulled] == ids  # 4 pages of 2, oldest first
    newest_first = list(client.get_statements(agent=teacher(lrs.site), limit=3,
                                              ascending=False))
    assert [s["id"] for s in newest_first] == ids[::-1]


def test_pull_since_a_stored_time_returns_only_later_statements(client: LRSClient, lrs) -> None:
    first = client.post_statements([course_statement(lrs.site, 1, c) for c in (1, 2)])
    cursor = client.statement(first[-1])["stored"]
    time.sleep(0.01)
    later = client.post_statements([course_statement(lrs.site, 1, c) for c in (3, 4, 5)])
    pulled = [s["id"] for s in client.get_statements(since=cursor, agent=teacher(lrs.site),
                                                       limit=2)]
    assert pulled == later
    until = [s["id"] for s in client.get_statements(until=cursor, agent=teacher(lrs.site))]
    assert until == first


def test_pull_filters_by_verb_and_activity(client: LRSClient, lrs) -> None:
    client.post_statements([course_statement(lrs.site, 1, 1),
                            course_statement(lrs.site, 1, 2, verb=vocab.VERB_VIEWED),
                            course_statement(lrs.site, 1, 2)])
    viewed = list(client.get_statements(agent=teacher(lrs.site), verb=vocab.VERB_VIEWED))
    course2 = list(client.get_statements(agent=teacher(lrs.site),
                                         activity=f"{lrs.site}/course/view.php?id=2"))
    assert [s["verb"]["id"] for s in viewed] == [vocab.VERB_VIEWED]
    assert len(course2) == 2


def test_rejected_batch_is_split_until_only_the_bad_statements_stay(
        client: LRSClient, lrs) -> None:
    good = [course_statement(lrs.site, 1, c) for c in range(1, 6)]
    bad_verb = {**course_statement(lrs.site, 1, 9), "verb": {}}  # Ralph is lax: no id only
    no_actor = {k: v for k, v in course_statement(lrs.site, 1, 9).items() if k != "actor"}
    batch = [good[0], bad_verb, *good[1:4], no_actor, good[4]]
    with pytest.raises(LRSRejected) as whole:
        client.post_statements(batch)
    assert whole.value.status in (400, 422)  # Ralph answers FastAPI's 422, xAPI says 400
    assert whole.value.reason == "body.1.verb.id: Field required"  # one line, the LRS's words
    stored, rejected = client.post_batch_split(batch, batch_size=4)
    assert len(stored) == 5
    assert [s["object"]["id"] for s, _ in rejected] == [bad_verb["object"]["id"]] * 2
    assert [err.reason for _, err in rejected] == ["body.0.verb.id: Field required",
                                                    "body.0.actor: Field required"]
    assert all(isinstance(err, LRSRejected) and err.status in (400, 422) for _, err in rejected)
    pulled = {s["id"] for s in client.get_statements(agent=teacher(lrs.site))}
    assert pulled == set(stored)


def test_batch_with_an_id_the_lrs_holds_differently_still_stores_the_others(
        client: LRSClient, lrs) -> None:
    held = course_statement(lrs.site, 1, 1, id=str(uuid.uuid4()))
    client.put_statement(held)
    batch = [course_statement(lrs.site, 1, 2), {**held, "verb": {"id": vocab.VERB_VIEWED}},
             course_statement(lrs.site, 1, 3)]
    stored, rejected = client.post_batch_split(batch)
    assert rejected == [] and held["id"] in stored and len(stored) == 3
    assert len(list(client.get_statements(agent=teacher(lrs.site)))) == 3


def test_wrong_password_is_an_auth_error_that_never_shows_the_secrets(
        lrs, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wrong-" + lrs.password
    with requests.Session() as session:
        client = LRSClient(lrs.settings(password=wrong), session)
        with pytest.raises(LRSAuthError) as err:
            list(client.get_statements())
    assert err.value.status == 401 and "\n" not in str(err.value)
    text = f"{err.value} {err.value!r} {client!r} {client.settings!r} {caplog.text}"
    assert wrong not in text and lrs.password not in text
    assert "hint:" in str(err.value)


def test_moodle_log_store_statements_map_the_same_after_a_trip_through_the_lrs(
        client: LRSClient, load_case, case_names) -> None:
    since = format_timestamp(time.time() - 1)
    site, quiz_ids, sent = "http://www.example.org", {1: 1}, []
    for case in case_names:
        sent.extend(load_case(case)[1])
    stored = client.post_statements(sent)
    pulled = [s for s in client.get_statements(since=since, limit=7) if s["id"] in set(stored)]
    assert [s["id"] for s in pulled] == stored
    before = map_statements(sent, site, quiz_ids=quiz_ids)
    after = map_statements(pulled, site, quiz_ids=quiz_ids)
    assert after.events == before.events and len(after.events) == 11
    assert after.counts == before.counts
