"""The deficit map's stored counts per diagnostic, and the change counters of its inputs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow


class ChangeCounter(db.Model):  # type: ignore[name-defined]
    """A table's change counter (``name``: deficit, teacher, school, competency — the deficit
    map's inputs — and policy_revision, competency_framework, diagnostic, lti_platform, kept
    per worker by ``app.common.marker``; web_user, web_user_role, web_user_municipality, the
    sign-in check's tables, migration 0021).

    Database triggers (migrations 0018, 0020, 0021) replace it on every statement (PostgreSQL) or
    row (SQLite) that inserts, updates or deletes rows of the table — whichever code writes,
    the pipeline, the push's ratings, an erasure, a cascade — in the writer's own transaction,
    so a reader never sees new rows with an old counter; by a value never used before
    (a sequence on PostgreSQL, a random 63-bit number on SQLite), so a value a rolled-back
    transaction saw is never taken by a later committed write.
    """

    __tablename__ = "change_counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class DeficitMapStore(db.Model):  # type: ignore[name-defined]
    """A diagnostic's level counts per (school, teacher active) and competency, with the
    schools and the thresholds used, valid while ``marker`` equals the change counters (and
    the policy revision) read before they were computed. Any scope's map is a sum of them."""

    __tablename__ = "deficit_map_store"
    diagnostic_id: Mapped[int] = mapped_column(
        ForeignKey("diagnostic.id", ondelete="CASCADE"), primary_key=True)
    marker: Mapped[str] = mapped_column(String(255))
    value: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
