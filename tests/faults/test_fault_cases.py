"""Single fault cases: what the random schedules must not draw because it fails today
(marked ``xfail(strict=True)`` with its cause), and what they cannot show by chance (a write
is never retried, a lost message answer is left for a person, one bad row in a batch)."""

from __future__ import annotations

import pytest
from faults.campaign import (
    COURSE_GROUPS,
    CREATE_GROUPS,
    GRADE_COMPETENCY,
    GRADE_ITEMS,
    SEND_MESSAGES,
)
from faults.harness import World, run_schedule
from faults.schedules import ENROL, READ_BACK, Fault, Schedule
from sqlalchemy import select

from app.common.outbox import EnrolmentRecord, record_of
from app.extensions import db
from app.models import OutboxMessage


def one_fault(world: World, stage: str, function: str, mode: str, *,
              calls: int = 1) -> Schedule:
    """A schedule with ``mode`` on the first ``calls`` calls of ``function``."""
    assert world.profiles[stage][function], f"a fault-free {stage} never calls {function}"
    count = calls
    return Schedule(seed=-1, stage=stage, faults=tuple(
        Fault(function, nth, mode) for nth in range(1, count + 1)))


def test_a_failed_read_back_leaves_foreign_enrolments_alone(world: World) -> None:
    outcome = run_schedule(world, one_fault(world, "push", READ_BACK, "exception",
                                             calls=world.profiles["push"][READ_BACK]))
    assert not outcome.verdict.foreign_changed, outcome.verdict.explain()
    assert outcome.verdict.ok, outcome.verdict.explain()


def test_a_streamed_read_cut_mid_body_is_retried(world: World) -> None:
    outcome = run_schedule(world, one_fault(world, "sync", GRADE_ITEMS, "reset"))
    assert outcome.pulled_equal


@pytest.mark.parametrize("function", [ENROL, SEND_MESSAGES, GRADE_COMPETENCY])
def test_a_row_refused_by_a_moodle_exception_goes_out_on_a_later_push(
        world: World, function: str) -> None:
    # every call: the halving of a refused enrolment batch then refuses each row
    outcome = run_schedule(world, one_fault(world, "push", function, "exception", calls=10))
    assert outcome.verdict.ok, outcome.verdict.explain()


def test_a_message_refused_for_a_revoked_token_goes_out_with_a_new_one(world: World) -> None:
    outcome = run_schedule(world, one_fault(world, "push", SEND_MESSAGES, "revoke"))
    assert outcome.verdict.ok, outcome.verdict.explain()


def test_a_rating_refused_for_a_revoked_token_goes_out_with_a_new_one(world: World) -> None:
    outcome = run_schedule(world, one_fault(world, "push", GRADE_COMPETENCY, "revoke"))
    assert outcome.verdict.ok and not outcome.verdict.uncertain, outcome.verdict.explain()


@pytest.mark.parametrize("function", [COURSE_GROUPS, CREATE_GROUPS])
def test_an_internship_event_waits_for_its_group(world: World, function: str) -> None:
    outcome = run_schedule(world, one_fault(world, "push", function, "exception"))
    assert outcome.verdict.ok, outcome.verdict.explain()


def bad_row(world: World) -> tuple[Schedule, int]:
    """A push where one approved teacher is unknown to enrolment, and their new enrolments."""
    assert world.expected is not None
    new = [p for p in world.expected.enrolments if p not in world.foreign]
    user = new[0][0]
    new = [p for p in new if p[0] == user]
    return Schedule(seed=-1, stage="push", faults=(), bad_users=(user,)), len(new)


def test_one_bad_row_fails_alone_and_the_rest_of_its_batch_goes_out(world: World) -> None:
    schedule, refused = bad_row(world)
    assert refused
    outcome = run_schedule(world, schedule, rerun=False)
    assert outcome.injected["badrow"] >= 1
    assert outcome.verdict.lost["enrolments"] == refused, outcome.verdict.explain()
    assert not outcome.verdict.doubled.total() and not outcome.verdict.foreign_changed


def test_a_bad_row_goes_out_on_a_later_push_once_moodle_takes_it(world: World) -> None:
    outcome = run_schedule(world, bad_row(world)[0])
    assert outcome.verdict.ok, outcome.verdict.explain()


@pytest.mark.parametrize("function", [ENROL, GRADE_COMPETENCY,
                                      "core_competency_create_plan",
                                      "core_calendar_create_calendar_events"])
def test_a_write_is_never_retried_after_a_5xx(world: World, function: str) -> None:
    outcome = run_schedule(world, one_fault(world, "push", function, "http500"))
    assert outcome.failed and world.seen[function] == 1
    assert outcome.verdict.ok, outcome.verdict.explain()


def test_a_message_batch_answered_5xx_is_sent_once_and_left_for_a_person(world: World) -> None:
    # Moodle may have sent part of the batch before failing: the whole batch is uncertain
    assert world.expected is not None
    outcome = run_schedule(world, one_fault(world, "push", SEND_MESSAGES, "http500"))
    assert world.seen[SEND_MESSAGES] == 1
    assert outcome.verdict.ok, outcome.verdict.explain()
    assert outcome.verdict.uncertain == sum(world.expected.messages.values())


@pytest.mark.parametrize("mode", ["reset", "timeout"])
def test_a_message_whose_answer_was_lost_is_not_sent_again(world: World, mode: str) -> None:
    outcome = run_schedule(world, one_fault(world, "push", SEND_MESSAGES, mode))
    assert outcome.verdict.ok, outcome.verdict.explain()
    assert world.expected is not None  # one batch holds every message of this small site
    assert outcome.verdict.uncertain == sum(world.expected.messages.values())


def own_enrolments_taken_for_foreign(world: World) -> list[tuple[int, int]]:
    """Pairs ProfRoute enrolled itself that its outbox records as found already enrolled."""
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "enrol"))
    records = [record_of(r, EnrolmentRecord) for r in rows]
    db.session.remove()
    return [(r.user_id, r.course_id) for r in records
            if r.preexisting and (r.user_id, r.course_id) not in world.foreign]


def test_an_enrolment_whose_answer_was_lost_stays_profroutes_own(world: World) -> None:
    outcome = run_schedule(world, one_fault(world, "push", ENROL, "reset"))
    assert outcome.verdict.ok, outcome.verdict.explain()
    assert not own_enrolments_taken_for_foreign(world)
