"""xAPI pulls never skip: a cursor per source, an overlap read again and deduplicated by id,
the LRS's consistency instant honoured, what cannot be used reported, and a pull beside
concurrent senders to the own endpoint (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from app.common.store import get_or_create
from app.extensions import db
from app.models import SyncCursor, Teacher, XapiPulledStatement
from app.xapi import query, sync
from app.xapi.credentials import create_credential
from app.xapi.store import store_statements
from app.xapi.sync import LEGACY_LRS_CURSOR, RECEIVED_CURSOR, lrs_cursor_name, pull_from_lrs
from xapi.client import StatementPage
from xapi.exceptions import LRSUnavailable
from xapi.settings import LRSSettings

SITE = "http://moodle.example.org"
ENDPOINT = "http://lrs.example.org/xapi/"
T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def completed(user: int, course: int, stored: dt.datetime | None = None,
              site: str = SITE) -> dict[str, Any]:
    """A Moodle course completion as the log store sends it (``stored`` as an LRS sets it)."""
    statement = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": site, "name": str(user)}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": f"{site}/course/view.php?id={course}",
                   "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"}},
        "result": {"completion": True},
        "timestamp": "2026-11-20T10:00:00Z"}
    if stored is not None:
        statement["stored"] = stored.isoformat().replace("+00:00", "Z")
    return statement


class FakeLRS:
    """An LRS answering ``since`` queries from a list; ``fail_after`` pages then unavailable."""

    def __init__(self, statements: list[dict[str, Any]], page: int = 2,
                 consistent_through: dt.datetime | None = None) -> None:
        self.settings = LRSSettings(endpoint=ENDPOINT)
        self.statements, self.page, self.consistent = statements, page, consistent_through
        self.fail_after: int | None = None
        self.since: list[dt.datetime | None] = []

    def get_statement_pages(self, *, since: dt.datetime | None = None,
                            **_: Any) -> Iterator[StatementPage]:
        self.since.append(since)
        found = sorted((s for s in self.statements
                        if since is None or s["stored"] >= since.isoformat()[:23]),
                       key=lambda s: s["stored"])
        for number, start in enumerate(range(0, len(found), self.page)):
            if self.fail_after is not None and number >= self.fail_after:
                raise LRSUnavailable("LRS went away mid-read")
            yield StatementPage(found[start:start + self.page], self.consistent)


@pytest.fixture
def site(app: Flask):  # type: ignore[no-untyped-def]
    settings = app.config["PROFROUTE_SETTINGS"].replace(moodle_url=SITE)
    app.config["PROFROUTE_SETTINGS"] = settings
    db.session.add_all([Teacher(moodle_user_id=u, username=f"t{u}", lastname="Т", firstname="Т")
                        for u in (1, 2, 3)])
    db.session.commit()
    return settings


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of every statement a pull maps (applies), in order."""
    seen: list[str] = []
    real = sync.map_statements

    def spy(statements: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        seen.extend(str(s["id"]) for s in statements)
        return real(statements, *args, **kwargs)

    monkeypatch.setattr(sync, "map_statements", spy)
    return seen


def received(statements: list[dict[str, Any]]) -> None:
    credential, _ = create_credential(SITE)
    store_statements(statements, credential, "1.0.3")


def test_each_source_keeps_its_own_cursor(site, applied: list[str]) -> None:  # type: ignore[no-untyped-def]
    lrs = FakeLRS([completed(1, 2, T0), completed(2, 2, T0 + dt.timedelta(seconds=1))])
    received([completed(3, 5)])  # stored now: later than everything in the LRS
    assert sync.pull_received(site).statements == 1
    first = pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert first.statements == 2 and first.completions == 2
    assert lrs.since == [None]
    cursors = {c.name: c.value for c in db.session.scalars(select(SyncCursor))}
    assert set(cursors) == {RECEIVED_CURSOR, lrs_cursor_name(ENDPOINT)}
    assert cursors[lrs_cursor_name(ENDPOINT)] == "2026-12-01T10:00:01Z"
    assert len(applied) == len(set(applied)) == 3


def test_statements_sharing_a_stored_instant_and_a_failed_run_lose_nothing(
        site, applied: list[str]) -> None:  # type: ignore[no-untyped-def]
    same = [completed(1, course, T0) for course in range(1, 6)]
    lrs = FakeLRS(same, page=2)
    lrs.fail_after = 1
    with pytest.raises(LRSUnavailable):
        pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert len(applied) == 2  # the first page was applied and committed with the cursor
    lrs.fail_after = None
    lrs.statements.append(completed(2, 9, T0))  # the LRS stored one more at the same instant
    again = pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert lrs.since[-1] == T0 - sync.OVERLAP
    assert again.already_pulled == 2 and again.statements == 4
    assert sorted(applied) == sorted(s["id"] for s in lrs.statements)
    third = pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert third.statements == 0 and third.already_pulled == 6


def test_the_cursor_never_passes_the_lrs_consistency_instant(
        site, applied: list[str]) -> None:  # type: ignore[no-untyped-def]
    lrs = FakeLRS([completed(1, 1, T0 + dt.timedelta(minutes=30))], consistent_through=T0)
    pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    cursor = db.session.get(SyncCursor, lrs_cursor_name(ENDPOINT))
    assert cursor is not None and cursor.value == "2026-12-01T10:00:00Z"
    late = completed(2, 1, T0 + dt.timedelta(minutes=5))  # became visible only now
    lrs.statements.append(late)
    lrs.consistent = T0 + dt.timedelta(hours=1)
    second = pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert second.statements == 1 and applied[-1] == late["id"]


def test_applied_ids_are_forgotten_once_out_of_the_overlap(site) -> None:  # type: ignore[no-untyped-def]
    lrs = FakeLRS([completed(1, 1, T0), completed(1, 2, T0 + 2 * sync.OVERLAP)], page=5)
    pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    kept = db.session.scalars(select(XapiPulledStatement.statement_id)).all()
    assert kept == [lrs.statements[1]["id"]]


def test_a_narrowed_pull_does_not_move_the_full_cursor(site) -> None:  # type: ignore[no-untyped-def]
    lrs = FakeLRS([completed(1, 1, T0)])
    pull_from_lrs(lrs, site, verb="http://adlnet.gov/expapi/verbs/completed")  # type: ignore[arg-type]
    assert db.session.get(SyncCursor, lrs_cursor_name(ENDPOINT)) is None
    assert pull_from_lrs(lrs, site).statements == 1  # type: ignore[arg-type]


def test_the_cursor_the_sources_shared_is_adopted_by_the_lrs_once(site) -> None:  # type: ignore[no-untyped-def]
    get_or_create(SyncCursor, name=LEGACY_LRS_CURSOR).value = "2026-12-01T10:00:00Z"
    db.session.commit()
    lrs = FakeLRS([])
    pull_from_lrs(lrs, site)  # type: ignore[arg-type]
    assert lrs.since == [T0 - sync.OVERLAP]
    assert db.session.get(SyncCursor, LEGACY_LRS_CURSOR) is None


def test_other_sites_and_unknown_people_are_counted_and_reported(
        site, runner) -> None:  # type: ignore[no-untyped-def]
    received([completed(1, 2), completed(42, 2), completed(43, 3),
              completed(1, 2, site="http://other.example.org"),
              completed(1, 3, site="http://other.example.org/")])
    result = runner.invoke(["xapi-pull", "--source", "received"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["statements"] == 5 and summary["completions"] == 1
    assert summary["other_site"] == 2
    assert summary["other_sites"] == {"http://other.example.org": 2}
    assert summary["unknown_people"] == 2 and summary["unknown_user_ids"] == [42, 43]


SENDERS, POSTS, PER_POST = 20, 4, 4


@pytest.fixture
def endpoint(app: Flask) -> Iterator[tuple[str, tuple[str, str]]]:
    credential, secret = create_credential(SITE)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/xapi/statements", (credential.key, secret)
    server.shutdown()
    thread.join(5)


def viewed(sender: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent",
                      "account": {"homePage": SITE, "name": str(sender)}},
            "verb": {"id": "http://id.tincanapi.com/verb/viewed"},
            "object": {"objectType": "Activity", "id": f"{SITE}/course/view.php?id=2"},
            "timestamp": "2026-11-20T10:00:00Z"}


def test_a_pull_beside_concurrent_senders_applies_each_statement_once(
        app: Flask, endpoint: tuple[str, tuple[str, str]], applied: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The endpoint's ordering alone (overlap and consistency margin off) keeps a pull
    running beside 20 senders from skipping any statement."""
    monkeypatch.setattr(sync, "OVERLAP", dt.timedelta(0))
    monkeypatch.setattr(query, "CONSISTENCY_MARGIN", dt.timedelta(0))
    url, auth = endpoint
    sent: list[str] = []
    failures: list[str] = []

    def send(sender: int) -> None:
        with requests.Session() as http:
            for _ in range(POSTS):
                batch = [viewed(sender) for _ in range(PER_POST)]
                answer = http.post(url, json=batch, auth=auth, timeout=60,
                                   headers={"X-Experience-API-Version": "1.0.3"})
                if answer.status_code != 200:
                    failures.append(answer.text)
                else:
                    sent.extend(s["id"] for s in batch)

    senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
    for thread in senders:
        thread.start()
    settings = app.config["PROFROUTE_SETTINGS"]
    pulls = 0
    while any(thread.is_alive() for thread in senders):
        sync.pull_received(settings, page=7)
        pulls += 1
    sync.pull_received(settings, page=7)
    assert not failures
    assert pulls > 1  # the pull really ran beside the senders
    assert len(sent) == SENDERS * POSTS * PER_POST
    assert len(applied) == len(set(applied))
    assert sorted(applied) == sorted(sent)
