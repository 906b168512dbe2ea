"""The audit log: who did what to which object, when and from where (kept with the data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One audited action (``app.common.audit.record``).

    ``actor`` is the web login (``actor_user_id`` its id), ``cli:<os user>`` for a command or
    ``system``; ``object_kind``/``object_id`` what was acted on (e.g. ``teacher``, a Moodle user
    id); ``details`` plain figures and keys, never a password, secret or personal data beyond
    ids; ``address`` the client's address of a web request; ``run_id`` the run log row of the
    stage run it happened in (its figures and error live there, not here).
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_kind", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)  # no key: the log outlives logins
    actor: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_kind: Mapped[str] = mapped_column(String(32), default="")
    object_id: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    run_id: Mapped[int | None] = mapped_column(Integer)
