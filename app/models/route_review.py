"""The review of route items by people: every change of an item (who, when, from, to, why)
and the teachers' requests for a change with the methodologists' answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.assessment import utcnow
from app.models.route import RouteItem

OPEN, ANSWERED = "open", "answered"


class RouteItemEvent(db.Model):  # type: ignore[name-defined]
    """One change of a route item: a status transition (``from_status`` → ``to_status``,
    ``action`` the new status) or a step that keeps the status (``accepted`` by the teacher,
    ``change_requested``, ``change_answered``, ``swapped``).

    ``actor_kind`` is ``account`` (a methodologist's or admin's login), ``teacher`` (the
    teacher's own login), ``cli`` or ``system`` (a stage: push, sync); ``actor`` the login or
    ``cli:<os user>``/``system``. ``reason`` is the reason or message given, if any.
    """

    __tablename__ = "route_item_event"
    __table_args__ = (Index("ix_route_item_event_item", "route_item_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_item_id: Mapped[int] = mapped_column(
        ForeignKey("route_item.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)  # no key: outlives logins
    reason: Mapped[str | None] = mapped_column(Text)


class RouteChangeRequest(db.Model):  # type: ignore[name-defined]
    """A teacher's request to change one item of their route, and the answer to it."""

    __tablename__ = "route_change_request"
    __table_args__ = (Index("ix_route_change_request_status", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_item_id: Mapped[int] = mapped_column(
        ForeignKey("route_item.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(255))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    item: Mapped[RouteItem] = relationship()


class RouteUnmetNeed(db.Model):  # type: ignore[name-defined]
    """A need the last recommend run left uncovered, with why (``reason``: a planner code such
    as ``no_offer``, ``no_seats``, ``hours_cap``, ``dates_clash``, ``subject``; ``text``: the
    sentence a methodologist reads, in Russian; ``explanation``: what it is made of, to render
    it in the reader's language). Replaced per diagnostic on every run."""

    __tablename__ = "route_unmet_need"
    __table_args__ = (Index("ix_route_unmet_need_diagnostic", "diagnostic_id", "teacher_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    competency: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    # The need as the text was made of it (``courses.plan_texts.need_record``), rendered in
    # the reader's language when shown; None on rows older than it (``text`` is Russian).
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
