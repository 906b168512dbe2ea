"""Bad Moodle settings are reported in one line that says what to fix; secrets never shown."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from collections.abc import Iterator

import pytest
from support import AppRunner, app_for, signed_in

from app.demo.sandbox import running_sandbox
from app.settings import Settings


@pytest.fixture(scope="module")
def moodle() -> Iterator[tuple[str, str, str]]:
    token, limited = secrets.token_hex(16), secrets.token_hex(16)
    with running_sandbox(token, limited_token=limited) as url:
        yield url, token, limited


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port bound but never listened on, held until the block ends: connecting is refused,
    and no other process can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def invoke(tmp_path, *args: str, **settings: str):  # type: ignore[no-untyped-def]
    with app_for(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}",
                          moodle_retries=0, moodle_timeout=5, **settings)) as app:
        return AppRunner(app).invoke(args)


@pytest.mark.parametrize("command", ["sync", "check-moodle"])
def test_unreachable_moodle_is_one_line_naming_the_url_setting(tmp_path, command) -> None:
    with refused_port() as port:
        result = invoke(tmp_path, command, moodle_url=f"http://127.0.0.1:{port}",
                        moodle_token="a" * 32)
    assert result.exit_code in (1, 2)
    lines = [line for line in result.output.splitlines() if line.strip()]
    text = "\n".join(lines)
    assert "PROFROUTE_MOODLE_URL" in text
    assert "a" * 32 not in text
    if command != "check-moodle":
        assert len(lines) == 1 and lines[0].startswith("profroute: error:")


def test_a_url_that_is_not_moodle_says_so(tmp_path, moodle) -> None:
    url, token, _ = moodle
    result = invoke(tmp_path, "sync", moodle_url=url + "/not-moodle", moodle_token=token)
    assert result.exit_code == 2
    assert "PROFROUTE_MOODLE_URL" in result.output and len(result.output.splitlines()) == 1


def test_bad_token_names_the_token_setting_and_never_shows_it(tmp_path, moodle) -> None:
    url, _, _ = moodle
    wrong = secrets.token_hex(16)
    result = invoke(tmp_path, "sync", moodle_url=url, moodle_token=wrong)
    assert result.exit_code == 2
    assert "invalidtoken" in result.output and "PROFROUTE_MOODLE_TOKEN" in result.output
    assert wrong not in result.output
    assert len(result.output.splitlines()) == 1


def test_function_missing_from_the_service_is_named(tmp_path, moodle) -> None:
    url, _, limited = moodle
    result = invoke(tmp_path, "sync", moodle_url=url, moodle_token=limited)
    assert result.exit_code == 2
    assert "accessexception" in result.output
    assert len(result.output.splitlines()) == 1

    check = invoke(tmp_path, "check-moodle", "--json", moodle_url=url, moodle_token=limited)
    assert check.exit_code == 1
    report = json.loads(check.output)
    functions = next(c for c in report["checks"] if c["name"] == "functions")
    assert not functions["ok"]
    assert "mod_quiz_get_user_attempts" in functions["detail"]
    assert "External services" in functions["detail"]


def test_check_moodle_passes_on_a_complete_site(tmp_path, moodle) -> None:
    url, token, _ = moodle
    result = invoke(tmp_path, "check-moodle", moodle_url=url, moodle_token=token)
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output
    assert "grade items: 6 grade items map to competencies" in result.output


def test_missing_settings_are_named(tmp_path) -> None:
    result = invoke(tmp_path, "sync")
    assert result.exit_code == 2
    assert "PROFROUTE_MOODLE_URL is not set" in result.output


def test_unknown_diagnostic_course_names_its_setting(tmp_path, moodle) -> None:
    url, token, _ = moodle
    result = invoke(tmp_path, "sync", moodle_url=url, moodle_token=token,
                    diagnostic_course="no-such-course")
    assert result.exit_code == 2
    assert "PROFROUTE_DIAGNOSTIC_COURSE" in result.output


def test_check_report_is_served_as_json_for_the_ui(tmp_path, moodle) -> None:
    url, token, limited = moodle
    for key, expected in ((token, True), (limited, False)):
        with app_for(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}",
                              moodle_url=url, moodle_token=key)) as app:
            report = signed_in(app, f"admin{int(expected)}").get("/api/moodle/check").get_json()
        assert report["ok"] is expected
        assert {c["name"] for c in report["checks"]} >= {"site", "functions"}
    with app_for(Settings(database_url=f"sqlite:///{tmp_path / 'q.db'}")) as bare:
        answer = signed_in(bare).get("/api/moodle/check")
    assert answer.status_code == 400 and "PROFROUTE_MOODLE_URL" in answer.get_json()["message"]
