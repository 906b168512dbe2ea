"""The own endpoint under concurrent senders: a pull running beside them applies every
statement exactly once, with the safety overlap and consistency margin switched off, so the
endpoint's ordering alone is what the test checks (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from app.xapi import query, sync
from app.xapi.credentials import create_credential

SITE = "http://moodle.example.org"
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
            "actor": {"objectType": "Agent", "account": {"homePage": SITE, "name": str(sender)}},
            "verb": {"id": "http://id.tincanapi.com/verb/viewed"},
            "object": {"objectType": "Activity", "id": f"{SITE}/course/view.php?id=2"},
            "timestamp": "2026-11-20T10:00:00Z"}


def test_a_pull_beside_concurrent_senders_applies_each_statement_once(
        app: Flask, endpoint: tuple[str, tuple[str, str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "OVERLAP", dt.timedelta(0))
    monkeypatch.setattr(query, "CONSISTENCY_MARGIN", dt.timedelta(0))
    applied: list[str] = []
    real = sync.map_statements

    def spy(statements: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        applied.extend(str(s["id"]) for s in statements)
        return real(statements, *args, **kwargs)

    monkeypatch.setattr(sync, "map_statements", spy)
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
