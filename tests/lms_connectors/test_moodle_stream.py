"""Streamed reads (the whole course's gradebook in one call) over real HTTP to the sandbox."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest
import requests

from app.demo.sandbox import running_sandbox
from lms_connectors.exceptions import InvalidRequest, InvalidToken, MoodleUnavailable
from lms_connectors.moodle.api import MoodleAPI
from lms_connectors.moodle.client import MoodleClient


@pytest.fixture(scope="module")
def moodle() -> Iterator[tuple[str, str]]:
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        yield url, token


def fault(url: str, token: str, mode: str, times: int) -> None:
    requests.post(f"{url}/_sandbox/faults", json={
        "function": "gradereport_user_get_grade_items", "mode": mode, "times": times},
        headers={"X-Sandbox-Token": token}, timeout=5).raise_for_status()


def api_for(url: str, token: str, **kw: object) -> MoodleAPI:
    return MoodleAPI(MoodleClient(url, token, sleep=lambda _: None, timeout=2, **kw))


def test_streamed_gradebook_equals_the_plain_answer(moodle: tuple[str, str]) -> None:
    url, token = moodle
    api = api_for(url, token)
    grades = api.quiz_grade_changes(2, 9)
    plain = api.client.call("gradereport_user_get_grade_items", {"courseid": 2})
    expected = {(u["userid"], i["gradedatesubmitted"]) for u in plain["usergrades"]
                for i in u["gradeitems"] if i["itemmodule"] == "quiz"}
    assert {(g.user_id, g.date_submitted) for g in grades} == expected
    assert len(grades) >= 150 and api.client.calls == 2


@pytest.mark.parametrize(("mode", "error"), [("http500", MoodleUnavailable),
                                             ("html", MoodleUnavailable),
                                             ("invalidtoken", InvalidToken)])
def test_streamed_read_errors_are_typed(moodle: tuple[str, str], mode: str, error: type,
                                        caplog: pytest.LogCaptureFixture) -> None:
    url, token = moodle
    fault(url, token, mode, 10)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(error) as raised:
            api_for(url, token, retries=1).quiz_grade_changes(2, 9)
    finally:
        fault(url, token, mode, 0)
    assert token not in str(raised.value) and token not in caplog.text


def test_streamed_read_is_retried_after_a_transient_failure(moodle: tuple[str, str]) -> None:
    url, token = moodle
    fault(url, token, "http500", 1)
    api = api_for(url, token, retries=2)
    assert len(api.quiz_grade_changes(2, 9)) >= 150
    assert api.client.calls == 2


def test_streamed_read_backs_off_exponentially_and_logs_each_retry(
        moodle: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    url, token = moodle
    sleeps: list[float] = []
    fault(url, token, "http500", 2)
    client = MoodleClient(url, token, sleep=sleeps.append, timeout=2, retries=3, backoff=0.25)
    with caplog.at_level(logging.WARNING, logger="lms_connectors"):
        assert len(MoodleAPI(client).quiz_grade_changes(2, 9)) >= 150
    assert sleeps == [0.25, 0.5] and client.calls == 3
    assert [r.getMessage().split(" failed")[0] for r in caplog.records] == [
        "Moodle gradereport_user_get_grade_items attempt 1 of 4",
        "Moodle gradereport_user_get_grade_items attempt 2 of 4"]


def test_writes_cannot_be_streamed(moodle: tuple[str, str]) -> None:
    url, token = moodle
    with pytest.raises(InvalidRequest):
        MoodleClient(url, token).call_items("enrol_manual_enrol_users", {}, "item", dict)


def schedule(url: str, token: str, *modes: str) -> None:
    """Cut or fail the next calls of the gradebook read in ``modes``' order (none: clear)."""
    faults = [{"function": "gradereport_user_get_grade_items", "nth": nth, "mode": mode}
              for nth, mode in enumerate(modes, start=1)]
    requests.post(f"{url}/_sandbox/schedule", json={"faults": faults},
                  headers={"X-Sandbox-Token": token}, timeout=5).raise_for_status()


def test_a_streamed_read_cut_mid_body_is_retried(moodle: tuple[str, str]) -> None:
    url, token = moodle
    schedule(url, token, "reset")
    try:
        api = api_for(url, token, retries=2)
        assert len(api.quiz_grade_changes(2, 9)) >= 150
    finally:
        schedule(url, token)
    assert api.client.calls == 2  # the cut gradebook, then its retry


def test_a_streamed_read_cut_every_time_is_moodle_unavailable(
        moodle: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    url, token = moodle
    schedule(url, token, "reset", "reset")
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(MoodleUnavailable) as raised:
            api_for(url, token, retries=1).quiz_grade_changes(2, 9)
    finally:
        schedule(url, token)
    assert raised.value.transient and "ChunkedEncodingError" in str(raised.value)
    assert token not in str(raised.value) and token not in caplog.text
