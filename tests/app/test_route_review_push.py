"""What people decide on the review page reaches the Moodle sandbox at the next push: a
rejected or declined item's enrolment is suspended, the teacher gets a message, and a
decision taken between pushes is never lost."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from support import AppRunner, sandbox_state

from app.extensions import db
from app.models import OutboxMessage, RouteItem
from app.routes import review
from config import DEMO_DIR


def run(app: Flask, *args: str) -> str:
    result = AppRunner(app).invoke(args, catch_exceptions=False)
    db.session.expire_all()
    assert result.exit_code == 0, result.output
    return result.output


def _own_enrolment(item: RouteItem) -> bool:
    key = f"enrol:{item.route.teacher.moodle_user_id}:{item.offer.moodle_course_id}:1"
    row = db.session.scalars(select(OutboxMessage).filter_by(dedupe_key=key)).first()
    return bool(row and not row.payload.get("preexisting"))


def _enrolled_demo(make_app: Callable[..., Flask], database_url: str, url: str,
                   token: str) -> Flask:
    """The demo catalogue against the sandbox: synced, planned, all approved and pushed."""
    app = make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                   catalogue_dir=str(DEMO_DIR), thresholds_file=str(DEMO_DIR / "thresholds.toml"))
    for stage in ("sync", "deficits", "recommend"):
        run(app, stage)
    run(app, "approve", "--all")
    run(app, "push")
    return app


def test_reject_and_decline_after_enrolment_suspend_in_moodle(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> None:
    url, token = moodle
    app = _enrolled_demo(make_app, database_url, url, token)
    mine = [i for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
            if i.offer.moodle_course_id and i.status == "enrolled" and _own_enrolment(i)]
    first, second = mine[0], next(i for i in mine[1:]
                                  if i.route.teacher_id != mine[0].route.teacher_id)
    pairs = [(i.route.teacher.moodle_user_id, i.offer.moodle_course_id) for i in (first, second)]

    # decisions stored between pushes
    run(app, "review", "reject", "--item", str(first.id), "--reason", "курс перенесён")
    review.decline(db.session.get(RouteItem, second.id), review.Actor("teacher", "t"), "болею")
    summary = json.loads(run(app, "push"))
    assert summary["enrolments_sent"] == 2
    state = sandbox_state(url, token)
    enrolments = {(e["userid"], e["courseid"]): e for e in state["enrolments"]}
    assert [enrolments[p]["suspend"] for p in pairs] == [1, 1]
    texts = json.dumps(state["messages"], ensure_ascii=False)
    assert "курс перенесён" in texts  # the methodologist's decision is messaged
    assert "болею" not in texts  # the teacher's own is not sent back to them
    calls = state["calls"]["enrol_manual_enrol_users"]
    sent = len(state["messages"])
    run(app, "push")  # nothing new: nothing sent
    again = sandbox_state(url, token)
    assert again["calls"]["enrol_manual_enrol_users"] == calls
    assert len(again["messages"]) == sent


def test_a_swap_after_enrolment_reaches_the_teacher_as_one_message(
        make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> None:
    url, token = moodle
    app = _enrolled_demo(make_app, database_url, url, token)
    pool = review.OfferPool.load()
    item, choice = next(
        (i, a) for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))
        if i.status == "enrolled" for a in review.alternatives_of(i, pool) if a.possible)
    teacher = item.route.teacher.moodle_user_id
    sent = [m for m in sandbox_state(url, token)["messages"] if m["touserid"] == teacher]

    run(app, "review", "swap", "--item", str(item.id), "--offer", choice.offer_key,
        "--reason", "замена программы")
    run(app, "push")
    state = sandbox_state(url, token)
    now = [m for m in state["messages"] if m["touserid"] == teacher]
    assert len(now) == len(sent) + 1  # one message for the swap, no route message again
    assert "заменил" in now[-1]["text"] and "замена программы" in now[-1]["text"]
    run(app, "push")
    assert len(sandbox_state(url, token)["messages"]) == len(state["messages"])
