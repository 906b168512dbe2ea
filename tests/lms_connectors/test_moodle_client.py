"""MoodleClient: request shape, typed errors from real error bodies, retries, token secrecy."""

from __future__ import annotations

import logging

import pytest
import requests

from lms_connectors.exceptions import (
    AccessDenied,
    ConnectorError,
    FunctionNotInService,
    InvalidParameter,
    InvalidRequest,
    InvalidToken,
    MoodleAPIError,
    MoodleCrash,
    MoodleUnavailable,
    RecordNotFound,
)
from lms_connectors.moodle.client import URL_HINT, MoodleClient
from lms_connectors.moodle.functions import (
    CAPABILITIES,
    CORE_FUNCTIONS,
    PLUGIN_FUNCTIONS,
    READ_FUNCTIONS,
    REQUIRED_FUNCTIONS,
    SERVICE_FUNCTIONS,
    WRITE_FUNCTIONS,
)

SITE_INFO = "core_webservice_get_site_info"
ENROL = "enrol_manual_enrol_users"
HTML_PAGE = b"<!DOCTYPE html><html><body>Moodle front page</body></html>"


ENDPOINT = "https://moodle.example.ru/webservice/rest/server.php"
TOKEN = "s3cr3t-t0ken-0f-pr0froute-9f8e7d"  # the same as the replay fixture's


def test_recordings_are_found(recording):
    assert recording("core_webservice_get_site_info")["function"] == SITE_INFO


# --- request shape ---------------------------------------------------------------------


def test_call_posts_token_function_format_and_encoded_params(replay):
    replay.expect_recording("enrol_manual_enrol_users__with_dates")

    result = replay.client.call(
        ENROL,
        {
            "enrolments": [
                {
                    "roleid": 5,
                    "userid": 22,
                    "courseid": 4,
                    "timestart": 1789246800,
                    "timeend": 1797541200,
                    "suspend": False,
                }
            ]
        },
    )

    assert result is None  # a void write answers JSON null
    assert replay.adapter.timeouts == [7.5]
    assert replay.adapter.sent[0]["wsfunction"] == ENROL
    assert replay.adapter.order[0][:3] == ["wstoken", "wsfunction", "moodlewsrestformat"]
    assert replay.client.calls == 1
    replay.done()


@pytest.mark.parametrize(
    "base_url",
    [
        "https://moodle.example.ru",
        "https://moodle.example.ru/",
        " https://moodle.example.ru// ",
        "https://moodle.example.ru/webservice/rest/server.php",
    ],
)
def test_base_url_with_or_without_trailing_slash_reaches_the_rest_endpoint(base_url):
    assert MoodleClient(base_url, TOKEN).endpoint == ENDPOINT


def test_base_url_in_a_subdirectory_is_kept():
    client = MoodleClient("http://school.example.ru/moodle/", TOKEN)

    assert client.endpoint == "http://school.example.ru/moodle/webservice/rest/server.php"


@pytest.mark.parametrize(
    "base_url", ["moodle.example.ru", "ftp://moodle.example.ru", "", "https://"]
)
def test_base_url_that_is_not_a_site_root_is_refused(base_url):
    with pytest.raises(InvalidRequest) as info:
        MoodleClient(base_url, TOKEN)

    assert "PROFROUTE_MOODLE_URL" in info.value.hint


def test_default_session_and_timeout_are_set():
    client = MoodleClient("https://moodle.example.ru", TOKEN)

    assert isinstance(client.session, requests.Session)
    assert client.timeout == 30.0
    assert client.calls == 0


def test_unencodable_params_are_refused_before_sending(replay):
    with pytest.raises(InvalidRequest) as info:
        replay.client.call(SITE_INFO, {"values": [None]})

    assert info.value.function == SITE_INFO
    assert str(info.value).startswith(SITE_INFO + ": invalid request")
    assert replay.adapter.sent == []
    assert replay.client.calls == 0


@pytest.mark.parametrize(
    ("name", "expected_type"),
    [
        ("core_webservice_get_site_info", dict),
        ("core_enrol_get_enrolled_users", list),
        ("enrol_manual_unenrol_users", type(None)),
        ("core_competency_count_competencies_in_course", int),
        ("core_competency_approve_plan", bool),
    ],
)
def test_call_returns_the_decoded_json(replay, name, expected_type):
    rec = replay.expect_recording(name)

    result = replay.client.call(rec["function"], rec["params_structured"])

    assert isinstance(result, expected_type)
    assert result == rec["response"]


