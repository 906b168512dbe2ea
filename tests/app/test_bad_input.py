"""Bad input answered with a clear 4xx, in Russian on pages and as JSON on the API: ids past
64 bits, impossible dates, deep JSON and TOML, NUL characters, long file names; an
unexpected error answers 500 without its details."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.analyse.revisions import newest_revision
from app.common.inputs import (
    MAX_ID,
    InputError,
    json_depth,
    parse_day,
    parse_id,
    safe_file_name,
)
from app.extensions import db
from app.models import Diagnostic
from app.web.access import public
from app.xapi.credentials import create_credential

PAST_64_BITS = str(2**64 + 1)
PROPERTY = settings(derandomize=True, database=None, max_examples=300)


@pytest.mark.parametrize("path", [f"/teachers/{PAST_64_BITS}", f"/teachers/{2**63}",
                                  f"/teachers/{2**31}", f"/?diagnostic={2**31}",
                                  f"/api/teachers/{PAST_64_BITS}/route", f"/?diagnostic={2**63}",
                                  f"/dynamics?final={PAST_64_BITS}"])
def test_an_id_past_64_bits_is_not_found(signed_in_client: FlaskClient, path: str) -> None:
    answer = signed_in_client.get(path)
    assert answer.status_code == 404
    if path.startswith("/api/"):
        assert answer.json["code"] == 404
    else:
        text = answer.get_data(as_text=True)
        assert "Не найдено" in text and "was not found" not in text


def test_the_largest_id_is_looked_up_and_a_non_number_is_refused(
        signed_in_client: FlaskClient) -> None:
    client = signed_in_client
    assert client.get(f"/teachers/{MAX_ID}").status_code == 404  # looked up: no such teacher
    refused = client.get("/dynamics?final=²")
    assert refused.status_code == 400
    assert "нужен номер записи" in refused.get_data(as_text=True)
    # The JSON API answers as its OpenAPI document says: 422 naming the argument.
    for value in ("abc", "9" * 40):
        api = client.get(f"/api/deficit-map?diagnostic={value}")
        assert api.status_code == 422 and "diagnostic" in api.json["errors"]["query"]
    assert client.get(f"/teachers?q={'9' * 30}").status_code == 200


def test_a_form_id_past_64_bits_is_not_found(signed_in_client: FlaskClient) -> None:
    answer = signed_in_client.post(f"/push/messages/{PAST_64_BITS}", data={"action": "x"})
    assert answer.status_code == 404
    db.session.add(Diagnostic(moodle_quiz_id=1, moodle_course_id=2, name="Входная"))
    db.session.commit()
    upload = signed_in_client.post("/imports/question-map", data={
        "diagnostic": PAST_64_BITS, "file": (io.BytesIO(b"a;b\n"), "map.csv")},
        content_type="multipart/form-data")
    assert upload.status_code == 404


@pytest.mark.parametrize(("query", "reason"), [
    ("from=9999-12-31", "дата вне допустимого диапазона 1900-01-01 … 2999-12-31"),
    ("to=0001-01-01", "дата вне допустимого диапазона"),
    ("from=2026-02-30", "такой даты нет в календаре"),
    ("compare_from=2026-13-01&compare_to=2027-01-01", "такой даты нет в календаре"),
    ("to=31.12.2026", "запишите дату как ГГГГ-ММ-ДД"),
])
@pytest.mark.parametrize("page", ["/indicators", "/indicators.xlsx"])
def test_an_impossible_date_is_refused_in_russian(signed_in_client: FlaskClient, page: str,
                                                  query: str, reason: str) -> None:
    answer = signed_in_client.get(f"{page}?{query}")
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert reason in text and "Запрос не принят" in text


def test_the_cli_refuses_a_date_out_of_range(runner) -> None:
    result = runner.invoke(["indicators", "--from", "0001-01-01"])
    assert result.exit_code == 2, result.output
    assert "from = «0001-01-01»: дата вне допустимого диапазона" in result.output


def test_a_nul_character_in_a_parameter_or_form_is_refused(client: FlaskClient,
                                                           signed_in_client: FlaskClient) -> None:
    answer = signed_in_client.get("/analytics?school=A%001")
    assert answer.status_code == 400
    assert "недопустимый символ NUL" in answer.get_data(as_text=True)
    login = client.post("/login", data={"login": "iva\x00nova", "password": "x"})
    assert login.status_code == 400


@pytest.fixture
def lrs_headers() -> dict[str, str]:
    credential, secret = create_credential("https://moodle.example.org")
    db.session.commit()
    token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


@pytest.mark.parametrize("body", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
                                  "[" * 100_000])
def test_json_nested_deep_is_refused_before_it_is_parsed(client: FlaskClient, body: str,
                                                         lrs_headers: dict[str, str]) -> None:
    answer = client.post("/xapi/statements", data=body, headers=lrs_headers,
                         content_type="application/json")
    assert answer.status_code == 400
    assert "JSON nested more than 64 levels deep" in answer.json["message"]
    agent = client.get("/xapi/statements", headers=lrs_headers,
                       query_string={"agent": '{"a":' * 1000 + "1" + "}" * 1000})
    assert agent.status_code == 400


@pytest.mark.parametrize("query", ["since=9999-12-31T23:59:59-14:00",
                                   "until=0001-01-01T00:00:00%2B14:00",
                                   "more=" + base64.urlsafe_b64encode(json.dumps({
                                       "since": "9999-12-31T23:59:59-14:00", "until": None,
                                       "after": None}).encode()).decode()])
def test_an_xapi_time_beyond_the_calendar_in_utc_is_refused(client: FlaskClient, query: str,
                                                            lrs_headers: dict[str, str]) -> None:
    answer = client.get(f"/xapi/statements?{query}", headers=lrs_headers)
    assert answer.status_code == 400
    assert "ISO 8601 time" in answer.json["message"] or "token is not valid" in answer.json["message"]


def test_a_statement_timestamp_beyond_the_calendar_in_utc_is_refused(
        client: FlaskClient, lrs_headers: dict[str, str]) -> None:
    statement = {"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://x/v"},
                 "object": {"id": "http://x/o"}, "timestamp": "0001-01-01T00:00:00+14:00"}
    answer = client.post("/xapi/statements", json=statement, headers=lrs_headers)
    assert answer.status_code == 400
    assert answer.json["errors"] == [{"statement": 0, "field": "timestamp",
                                      "reason": "outside the years 1–9999 once in UTC"}]


def test_json_longer_than_the_limit_is_refused(client: FlaskClient,
                                               lrs_headers: dict[str, str]) -> None:
    body = json.dumps([{"k": "v" * 1000}] * 6000)  # 6 MB
    answer = client.post("/xapi/statements", data=body, headers=lrs_headers,
                         content_type="application/json")
    assert answer.status_code == 400
    assert "JSON longer than 5 MB" in answer.json["message"]


def test_flask_json_is_limited_in_depth(app: Flask) -> None:
    with app.test_request_context(data="[" * 200 + "]" * 200, content_type="application/json"):
        from flask import request
        with pytest.raises(Exception) as refused:
            request.get_json()
        assert getattr(refused.value, "code", None) == 400
    assert app.json.loads("[" * 64 + "]" * 64) is not None


@pytest.mark.parametrize("overrides", ["[frameworks.x]\na = " + "[" * 1000 + "]" * 1000,
                                       "[frameworks.x]\na = " + "[" * 20 + "]" * 20])
def test_toml_nested_deep_is_refused_and_nothing_saved(signed_in_client: FlaskClient,
                                                       overrides: str) -> None:
    answer = signed_in_client.post("/policy", data={
        "deficit_below": "50", "risk_below": "70", "min_questions": "2", "overrides": overrides})
    assert answer.status_code == 422
    assert "TOML вложен слишком глубоко: больше 16 уровней" in answer.get_data(as_text=True)
    assert newest_revision() is None


def test_a_300_character_file_name_is_clipped(signed_in_client: FlaskClient,
                                              tmp_path) -> None:
    signed_in_client.application.config["PROFROUTE_UPLOADS"] = str(tmp_path)
    name = "р" * 300 + ".csv"
    answer = signed_in_client.post("/imports/results", data={
        "files": (io.BytesIO("Код ОО;Предмет\n1;2\n".encode()), name)},
        content_type="multipart/form-data")
    assert answer.status_code in (200, 400)
    page = answer.get_data(as_text=True)
    assert "р" * 73 + ".csv" in page and "р" * 74 not in page  # 150 bytes of UTF-8


def test_an_unexpected_error_answers_500_without_its_details(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken() -> str:
        raise RuntimeError("secret detail /srv/profroute/db.py")

    app.add_url_rule("/broken", "broken", public(broken))
    app.add_url_rule("/api/broken", "api_broken", public(broken))
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="app.errors"):
        page = client.get("/broken")
        api = client.get("/api/broken")
    assert page.status_code == api.status_code == 500
    text = page.get_data(as_text=True)
    assert "Внутренняя ошибка сервера" in text and "Сообщите этот код" in text
    for body in (text, api.get_data(as_text=True)):
        assert "secret detail" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert api.json["code"] == 500
    assert "secret detail" in caplog.text  # the log keeps what the answer leaves out


@PROPERTY
@given(st.text(max_size=60))
def test_parse_id_accepts_only_ids_a_database_holds(text: str) -> None:
    try:
        value = parse_id(text, "id")
    except InputError as err:
        assert str(err).startswith("id = «")
    else:
        assert 0 <= value <= MAX_ID and text.strip().isdigit()


@PROPERTY
@given(st.text(max_size=20) | st.dates().map(str))
def test_parse_day_gives_a_day_in_range_or_a_reason(text: str) -> None:
    try:
        day = parse_day(text, "from")
    except InputError as err:
        assert str(err).startswith("from = «")
    else:
        assert 1900 <= day.year <= 2999 and day.isoformat() == text.strip()


@PROPERTY
@given(st.text(max_size=400), st.sampled_from(["", ".csv", ".xlsx"]))
def test_a_safe_file_name_is_short_and_has_no_folder(name: str, suffix: str) -> None:
    safe = safe_file_name(name + suffix, "results.csv")
    assert 0 < len(safe.encode()) <= 150 and "/" not in safe and "\\" not in safe
    assert "\x00" not in safe and safe not in (".", "..")


@PROPERTY
@given(st.recursive(st.none() | st.integers() | st.text(alphabet="[]{}\"\\ab"),
                    lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=20))
def test_json_depth_counts_containers_not_brackets_in_strings(value: object) -> None:
    def depth(v: object) -> int:
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        return 0
    assert json_depth(json.dumps(value)) == depth(value)
