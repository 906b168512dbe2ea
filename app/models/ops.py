"""Operational records: sync cursors, the run log and the outbox of pushes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class SyncCursor(db.Model):  # type: ignore[name-defined]
    """How far an incremental pull got, per source (e.g. ``moodle:attempts:quiz:1``)."""

    __tablename__ = "sync_cursor"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RunLog(db.Model):  # type: ignore[name-defined]
    """One run of a stage (sync, deficits, recommend, push…), its outcome and its figures."""

    __tablename__ = "run_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """A push waiting for, or done by, Moodle or the LRS; ``dedupe_key`` makes it once-only.

    ``payload`` is the JSON of the typed record of the row's ``kind``: write and read it
    through ``app.common.outbox`` (``new_row``, ``record_of``, ``replace_record``).
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # picks the record: app.common.outbox
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UnmappedStatement(db.Model):  # type: ignore[name-defined]
    """An xAPI statement that mapped to no domain event, kept for inspection with the reason."""

    __tablename__ = "xapi_unmapped"
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    statement: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
