"""Per-teacher results derived from stored data, kept with the digest of what they came from."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow


class TeacherMemo(db.Model):  # type: ignore[name-defined]
    """A derived result about one teacher in one diagnostic (``kind``: the risk-group reason,
    the entry → final change), valid while ``digest`` matches its inputs' digest.

    Every gunicorn worker reads the same rows: a result is computed once per change of its
    inputs, not once per view; a row whose inputs changed is recomputed and replaced.
    """

    __tablename__ = "teacher_memo"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    diagnostic_id: Mapped[int] = mapped_column(
        ForeignKey("diagnostic.id", ondelete="CASCADE"), primary_key=True)
    teacher_id: Mapped[int] = mapped_column(
        ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True, index=True)
    digest: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
