"""ProfRoute's LRS client against ProfRoute's own xAPI endpoint over real HTTP."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from app.xapi.credentials import create_credential
from xapi import statements as build
from xapi.client import LRSClient
from xapi.exceptions import LRSAuthError, LRSRejected
from xapi.settings import LRSSettings

SITE = "https://moodle.example.ru"


@pytest.fixture
def endpoint(app: Flask) -> Iterator[tuple[str, str, str]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    credential, secret = create_credential(SITE)
    db.session.commit()
    key = credential.key
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}/xapi/", key, secret
    finally:
        server.shutdown()


def statements(count: int) -> list[dict]:
    return [build.item_proposed(moodle_user_id=100 + n, site_url=SITE, offer_key="pk-math",
                                offer_title="Математика", offer_kind="course",
                                competencies=["PK-01"], time=1795000000 + n)
            for n in range(count)]


def test_emit_then_pull_through_more_pages(endpoint: tuple[str, str, str]) -> None:
    url, key, secret = endpoint
    client = LRSClient(LRSSettings(endpoint=url, username=key, password=secret))
    sent = statements(25)
    stored, rejected = client.post_batch_split(sent, batch_size=10)
    assert not rejected and sorted(stored) == sorted(s["id"] for s in sent)
    again, _ = client.post_batch_split(sent, batch_size=10)  # a replay stores nothing new
    pulled = list(client.get_statements(limit=7, ascending=True))
    ids = [s["id"] for s in pulled]  # 4 pages of 7; one batch shares its stored time
    assert len(ids) == len(set(ids)) == 25 and set(ids) == {s["id"] for s in sent}
    assert client.statement(sent[3]["id"])["actor"]["account"]["name"] == "103"
    assert len(again) == 25


def test_bad_statement_and_bad_secret_are_typed(endpoint: tuple[str, str, str]) -> None:
    url, key, secret = endpoint
    client = LRSClient(LRSSettings(endpoint=url, username=key, password=secret))
    bad = statements(1)[0]
    del bad["verb"]
    with pytest.raises(LRSRejected) as refused:
        client.post_statements([bad])
    assert "verb" in str(refused.value)
    wrong = LRSClient(LRSSettings(endpoint=url, username=key, password="wrong-secret"))
    with pytest.raises(LRSAuthError) as denied:
        list(wrong.get_statements())
    assert "wrong-secret" not in str(denied.value) and secret not in str(denied.value)
