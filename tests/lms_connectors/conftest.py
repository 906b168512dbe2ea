"""Fixtures for the Moodle connector tests: recorded answers served by a fake transport adapter."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from requests.adapters import BaseAdapter

from lms_connectors.moodle.client import MoodleClient

BASE_URL = "https://moodle.example.ru"
ENDPOINT = BASE_URL + "/webservice/rest/server.php"
TOKEN = "s3cr3t-t0ken-0f-pr0froute-9f8e7d"


def recordings_dir() -> Path:
    """The Moodle 4.5 recordings: $PROFROUTE_RECORDINGS_DIR, else <repo>/../shared/…/4.5."""
    configured = os.environ.get("PROFROUTE_RECORDINGS_DIR")
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "moodle-recordings" / "4.5"


def load_recording(name: str) -> dict[str, Any]:
    """Load one recording by file name, with or without ``.json``."""
    path = recordings_dir() / (name if name.endswith(".json") else name + ".json")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Step:
    """One expected request and the answer to give.

    ``params`` None means "do not check the parameters"; ``answer`` is a JSON value, a
    ``bytes`` body, or an exception instance to raise from the transport.
    """

    function: str
    params: dict[str, str] | None
    answer: Any
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class RecordingReplayAdapter(BaseAdapter):
    """A requests transport that checks each POST against a script of steps and answers it."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        super().__init__()
        self.steps = list(steps or [])
        self.sent: list[dict[str, str]] = []
        self.timeouts: list[Any] = []
        self.order: list[list[str]] = []
        self.responder: Callable[[dict[str, str]], Any] | None = None

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        assert request.method == "POST"
        assert request.url == ENDPOINT
        assert timeout is not None, "every Moodle request must carry a timeout"
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        pairs = parse_qsl(body or "", keep_blank_values=True, strict_parsing=False)
        form = dict(pairs)
        assert len(form) == len(pairs), f"a form field is sent twice: {pairs}"
        assert form.pop("wstoken") == TOKEN
        assert form.pop("moodlewsrestformat") == "json"
        self.timeouts.append(timeout)
        self.sent.append(dict(form))
        self.order.append([key for key, _ in pairs])
        function = form.pop("wsfunction")
        if self.responder is not None:
            return self._response(request, Step(function, None, self.responder(form)))
        assert self.steps, f"unexpected call of {function} with {form}"
        step = self.steps.pop(0)
        assert function == step.function
        if step.params is not None:
            assert form == step.params
        if isinstance(step.answer, BaseException):
            raise step.answer
        return self._response(request, step)

    @staticmethod
    def _response(request, step: Step) -> requests.Response:
        response = requests.Response()
        response.status_code = step.status
        response.request = request
        response.url = request.url
        response.headers["Content-Type"] = step.content_type
        response.headers.update(step.headers)
        raw = step.answer
        response._content = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class Replay:
    """A client wired to a replay adapter, and the delays it slept."""

    client: MoodleClient
    adapter: RecordingReplayAdapter
    sleeps: list[float]

    def expect(self, function: str, params: dict[str, str] | None, answer: Any, **kw) -> None:
        """Queue one expected request and its answer."""
        self.adapter.steps.append(Step(function, params, answer, **kw))

    def expect_recording(self, name: str, *, check_params: bool = True) -> dict[str, Any]:
        """Queue a recording: its function, its exact ``params`` and its ``response``."""
        rec = load_recording(name)
        self.expect(rec["function"], rec["params"] if check_params else None, rec["response"])
        return rec

    def done(self) -> None:
        """Assert every queued step was consumed."""
        assert not self.adapter.steps, f"steps not called: {self.adapter.steps}"


def make_replay(**client_options: Any) -> Replay:
    """A MoodleClient on an injected Session whose transport replays queued answers."""
    adapter = RecordingReplayAdapter()
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    sleeps: list[float] = []
    options = {"timeout": 7.5, "sleep": sleeps.append, **client_options}
    client = MoodleClient(BASE_URL, TOKEN, session, **options)
    return Replay(client, adapter, sleeps)


def _recording_names(keep) -> list[str]:
    names = []
    for path in sorted(recordings_dir().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "function" in data and keep(data):
            names.append(path.stem)
    return names


def _is_error(data: dict[str, Any]) -> bool:
    body = data.get("response")
    return isinstance(body, dict) and "exception" in body


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``structured_recording`` and ``error_recording`` over the recordings."""
    if "structured_recording" in metafunc.fixturenames:
        names = _recording_names(lambda d: d.get("params_structured") is not None)
        metafunc.parametrize("structured_recording", names)
    if "error_recording" in metafunc.fixturenames:
        metafunc.parametrize("error_recording", _recording_names(_is_error))


@pytest.fixture
def replay() -> Replay:
    """A MoodleClient (timeout 7.5 s, 3 retries, recorded sleeps) on a replaying transport."""
    return make_replay()


@pytest.fixture
def replay_factory() -> Callable[..., Replay]:
    """Build a replaying client with other options (``retries``, ``backoff``…)."""
    return make_replay


@pytest.fixture
def recording() -> Callable[[str], dict[str, Any]]:
    """Load a recording by name."""
    return load_recording


@pytest.fixture
def token() -> str:
    """The fake token every replayed request must carry."""
    return TOKEN
