"""Batched messages against the recorded Moodle answers, and the transport's call counter
per function (also under parallel calls)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from lms_connectors.exceptions import InvalidRequest, MoodleAPIError, MoodleUnavailable
from lms_connectors.moodle.api import MoodleAPI, OutgoingMessage
from lms_connectors.moodle.sandbox import errors as sandbox_errors
from lms_connectors.moodle.sandbox import protocol

SEND = "core_message_send_instant_messages"


@pytest.fixture
def api(replay):
    return MoodleAPI(replay.client)


def test_a_batch_answers_one_result_per_message_in_order(api, replay):
    rec = replay.expect_recording(f"{SEND}__two_recipients")
    sent = rec["params_structured"]["messages"]

    results = api.send_messages([OutgoingMessage(m["touserid"], m["text"], m["clientmsgid"],
                                                 m["textformat"]) for m in sent])

    assert [(r.msgid, r.client_msg_id, r.error) for r in results] == [
        (a["msgid"], a["clientmsgid"], None) for a in rec["response"]]
    assert replay.client.calls == 1 and replay.client.calls_by_function == {SEND: 1}


def test_a_refused_recipient_is_a_result_with_moodles_reason(api, replay):
    rec = replay.expect_recording(f"{SEND}__invalid_recipient")
    message = rec["params_structured"]["messages"][0]

    [result] = api.send_messages([OutgoingMessage(message["touserid"], message["text"],
                                                  message["clientmsgid"])])

    assert result.msgid == -1 and "doesn't exist" in (result.error or "")


def test_a_mixed_batch_fails_whole_with_formatnotsupported(api, replay, recording):
    rec = recording(f"{SEND}__batch_with_invalid_recipient")
    replay.expect(SEND, None, rec["response"])
    batch = [OutgoingMessage(m["touserid"], m["text"], m["clientmsgid"])
             for m in rec["params_structured"]["messages"]]

    with pytest.raises(MoodleAPIError) as info:
        api.send_messages(batch)

    assert info.value.errorcode == "formatnotsupported"


def test_a_lost_answer_is_never_retried(api, replay):
    replay.expect(SEND, None, {"e": 1}, status=502)

    with pytest.raises(MoodleUnavailable):
        api.send_messages([OutgoingMessage(3, "text", "id-1"), OutgoingMessage(4, "t", "id-2")])

    assert replay.client.calls == 1 and replay.sleeps == []


@pytest.mark.parametrize("messages", [
    [], [OutgoingMessage(3, "text", "id 1")], [OutgoingMessage(0, "text", "id-1")],
    [OutgoingMessage(3, "text", "id-1")] * 250,
])
def test_a_bad_batch_is_refused_before_sending(api, replay, messages):
    with pytest.raises(InvalidRequest):
        api.send_messages(messages)
    assert replay.adapter.sent == []


def test_the_batch_limit_follows_the_sites_field_limit(replay):
    assert MoodleAPI(replay.client).message_batch_limit == 249  # (1000 - 3) // 4
    assert MoodleAPI(replay.client, max_fields=5000).message_batch_limit == 300


def test_parallel_calls_are_all_counted_per_function(api, replay):
    replay.adapter.responder = lambda form: None
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: replay.client.call(SEND if i % 2 else "enrol_manual_enrol_users",
                                                   {}), range(200)))
    assert replay.client.calls == 200
    assert replay.client.calls_by_function == {SEND: 100, "enrol_manual_enrol_users": 100}


def test_the_sandbox_nopermissions_fault_answers_as_the_recorded_moodle(recording):
    recorded = recording("error_missing_capability")["response"]
    body = json.loads(protocol.error_json(sandbox_errors.no_permission("Review course enrolments")))
    assert {k: body[k] for k in ("exception", "errorcode")} == {
        k: recorded[k] for k in ("exception", "errorcode")}
    prefix = "Sorry, but you do not currently have permissions to do that ("
    assert body["message"].startswith(prefix) and recorded["message"].startswith(prefix)