# --- Moodle error bodies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("error_invalid_token", InvalidToken),
        ("error_missing_token", InvalidToken),
        ("error_function_not_in_service", FunctionNotInService),
        ("error_function_does_not_exist", RecordNotFound),
        ("error_nonexistent_course", RecordNotFound),
        ("core_competency_create_plan__nonexistent_user", RecordNotFound),
        ("error_missing_capability", AccessDenied),
        ("error_limited_user_quiz_attempts", AccessDenied),
        ("error_course_access_limited_user", AccessDenied),
        ("core_enrol_get_enrolled_users__withcapability", AccessDenied),
        ("enrol_manual_enrol_users__role_not_assignable", AccessDenied),
        ("error_invalid_parameter_type", InvalidParameter),
        ("error_missing_required_parameter", InvalidParameter),
        ("error_unexpected_parameter", InvalidParameter),
        ("error_json_instead_of_php_array", InvalidParameter),
        ("error_scalar_instead_of_array", InvalidParameter),
        ("mod_quiz_get_user_attempts__bool_true_string", InvalidParameter),
        ("enrol_manual_enrol_users__nonexistent_user", MoodleCrash),
        ("core_tag_get_tagindex__question_area", MoodleCrash),
        ("error_invalid_enum_value", MoodleAPIError),
        ("core_message_send_instant_messages__batch_with_invalid_recipient", MoodleAPIError),
        ("core_competency_grade_competency__invalid_grade", MoodleAPIError),
    ],
)
def test_error_body_raises_the_class_of_its_errorcode(replay, name, cls):
    rec = replay.expect_recording(name)

    with pytest.raises(MoodleAPIError) as info:
        replay.client.call(rec["function"], rec["params"])

    assert type(info.value) is cls
    replay.done()


def test_every_recorded_error_gives_one_line_with_function_code_message_and_hint(
    replay, error_recording
):
    rec = replay.expect_recording(error_recording)
    body = rec["response"]

    with pytest.raises(MoodleAPIError) as info:
        replay.client.call(rec["function"], rec["params"])

    exc = info.value
    line = str(exc)
    assert "\n" not in line
    assert exc.errorcode == body.get("errorcode")
    assert exc.exception_class == body["exception"]
    assert exc.function == rec["function"]
    assert line.startswith(f"{rec['function']}: {body.get('errorcode') or body['exception']}: ")
    assert " ".join(body["message"].split()) in line
    assert exc.hint and f"(hint: {exc.hint})" in line
    assert replay.client.calls == 1  # a refusal is never retried, even for a read


def test_error_class_follows_errorcode_not_the_php_class_name(replay):
    replay.expect(
        SITE_INFO,
        None,
        {
            "exception": "moodle_exception",
            "errorcode": "invalidtoken",
            "message": "Invalid token - token not found",
        },
    )
    replay.expect(
        SITE_INFO,
        None,
        {
            "exception": "core\\exception\\moodle_exception",
            "errorcode": "somethingnew",
            "message": "x",
        },
    )

    with pytest.raises(InvalidToken):
        replay.client.call(SITE_INFO)
    with pytest.raises(MoodleAPIError) as info:
        replay.client.call(SITE_INFO)
    assert type(info.value) is MoodleAPIError


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("error_invalid_token", "check PROFROUTE_MOODLE_TOKEN: create a token for the ProfRoute"),
        ("error_function_not_in_service", "add core_user_create_users to the ProfRoute external"),
        ("error_missing_capability", "capability"),
        ("enrol_manual_enrol_users__role_not_assignable", "Allow role assignments"),
        ("enrol_manual_enrol_users__nonexistent_user", "unknown user"),
    ],
)
def test_hint_tells_the_admin_what_to_do(replay, name, fragment):
    rec = replay.expect_recording(name)

    with pytest.raises(MoodleAPIError) as info:
        replay.client.call(rec["function"], rec["params"])

    assert fragment in info.value.hint


