"""The LRS client's HTTP behaviour through a scripted transport and unanswering sockets."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from requests.adapters import BaseAdapter

from xapi.client import LRSClient, LRSSettings
from xapi.exceptions import (
    LRSAuthError,
    LRSConflict,
    LRSProtocolError,
    LRSRejected,
    LRSUnavailable,
    XAPIError,
)

SECRET = "Sup3r-secret-pw"
ENDPOINT = "http://lrs.test/xAPI"


class ScriptedAdapter(BaseAdapter):
    """A transport answering from a script of (status, body) and recording the requests."""

    def __init__(self, *answers: tuple[int, object]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.requests: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):  # noqa: ANN001, ANN201 - requests' signature
        self.requests.append((request, kwargs))
        status, body = self.answers.pop(0)
        response = requests.Response()
        response.status_code, response.request, response.url = status, request, request.url
        response._content = (body if isinstance(body, bytes)
                             else b"" if body is None else json.dumps(body).encode())
        return response

    def close(self) -> None:
        """Nothing to close."""


@pytest.fixture
def scripted() -> Iterator[tuple[requests.Session, list]]:
    with requests.Session() as session:
        holder: list[ScriptedAdapter] = []

        def script(*answers: tuple[int, object]) -> ScriptedAdapter:
            adapter = ScriptedAdapter(*answers)
            session.mount("http://", adapter)
            holder.append(adapter)
            return adapter

        yield session, script


def make(session: requests.Session, **overrides) -> LRSClient:
    values = {"endpoint": ENDPOINT, "username": "profroute", "password": SECRET,
              "backoff": 0.0, **overrides}
    return LRSClient(LRSSettings(**values), session)


def test_settings_normalise_endpoint_and_hide_credentials() -> None:
    settings = LRSSettings(" http://lrs.test/xAPI ", username="u", password=SECRET)
    assert settings.endpoint == "http://lrs.test/xAPI/"
    assert settings.statements_url == "http://lrs.test/xAPI/statements"
    assert SECRET not in repr(settings) and "username" not in repr(settings)


@pytest.mark.parametrize("bad", [
    {"endpoint": "lrs.test/xAPI"}, {"endpoint": f"http://u:{SECRET}@lrs.test/xAPI/"},
    {"version": "1.0.0"}, {"timeout": 0}, {"retries": -1}])
def test_settings_refuse_unusable_values_without_echoing_secrets(bad: dict) -> None:
    with pytest.raises(ValueError) as err:
        LRSSettings(**{"endpoint": ENDPOINT, **bad})
    assert SECRET not in str(err.value)


def test_settings_from_environment() -> None:
    settings = LRSSettings.from_env({"PROFROUTE_LRS_ENDPOINT": ENDPOINT,
                                     "PROFROUTE_LRS_PASSWORD": SECRET,
                                     "PROFROUTE_LRS_VERSION": "2.0.0"})
    assert (settings.version, settings.password, settings.timeout) == ("2.0.0", SECRET, 10.0)
    with pytest.raises(ValueError, match="ENDPOINT"):
        LRSSettings.from_env({})


def test_every_request_carries_version_basic_auth_and_a_timeout(scripted) -> None:
    session, script = scripted
    adapter = script((200, {"statements": []}))
    list(make(session, version="2.0.0", timeout=3.5).get_statements(limit=5))
    request, kwargs = adapter.requests[0]
    assert request.headers["X-Experience-API-Version"] == "2.0.0"
    token = base64.b64encode(f"profroute:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {token}"
    assert kwargs["timeout"] == (3.5, 3.5)
    assert "ascending=true" in request.url and "limit=5" in request.url


def test_more_links_relative_and_absolute_are_followed_to_the_end(scripted) -> None:
    session, script = scripted
    adapter = script((200, {"statements": [{"id": "a"}], "more": "/xAPI/statements?p=2"}),
                     (200, {"statements": [{"id": "b"}],
                            "more": "http://lrs.test/xAPI/statements?p=3"}),
                     (200, {"statements": [{"id": "c"}], "more": ""}))
    assert [s["id"] for s in make(session).get_statements(since=0)] == ["a", "b", "c"]
    urls = [request.url for request, _ in adapter.requests]
    assert "since=1970-01-01T00%3A00%3A00Z" in urls[0]
    assert urls[1:] == ["http://lrs.test/xAPI/statements?p=2",
                        "http://lrs.test/xAPI/statements?p=3"]


def test_a_repeated_more_link_stops_the_read(scripted) -> None:
    session, script = scripted
    page = {"statements": [{"id": "a"}], "more": "/xAPI/statements?p=2"}
    script((200, page), (200, page), (200, page))
    assert len(list(make(session).get_statements())) == 2


def test_reads_are_retried_on_5xx_then_succeed(scripted) -> None:
    session, script = scripted
    adapter = script((503, {"detail": "busy"}), (502, b"<html>bad gateway</html>"),
                     (200, {"statements": [{"id": "a"}]}))
    assert [s["id"] for s in make(session, retries=2).get_statements()] == ["a"]
    assert len(adapter.requests) == 3


def test_reads_give_up_after_the_retries_with_a_transient_error(scripted) -> None:
    session, script = scripted
    adapter = script(*[(500, {"detail": "boom"})] * 3)
    with pytest.raises(LRSUnavailable) as err:
        make(session, retries=2).statement("x")
    assert err.value.status == 500 and len(adapter.requests) == 3
    assert "retry later" in str(err.value)


def test_reads_back_off_exponentially_through_the_injected_sleep(scripted, caplog) -> None:
    session, script = scripted
    adapter = script(*[(503, {"detail": "busy"})] * 4)
    sleeps: list[float] = []
    client = LRSClient(LRSSettings(ENDPOINT, password=SECRET, retries=3, backoff=0.5), session,
                       sleep=sleeps.append)
    with caplog.at_level(logging.WARNING, logger="xapi"), pytest.raises(LRSUnavailable):
        list(client.get_statements())
    assert sleeps == [0.5, 1.0, 2.0] and len(adapter.requests) == 4
    assert [r.getMessage().split("; ")[-1] for r in caplog.records] == [
        "retry 1 in 0.5 s", "retry 2 in 1.0 s", "retry 3 in 2.0 s"]


def test_a_refused_read_is_not_retried(scripted) -> None:
    session, script = scripted
    adapter = script((400, {"detail": "bad query"}), (200, {"statements": []}))
    sleeps: list[float] = []
    client = LRSClient(LRSSettings(ENDPOINT, retries=3), session, sleep=sleeps.append)
    with pytest.raises(LRSRejected):
        list(client.get_statements())
    assert len(adapter.requests) == 1 and sleeps == []


@pytest.mark.parametrize("method", ["put", "post"])
def test_writes_are_never_retried(scripted, method: str) -> None:
    session, script = scripted
    adapter = script((503, {}), (204, None))
    client = make(session, retries=3)
    with pytest.raises(LRSUnavailable):
        if method == "put":
            client.put_statement({"id": str(uuid.uuid4())})
        else:
            client.post_statements([{"actor": {}}])
    assert len(adapter.requests) == 1


def test_post_answered_204_still_returns_the_ids_assigned_before_sending(scripted) -> None:
    session, script = scripted
    adapter = script((204, None))
    given = str(uuid.uuid4())
    ids = make(session).post_statements([{"id": given}, {"verb": {}}])
    sent = json.loads(adapter.requests[0][0].body)
    assert ids == [given, sent[1]["id"]] and uuid.UUID(ids[1])


@pytest.mark.parametrize(("status", "body", "error"), [
    (400, {"message": "verb.id\nmissing"}, LRSRejected),
    (401, {"detail": "bad"}, LRSAuthError), (403, {"detail": "scope"}, LRSAuthError),
    (409, {"detail": "differs"}, LRSConflict), (429, {}, LRSUnavailable)])
def test_answers_become_typed_errors_of_one_line(scripted, status, body, error) -> None:
    session, script = scripted
    script((status, body))
    with pytest.raises(error) as err:
        make(session).post_statements([{"id": str(uuid.uuid4())}])
    assert isinstance(err.value, XAPIError) and "\n" not in str(err.value)
    assert "hint:" in str(err.value)


def test_secret_echoed_by_the_lrs_is_scrubbed(scripted) -> None:
    session, script = scripted
    script((400, {"detail": f"password {SECRET} is not a statement"}))
    with pytest.raises(LRSRejected) as err:
        make(session).post_statements([{}])
    assert SECRET not in str(err.value) and "***" in err.value.reason


def test_statement_read_accepts_object_or_list_and_404(scripted) -> None:
    session, script = scripted
    script((200, {"id": "a", "verb": {}}), (200, {"statements": [{"id": "a"}]}),
           (404, {}), (200, [{"id": "b"}]))
    client = make(session)
    assert client.statement("a") == {"id": "a", "verb": {}}
    assert client.statement("a") == {"id": "a"}
    assert client.statement("a") is None
    assert client.statement("a") is None


def test_answer_that_is_not_a_statement_result_is_a_protocol_error(scripted) -> None:
    session, script = scripted
    script((200, b"<html>login</html>"), (200, {"id": "x"}))
    client = make(session, retries=0)
    with pytest.raises(LRSProtocolError):
        list(client.get_statements())
    with pytest.raises(LRSProtocolError, match="statement list"):
        list(client.get_statements())


def test_put_needs_an_id() -> None:
    with requests.Session() as session, pytest.raises(ValueError, match="id"):
        make(session).put_statement({"verb": {}})


@pytest.fixture
def silent_socket() -> Iterator[int]:
    """A listening port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_silent_lrs_times_out_as_unavailable_and_reads_are_retried(
        silent_socket: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with requests.Session() as session:
        client = LRSClient(LRSSettings(f"http://127.0.0.1:{silent_socket}/xAPI/",
                                       username="profroute", password=SECRET, timeout=0.3,
                                       retries=1, backoff=0.0), session)
        started = time.monotonic()
        with pytest.raises(LRSUnavailable, match="within 0.3 s"):
            list(client.get_statements())
    assert time.monotonic() - started < 5
    assert "retry 1" in caplog.text and SECRET not in caplog.text


def test_a_closed_port_is_unavailable_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with requests.Session() as session:
        client = LRSClient(LRSSettings(f"http://127.0.0.1:{port}/xAPI/", password=SECRET,
                                       timeout=1, retries=0), session)
        with pytest.raises(LRSUnavailable, match="unreachable") as err:
            client.put_statement({"id": str(uuid.uuid4())})
    assert SECRET not in str(err.value)
