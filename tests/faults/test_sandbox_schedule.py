"""The sandbox's fault schedule: each mode fails the call it names as documented, and bad
schedules or callers without the token are refused."""

from __future__ import annotations

import pytest
import requests
from faults.harness import World

from lms_connectors.exceptions import InvalidToken, MoodleAPIError, MoodleUnavailable
from lms_connectors.moodle.client import MoodleClient

SITE_INFO = "core_webservice_get_site_info"


@pytest.fixture
def client(world: World) -> MoodleClient:
    world.sandbox.hook("schedule", {})
    return MoodleClient(world.sandbox.url, world.sandbox.token, timeout=1.0, retries=0)


def schedule(world: World, *modes: str) -> None:
    world.sandbox.hook("schedule", {"stall": 2.0, "faults": [
        {"function": SITE_INFO, "nth": n, "mode": m} for n, m in enumerate(modes, 1)]})


def test_each_mode_fails_its_call_and_the_next_calls_answer(
        world: World, client: MoodleClient) -> None:
    schedule(world, "http503", "exception", "reset", "timeout")
    with pytest.raises(MoodleUnavailable, match="HTTP 503"):
        client.call(SITE_INFO)
    with pytest.raises(MoodleAPIError, match="dmlreadexception"):
        client.call(SITE_INFO)
    with pytest.raises(MoodleUnavailable, match="IncompleteRead"):
        client.call(SITE_INFO)
    with pytest.raises(MoodleUnavailable, match="no answer"):
        client.call(SITE_INFO)
    assert client.call(SITE_INFO)["sitename"]
    report = world.sandbox.hook("schedule")
    assert report["injected"] == {"http503": 1, "exception": 1, "reset": 1, "timeout": 1}
    assert report["seen"] == {SITE_INFO: 5}


def test_a_revoked_token_stays_revoked_until_the_schedule_is_cleared(
        world: World, client: MoodleClient) -> None:
    schedule(world, "revoke")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            client.call(SITE_INFO)
    world.sandbox.hook("schedule", {})
    assert client.call(SITE_INFO)["sitename"]


@pytest.mark.parametrize(("body", "reason"), [
    ({"faults": [{"function": SITE_INFO, "nth": 0, "mode": "reset"}]}, "nth >= 1"),
    ({"faults": [{"function": SITE_INFO, "nth": 1, "mode": "explode"}]}, "one of"),
    ({"bad_users": ["x"]}, "bad_users"),
    ({"stall": -1}, "stall")])
def test_a_bad_schedule_is_refused_with_its_reason(world: World, body: dict,
                                                   reason: str) -> None:
    answer = requests.post(f"{world.sandbox.url}/_sandbox/schedule", json=body, timeout=10,
                           headers={"X-Sandbox-Token": world.sandbox.token})
    assert answer.status_code == 400 and reason in answer.json()["error"]


@pytest.mark.parametrize("hook", ["schedule", "contents", "save", "restore"])
def test_the_hooks_need_the_sandbox_token(world: World, hook: str) -> None:
    method = "GET" if hook in ("schedule", "contents") else "POST"
    answer = requests.request(method, f"{world.sandbox.url}/_sandbox/{hook}", timeout=10)
    assert answer.status_code == 403
