"""Refused rows go out on a later push with their error kept; a rating refused for its token
stays pending; an enrolment sent without an answer is ProfRoute's own when read back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from app.common.outbox import EnrolmentRecord, RatingRecord, new_row, record_of
from app.extensions import db
from app.models import OutboxMessage
from app.push.enrolments import read_back
from app.push.outbox import SENDING, PushSummary
from app.push.ratings import send_ratings
from app.push.state import push_state
from app.settings import Settings
from lms_connectors.exceptions import AccessDenied, InvalidToken, MoodleAPIError

RATE = "core_competency_grade_competency"


@dataclass
class Ratings:
    """A Moodle API whose next rating calls raise ``errors`` in turn, then succeed."""

    errors: list[Exception] = field(default_factory=list)
    calls: int = 0

    def grade_competency(self, *args: Any) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


@dataclass(frozen=True)
class Participant:
    moodle_user_id: int


@dataclass
class Course:
    """A Moodle API for the read-back: everyone in ``enrolled`` is in every course."""

    enrolled: tuple[int, ...]

    def enrolled_users(self, course_id: int, page_size: int) -> list[Participant]:
        return [Participant(u) for u in self.enrolled]

    @property
    def client(self) -> Course:
        """The raw calls of the read-back's silent-filter probes (app.sync.silent)."""
        return self

    def call(self, function: str, params: dict[str, Any]) -> Any:
        if function == "core_course_get_courses_by_field":  # no group modes: nothing hidden
            return {"courses": [], "warnings": []}
        return [{"id": u} for u in params["values"]]  # users by id: every user visible


def rating_row() -> OutboxMessage:
    row = new_row(RatingRecord(user_id=7, competency_id=3, grade=2, note="закрыт"),
                  "rating:7:3:1")
    db.session.add(row)
    db.session.commit()
    return row


def enrol_row(user_id: int, status: str) -> OutboxMessage:
    record = EnrolmentRecord(user_id=user_id, course_id=40, role_id=5, timestart=0, timeend=0)
    row = new_row(record, f"enrol:{user_id}:40:1", status=status)
    db.session.add(row)
    db.session.commit()
    return row


def test_a_refused_rating_is_shown_with_its_error_and_goes_out_on_the_next_push(
        app: Flask) -> None:
    row = rating_row()
    api = Ratings([MoodleAPIError("invalidrecord", "нет такой компетенции", RATE)])
    send_ratings(api, PushSummary())  # type: ignore[arg-type]
    failed = push_state()["failed"]
    assert [(line.key, line.attempts) for line in failed] == [("rating:7:3:1", 1)]
    assert "нет такой компетенции" in failed[0].error
    summary = PushSummary()
    send_ratings(api, summary)  # type: ignore[arg-type]
    assert (row.status, row.attempts, row.last_error, summary.ratings_sent) == ("sent", 2, "", 1)
    send_ratings(api, PushSummary())  # type: ignore[arg-type]
    assert api.calls == 2  # a sent rating is never sent again


@pytest.mark.parametrize("error", [
    InvalidToken("invalidtoken", "Invalid token", RATE),
    AccessDenied("nopermissions", "Sorry, but you do not currently have permissions", RATE)])
def test_a_rating_refused_before_anything_was_done_stays_pending(
        app: Flask, error: Exception) -> None:
    row = rating_row()
    api = Ratings([error])
    if isinstance(error, InvalidToken):
        with pytest.raises(InvalidToken):
            send_ratings(api, PushSummary())  # type: ignore[arg-type]
    else:
        send_ratings(api, PushSummary())  # type: ignore[arg-type]
    assert (row.status, row.last_error) == ("pending", str(error))
    send_ratings(api, PushSummary())  # type: ignore[arg-type]
    assert (row.status, api.calls) == ("sent", 2)


def test_an_enrolment_sent_without_an_answer_is_ours_when_read_back(app: Flask) -> None:
    ours, foreign = enrol_row(1, SENDING), enrol_row(2, "failed")
    summary = PushSummary()
    keep = read_back(Course((1, 2)), [ours, foreign], Settings(),  # type: ignore[arg-type]
                     summary)
    assert keep == [] and (ours.status, foreign.status) == ("sent", "sent")
    assert not record_of(ours, EnrolmentRecord).preexisting
    assert record_of(foreign, EnrolmentRecord).preexisting
    assert summary.foreign_enrolments == [{"user_id": 2, "course_id": 40}]
    assert (summary.enrolments_sent, summary.already_enrolled) == (1, 1)