def test_exception_tree():
    assert issubclass(MoodleUnavailable, ConnectorError)
    for cls in (
        InvalidToken,
        FunctionNotInService,
        AccessDenied,
        InvalidParameter,
        RecordNotFound,
        MoodleCrash,
    ):
        assert issubclass(cls, MoodleAPIError)
    assert not issubclass(InvalidRequest, MoodleAPIError)
    assert issubclass(InvalidRequest, ConnectorError)


def test_warnings_beside_a_payload_are_logged_and_the_payload_returned(replay, caplog):
    rec = replay.expect_recording("core_user_get_users__invalid_key")
    caplog.set_level(logging.WARNING, logger="lms_connectors")

    result = replay.client.call(rec["function"], rec["params_structured"])

    assert result == rec["response"]
    logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == len(rec["response"]["warnings"]) >= 1
    assert "core_user_get_users" in logged[0].getMessage()
    assert rec["response"]["warnings"][0]["message"] in logged[0].getMessage()


# --- transient failures and retries ------------------------------------------------------

SITE = {"sitename": "ProfRoute test", "userid": 23, "functions": []}


@pytest.mark.parametrize(
    "failure",
    [
        {"answer": {"error": "bad gateway"}, "status": 502},
        {"answer": b"Service Unavailable", "status": 503, "content_type": "text/plain"},
        {"answer": requests.exceptions.ReadTimeout("read timed out")},
        {"answer": requests.exceptions.ConnectTimeout("connect timed out")},
        {"answer": requests.exceptions.ConnectionError("connection refused")},
        {"answer": HTML_PAGE, "content_type": "text/html; charset=utf-8"},
        {"answer": b'{"sitename": "trunc', "content_type": "application/json"},
    ],
    ids=["502", "503-text", "read-timeout", "connect-timeout", "refused", "html-200", "cut-json"],
)
def test_read_is_retried_after_a_transient_failure_then_succeeds(replay, failure):
    replay.expect(SITE_INFO, {}, **failure)
    replay.expect(SITE_INFO, {}, SITE)

    assert replay.client.call(SITE_INFO) == SITE
    assert replay.sleeps == [0.5]
    assert replay.client.calls == 2
    replay.done()


def test_read_gives_up_after_the_retries_with_exponential_backoff(replay):
    for _ in range(4):
        replay.expect(SITE_INFO, {}, {"error": "x"}, status=502)

    with pytest.raises(MoodleUnavailable) as info:
        replay.client.call(SITE_INFO)

    assert replay.sleeps == [0.5, 1.0, 2.0]
    assert replay.client.calls == 4
    assert "HTTP 502" in str(info.value)
    replay.done()


