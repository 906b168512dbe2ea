"""Offers, completions, and individual routes (ИОМ) with their items."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from app.extensions import db
from app.models.assessment import utcnow

if TYPE_CHECKING:
    from app.models.assessment import Competency
    from app.models.catalogue import OfferSession
    from app.models.network import Municipality, School, Teacher
    from app.models.route_review import RouteItemEvent

# Route item lifecycle: proposed → approved → enrolled (pushed) → completed → verified (the
# final diagnostic closed the deficit) or replanned; rejected (methodologist), declined
# (teacher), cancelled.
PROPOSED, APPROVED, ENROLLED, COMPLETED = "proposed", "approved", "enrolled", "completed"
REJECTED, CANCELLED, DECLINED = "rejected", "cancelled", "declined"
VERIFIED, REPLANNED = "verified", "replanned"
ITEM_STATUSES = (PROPOSED, APPROVED, ENROLLED, COMPLETED, VERIFIED, REPLANNED, REJECTED,
                 DECLINED, CANCELLED)
TRANSITIONS = {
    PROPOSED: {APPROVED, REJECTED, DECLINED, CANCELLED},
    APPROVED: {ENROLLED, CANCELLED, REJECTED, DECLINED},
    ENROLLED: {COMPLETED, CANCELLED, REJECTED, DECLINED},
    COMPLETED: {VERIFIED, REPLANNED},
    VERIFIED: set(),
    REPLANNED: set(),
    REJECTED: {PROPOSED},
    DECLINED: set(),  # the teacher's no: the offer is never proposed to them again
    CANCELLED: {PROPOSED},
}
# Who moved an item (``route_item_event.actor_kind``).
BY_ACCOUNT, BY_TEACHER, BY_SYSTEM, BY_CLI = "account", "teacher", "system", "cli"


# Offer kinds: a Moodle PD course, an external PD course, an internship at a resource-centre
# school, mentoring, a methodical event.
OFFER_KINDS = ("course", "external", "internship", "mentoring", "event")
# Formats as stored (очно / дистанционно / смешанно).
FORMATS = ("in_person", "remote", "mixed")


class Offer(db.Model):  # type: ignore[name-defined]
    """A PD course (Moodle or external), an internship, mentoring or a methodical event.

    ``seats``, ``starts_on`` and ``ends_on`` sum up the sessions (an offer always has at
    least one; without explicit ones, the ``default`` session carries them). A mentor is
    named by ``mentor_name`` (their school: ``host_school``); ``capacity`` is how many
    mentees they take at once.
    """

    __tablename__ = "offer"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(512))
    moodle_course_id: Mapped[int | None] = mapped_column(Integer)
    moodle_course_shortname: Mapped[str | None] = mapped_column(String(255))
    host_school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    seats: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    hours: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="catalogue")  # catalogue | moodle
    provider: Mapped[str] = mapped_column(String(255), default="")
    format: Mapped[str | None] = mapped_column(String(16))  # in_person | remote | mixed
    place: Mapped[str] = mapped_column(String(255), default="")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"))
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    mentor_name: Mapped[str] = mapped_column(String(255), default="")
    mentor_moodle_user_id: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)

    host_school: Mapped[School | None] = relationship()
    municipality: Mapped[Municipality | None] = relationship()
    competencies: Mapped[list[Competency]] = relationship(secondary="offer_competency")
    sessions: Mapped[list[OfferSession]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferSession.id")


class OfferCompetency(db.Model):  # type: ignore[name-defined]
    """Which competencies an offer develops."""

    __tablename__ = "offer_competency"
    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True)


class CourseCompletion(db.Model):  # type: ignore[name-defined]
    """A teacher's completion of a Moodle course."""

    __tablename__ = "course_completion"
    __table_args__ = (UniqueConstraint("teacher_id", "moodle_course_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    moodle_course_id: Mapped[int] = mapped_column(Integer)
    completed: Mapped[bool] = mapped_column(default=False)
    progress: Mapped[float | None] = mapped_column()
    time_completed: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="moodle")


class Route(db.Model):  # type: ignore[name-defined]
    """A teacher's individual route (ИОМ) for one diagnostic."""

    __tablename__ = "route"
    __table_args__ = (UniqueConstraint("teacher_id", "diagnostic_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id", ondelete="CASCADE"))
    diagnostic_id: Mapped[int] = mapped_column(ForeignKey("diagnostic.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    teacher: Mapped[Teacher] = relationship()
    items: Mapped[list[RouteItem]] = relationship(
        back_populates="route", cascade="all, delete-orphan", order_by="RouteItem.id")


class RouteItem(db.Model):  # type: ignore[name-defined]
    """One offer in a route, with its status and the reasons it was proposed (``reasons``:
    the Russian text, for exports and the CLI; ``explanation``: the structured reasons)."""

    __tablename__ = "route_item"
    __table_args__ = (UniqueConstraint("route_id", "offer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id", ondelete="CASCADE"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_session.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    rule: Mapped[str] = mapped_column(String(64), default="")
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the planner's explanation is made of (``courses.plan_texts.item_record``), rendered
    # in the reader's language when shown; None on rows older than it (``reasons`` holds
    # their Russian text) and on items a person made (a swap).
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The reason of the last rejection, decline or cancellation (the events keep them all).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # The planner's ranked alternatives, best first: ``{"offer", "session", "value", "place",
    # "status"}`` (status ``free`` or why it was not chosen); None: not planned with them.
    alternatives: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    # The item this one replaced by a swap (the teacher gets one message for both). Indexed:
    # deleting items sets this to NULL in the items that name them (a scan per deleted row
    # otherwise).
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("route_item.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    route: Mapped[Route] = relationship(back_populates="items")
    offer: Mapped[Offer] = relationship()
    offer_session: Mapped[OfferSession | None] = relationship()
    replaces: Mapped[RouteItem | None] = relationship(remote_side="RouteItem.id")
    events: WriteOnlyMapped[RouteItemEvent] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RouteItemEvent.id")

    def move_to(self, status: str, *, actor_kind: str = BY_SYSTEM, actor: str = "system",
                actor_user_id: int | None = None, reason: str | None = None) -> None:
        """Change the status along the lifecycle and record the change as an event (who,
        when, from, to, why); a rejection, decline or cancellation keeps its reason.

        :raise ValueError: the lifecycle does not allow this change.
        """
        from app.models.route_review import RouteItemEvent

        if status not in TRANSITIONS.get(self.status, set()):
            raise ValueError(f"route item {self.id}: cannot go from {self.status} to {status}")
        self.events.add(RouteItemEvent(
            from_status=self.status, to_status=status, action=status, actor_kind=actor_kind,
            actor=actor[:255], actor_user_id=actor_user_id, reason=reason))
        if status in (REJECTED, DECLINED, CANCELLED):
            self.decision_reason = reason
        self.status = status
