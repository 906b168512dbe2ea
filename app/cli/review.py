"""``profroute review``: the review page's decisions for scripts (approve, reject, swap,
decline on a teacher's behalf, alternatives, requests for a change and their answers).

The CLI acts for the whole region; each decision is recorded as ``cli:<os user>`` in the
item's events and the audit log, and reaches Moodle at the next ``profroute push``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from app import settings_of
from app.accounts.roles import REGION
from app.cli.base import echo_json, stage
from app.extensions import db
from app.models import Offer, OfferSession
from app.models.route import ITEM_STATUSES
from app.routes import review
from app.routes.plan_input import policy_of
from app.routes.review import ReviewError, ReviewFilter


def _selection(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed((
            click.option("--item", "items", multiple=True, type=int, help="Route item id."),
            click.option("--teacher", type=int, default=None, help="Moodle user id."),
            click.option("--school", default="", help="School code."),
            click.option("--competency", default="", help="Competency idnumber."),
            click.option("--offer", default="", help="Offer key."),
            click.option("--session", default="",
                         help="Session: <offer key>/<session key>, or its id."),
            click.option("--status", default="", type=click.Choice(("", *ITEM_STATUSES)),
                         help="Only items with this status."))):
        func = option(func)
    return func


def _chosen(*, items: tuple[int, ...], teacher: int | None, school: str, competency: str,
            offer: str, session: str, status: str) -> ReviewFilter:
    chosen = ReviewFilter(item_ids=items, teacher_moodle_id=teacher, school_code=school,
                          competency=competency, offer_key=offer,
                          session_id=_session(session) if session else None, status=status)
    if chosen == ReviewFilter(status=status):
        raise click.UsageError("say which items: --item, --teacher, --school, --competency, "
                               "--offer or --session")
    return chosen


def _session(value: str) -> int:
    """The id of a session named ``<offer key>/<session key>`` or by its id.

    :raise ClickException: no such session.
    """
    if value.isdigit():
        found = db.session.get(OfferSession, int(value))
        if found is not None:
            return found.id
    offer_key, _, key = value.rpartition("/")
    session_id = db.session.scalar(select(OfferSession.id).join(Offer).where(
        Offer.key == offer_key, OfferSession.key == key)) if offer_key else None
    if session_id is None:
        raise click.ClickException(f"no session {value} (give <offer key>/<session key>)")
    return int(session_id)


def _hours_cap(app: Flask) -> float:
    return policy_of(settings_of(app)).hours_cap


def _one(item_id: int) -> Any:
    item = review.item_in_scope(REGION, item_id)
    if item is None:
        raise click.ClickException(f"no route item {item_id}")
    return item


@click.group("review")
def review_group() -> None:
    """Review route items: approve, reject, swap, decline, answer requests."""


@review_group.command("approve")
@_selection
@stage
def approve_cmd(app: Flask, **selection: Any) -> None:
    """Approve the proposed items selected."""
    items = review.select_items(REGION, _chosen(**selection))
    echo_json({"approved": review.approve_items(items, review.actor_now())})


@review_group.command("reject")
@_selection
@click.option("--reason", required=True, help="Why (shown to the teacher).")
@stage
def reject_cmd(app: Flask, reason: str, **selection: Any) -> None:
    """Reject the selected items (proposed, approved or enrolled) with a reason."""
    items = review.select_items(REGION, _chosen(**selection))
    try:
        echo_json({"rejected": review.reject_items(items, review.actor_now(), reason)})
    except ReviewError as err:
        raise click.ClickException(str(err)) from err


@review_group.command("alternatives")
@click.option("--item", "item_id", required=True, type=int, help="Route item id.")
@stage
def alternatives_cmd(app: Flask, item_id: int) -> None:
    """Print the ranked alternatives of an item, best first, with their reasons (the
    planner's, re-checked against today's seats, dates and hours)."""
    pool = review.OfferPool.load(_hours_cap(app))
    echo_json([alt.as_dict() for alt in review.alternatives_of(_one(item_id), pool)])


@review_group.command("swap")
@click.option("--item", "item_id", required=True, type=int, help="Route item id.")
@click.option("--offer", "offer_key", required=True, help="Key of one of its alternatives.")
@click.option("--session", default="", help="Its session (<offer key>/<session key> or id); "
              "default: its best session still possible.")
@click.option("--reason", default="", help="Why (shown to the teacher).")
@stage
def swap_cmd(app: Flask, item_id: int, offer_key: str, session: str, reason: str) -> None:
    """Swap an item for one of its ranked alternatives (refused when no longer possible)."""
    offer_id = db.session.scalar(select(Offer.id).filter_by(key=offer_key))
    session_id = _session(session if "/" in session or session.isdigit()
                          else f"{offer_key}/{session}") if session else None
    try:
        if offer_id is None:
            raise ReviewError(f"no offer {offer_key}")
        new = review.swap_item(_one(item_id), offer_id, review.actor_now(), reason,
                               session_id=session_id, hours_cap=_hours_cap(app))
    except ReviewError as err:
        raise click.ClickException(str(err)) from err
    echo_json({"swapped": item_id, "new_item": new.id, "offer": offer_key,
               "session_id": new.session_id})


@review_group.command("decline")
@click.option("--item", "item_id", required=True, type=int, help="Route item id.")
@click.option("--reason", required=True, help="The teacher's reason.")
@stage
def decline_cmd(app: Flask, item_id: int, reason: str) -> None:
    """Decline an item on the teacher's behalf (the offer is never proposed to them again)."""
    try:
        review.decline(_one(item_id), review.actor_now(), reason)
    except ReviewError as err:
        raise click.ClickException(str(err)) from err
    echo_json({"declined": item_id})


@review_group.command("requests")
@stage
def requests_cmd(app: Flask) -> None:
    """Print the open requests for a change."""
    echo_json([{"id": r.id, "item": r.route_item_id, "message": r.message,
                "created_at": r.created_at} for r in review.open_requests(REGION)])


@review_group.command("answer")
@click.option("--request", "request_id", required=True, type=int, help="Request id.")
@click.option("--answer", "text", required=True, help="The answer (shown to the teacher).")
@click.option("--reject", is_flag=True, help="Reject the item too.")
@click.option("--swap", "offer_key", default="", help="Swap the item for this offer too.")
@stage
def answer_cmd(app: Flask, request_id: int, text: str, reject: bool, offer_key: str) -> None:
    """Answer a teacher's request for a change."""
    found = review.request_in_scope(REGION, request_id)
    if found is None:
        raise click.ClickException(f"no request {request_id}")
    offer_id = db.session.scalar(select(Offer.id).filter_by(key=offer_key)) if offer_key else None
    try:
        review.answer_request(found, review.actor_now(), text, reject=reject,
                              swap_offer_id=offer_id, hours_cap=_hours_cap(app))
    except ReviewError as err:
        raise click.ClickException(str(err)) from err
    echo_json({"answered": request_id})


@review_group.command("verify")
@stage
def verify_cmd(app: Flask) -> None:
    """Move completed items to verified (the final diagnostic closed their deficits) or
    re-planned (it did not: run recommend again)."""
    echo_json(review.verify_completed().__dict__)


COMMANDS = (review_group,)
