"""Uncertain messages: a push that died mid-send leaves them for a person, who resolves
them deliberately; and a smoke run of the push benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.common.outbox import MessageRecord, new_row
from app.extensions import db
from app.models import OutboxMessage
from app.push.messages import send_messages
from app.push.outbox import PushSummary
from app.push.state import ResolveError, push_state, resolve_message
from app.settings import Settings
from lms_connectors.moodle.writes import MessageResult

ROOT = Path(__file__).resolve().parents[2]


class NoCalls:
    """A Moodle API that must not be called."""

    message_batch_limit = 50

    def send_messages(self, messages: Any) -> Any:
        raise AssertionError("nothing may be sent")


def message_row(n: int, status: str) -> OutboxMessage:
    row = new_row(MessageRecord(user_id=100 + n, client_msg_id=f"profroute-{n}",
                                text="Маршрут"), f"message:route:{n}:x", status=status)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_push_that_died_while_sending_leaves_the_messages_uncertain(app: Flask) -> None:
    interrupted = message_row(1, "sending")
    summary = PushSummary()

    send_messages(NoCalls(), Settings(), summary)  # type: ignore[arg-type]

    assert db.session.get(OutboxMessage, interrupted.id).status == "uncertain"
    assert [m["key"] for m in summary.uncertain] == ["message:route:1:x"]
    assert [line.key for line in push_state()["uncertain"]] == ["message:route:1:x"]


class OneRefused:
    """A Moodle API that stores every message but refuses the first one's recipient."""

    message_batch_limit = 50

    def send_messages(self, messages: Any) -> Any:
        return [MessageResult(-1 if n == 0 else 10 + n, m.client_msg_id,
                              "unknown user" if n == 0 else None)
                for n, m in enumerate(messages)]


def test_one_batched_send_is_one_attempt_whether_sent_or_refused(app: Flask) -> None:
    refused, sent = message_row(1, "pending"), message_row(2, "pending")
    summary = PushSummary()

    send_messages(OneRefused(), Settings(), summary)  # type: ignore[arg-type]

    assert [(r.status, r.attempts) for r in (db.session.get(OutboxMessage, refused.id),
                                             db.session.get(OutboxMessage, sent.id))] == [
        ("failed", 1), ("sent", 1)]
    assert (summary.messages_sent, summary.messages_failed) == (1, 1)


def test_only_an_uncertain_message_can_be_resolved_and_only_by_a_known_action(
        app: Flask) -> None:
    sent, uncertain = message_row(1, "sent"), message_row(2, "uncertain")
    for row_id, action in ((sent.id, "resend"), (uncertain.id, "forget"), (999, "resend")):
        with pytest.raises(ResolveError):
            resolve_message(row_id, action)
    assert db.session.get(OutboxMessage, uncertain.id).status == "uncertain"
    assert resolve_message(uncertain.id, "resend").status == "pending"


def test_the_push_benchmark_runs_and_a_second_push_changes_nothing() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "push_scale.py"), "--smoke"],
                         capture_output=True, text=True, check=True, timeout=120)
    figures = json.loads(out.stdout)
    assert figures["enrolments_sent"] + figures["already_enrolled"] == 30
    assert figures["messages_sent"] == 30 and figures["errors"] == []
    assert figures["second_push"] == {"calls": 0, "enrolments_sent": 0, "messages_sent": 0,
                                      "network_changes": 0}
    assert figures["calls_by_function"]["enrol_manual_enrol_users"] == 1