def test_retries_and_backoff_are_configurable(replay_factory):
    replay = replay_factory(retries=1, backoff=2.0)
    replay.expect(SITE_INFO, {}, requests.exceptions.ReadTimeout("slow"))
    replay.expect(SITE_INFO, {}, requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(MoodleUnavailable) as info:
        replay.client.call(SITE_INFO)

    assert replay.sleeps == [2.0]
    assert "within 7.5 s" in str(info.value)


@pytest.mark.parametrize("function", sorted(WRITE_FUNCTIONS))
@pytest.mark.parametrize(
    "failure",
    [
        {"answer": {"error": "x"}, "status": 502},
        {"answer": requests.exceptions.ReadTimeout("read timed out")},
        {"answer": HTML_PAGE, "content_type": "text/html"},
    ],
    ids=["502", "timeout", "html"],
)
def test_write_is_never_retried(replay, function, failure):
    replay.expect(function, None, **failure)

    with pytest.raises(MoodleUnavailable):
        replay.client.call(function, {"x": [{"userid": 3}]})

    assert replay.client.calls == 1
    assert replay.sleeps == []


def test_unknown_function_is_treated_as_a_write_and_not_retried(replay):
    replay.expect("local_profroute_do_something", None, {"error": "x"}, status=502)

    with pytest.raises(MoodleUnavailable):
        replay.client.call("local_profroute_do_something")

    assert replay.client.calls == 1


@pytest.mark.parametrize(
    ("failure", "hint_fragment"),
    [
        ({"answer": b"Not found", "status": 404, "content_type": "text/html"}, URL_HINT),
        ({"answer": b"", "status": 403, "content_type": "text/html"}, "REST protocol"),
        (
            {"answer": b"", "status": 303, "headers": {"Location": "https://moodle.example.ru/"}},
            URL_HINT,
        ),
    ],
    ids=["404", "403-rest-disabled", "redirect"],
)
def test_wrong_address_is_unavailable_with_a_hint_and_not_retried(replay, failure, hint_fragment):
    replay.expect(SITE_INFO, {}, **failure)

    with pytest.raises(MoodleUnavailable) as info:
        replay.client.call(SITE_INFO)

    assert hint_fragment in info.value.hint
    assert info.value.transient is False
    assert replay.client.calls == 1


def test_html_page_instead_of_json_names_the_url_setting(replay):
    for _ in range(4):
        replay.expect(SITE_INFO, {}, HTML_PAGE, content_type="text/html; charset=utf-8")

    with pytest.raises(MoodleUnavailable) as info:
        replay.client.call(SITE_INFO)

    assert "check PROFROUTE_MOODLE_URL: it must be the Moodle site root" in str(info.value)
    assert "text/html" in str(info.value)


def test_xml_answer_is_not_json_and_is_unavailable(replay, recording):
    raw = recording("format_xml_error_invalid_token")["response_raw"].encode()
    for _ in range(4):
        replay.expect(SITE_INFO, {}, raw, content_type="application/xml")

    with pytest.raises(MoodleUnavailable):
        replay.client.call(SITE_INFO)


def test_retries_are_logged_at_warning(replay, caplog):
    caplog.set_level(logging.WARNING, logger="lms_connectors")
    replay.expect(SITE_INFO, {}, {"e": 1}, status=500)
    replay.expect(SITE_INFO, {}, SITE)

    replay.client.call(SITE_INFO)

    assert any("attempt 1 of 4" in r.getMessage() for r in caplog.records)


# --- the token never leaks ---------------------------------------------------------------


def _failures_echoing_the_token():
    yield (
        "moodle-message",
        {
            "answer": {
                "exception": "moodle_exception",
                "errorcode": "x",
                "message": f"bad token {TOKEN}",
            }
        },
    )
    yield "crash", {"answer": {"exception": "TypeError", "message": f"f('{TOKEN}') failed"}}
    yield "network", {"answer": requests.exceptions.ConnectionError(f"refused wstoken={TOKEN}")}
    yield "timeout", {"answer": requests.exceptions.ReadTimeout(f"timeout wstoken={TOKEN}")}
    yield "html", {"answer": f"<html>{TOKEN}</html>".encode(), "content_type": "text/html"}
    yield "warnings", {"answer": {"warnings": [{"warningcode": "w", "message": f"t={TOKEN}"}]}}


@pytest.mark.parametrize(("case", "failure"), list(_failures_echoing_the_token()))
def test_token_is_absent_from_exceptions_and_logs(replay, caplog, case, failure):
    caplog.set_level(logging.DEBUG)
    for _ in range(4):
        replay.expect(SITE_INFO, None, **failure)

    try:
        replay.client.call(SITE_INFO)
    except ConnectorError as exc:
        assert TOKEN not in str(exc)
        assert TOKEN not in repr(exc)
        assert all(TOKEN not in str(arg) for arg in exc.args)
    assert caplog.records, "the failure should have been logged"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(replay.client)


def test_token_constant_matches_the_fixture(token):
    assert token == TOKEN


def test_function_sets_are_consistent(recording):
    assert not READ_FUNCTIONS & WRITE_FUNCTIONS
    assert SERVICE_FUNCTIONS == READ_FUNCTIONS | WRITE_FUNCTIONS
    assert REQUIRED_FUNCTIONS == SERVICE_FUNCTIONS - PLUGIN_FUNCTIONS
    assert PLUGIN_FUNCTIONS <= READ_FUNCTIONS
    assert CORE_FUNCTIONS <= REQUIRED_FUNCTIONS
    assert "enrol_manual_enrol_users" in WRITE_FUNCTIONS
    assert "core_message_send_instant_messages" in WRITE_FUNCTIONS
    assert len(READ_FUNCTIONS) == 23 and len(WRITE_FUNCTIONS) == 11
    assert set(CAPABILITIES) == SERVICE_FUNCTIONS
    declared = recording("functions")["functions"]
    for name in REQUIRED_FUNCTIONS:
        expected = "write" if name in WRITE_FUNCTIONS else "read"
        assert declared[name]["type"] == expected, name
