"""The xAPI statements ProfRoute receives as an LRS, and the credentials Moodle sites send with."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow

IRI_LENGTH = 1024


class LrsCredential(db.Model):  # type: ignore[name-defined]
    """A Moodle site's HTTP basic credential for the xAPI endpoint; the secret only hashed."""

    __tablename__ = "lrs_credential"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_url: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(255), default="")
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class XapiStatement(db.Model):  # type: ignore[name-defined]
    """A stored statement: its JSON as answered, and the columns queries filter on.

    ``digest`` is the hash of the statement as first received (stored, authority and version
    left out), so a resend is told from a conflicting body without loading the JSON.
    """

    __tablename__ = "xapi_statement"
    __table_args__ = (
        Index("ix_xapi_statement_stored_id", "stored", "id"),
        Index("ix_xapi_statement_actor_account", "actor_home_page", "actor_account_name"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stored: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    timestamp: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    verb_id: Mapped[str] = mapped_column(String(IRI_LENGTH), index=True)
    activity_id: Mapped[str | None] = mapped_column(String(IRI_LENGTH), index=True)
    actor_home_page: Mapped[str | None] = mapped_column(String(512))
    actor_account_name: Mapped[str | None] = mapped_column(String(255))
    actor_mbox: Mapped[str | None] = mapped_column(String(320), index=True)
    registration: Mapped[str | None] = mapped_column(String(36), index=True)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voiding_target: Mapped[str | None] = mapped_column(String(36), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("lrs_credential.id", ondelete="SET NULL"))


class XapiStatementLink(db.Model):  # type: ignore[name-defined]
    """An agent or activity a statement names, for the ``agent`` and ``related_*`` filters.

    ``kind`` is ``agent`` (the object is this agent, or the actor is named by an identifier
    other than an account or mbox), ``related_agent``, ``related_activity`` or
    ``statement_ref`` (the object is a StatementRef); ``key`` is the activity id, the agent's
    identifier (see ``app.xapi.store.agent_key``) or the targeted statement's id.
    """

    __tablename__ = "xapi_statement_link"
    __table_args__ = (Index("ix_xapi_statement_link_kind_key", "kind", "key"),)
    statement_id: Mapped[str] = mapped_column(
        ForeignKey("xapi_statement.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(IRI_LENGTH), primary_key=True)



class XapiPulledStatement(db.Model):  # type: ignore[name-defined]
    """A statement a pull already applied, per source, kept while it lies in the overlap.

    A pull reads again from its cursor minus a safety overlap (statements sharing one
    ``stored`` instant, a late commit, an LRS not yet consistent); the ids here drop what it
    already applied. Rows older than the cursor minus the overlap are pruned.
    """

    __tablename__ = "xapi_pulled_statement"
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    stored: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class XapiAttachment(db.Model):  # type: ignore[name-defined]
    """An attachment's raw data sent with statements (multipart/mixed), by its SHA-2 hash;
    statements name it in ``attachments[].sha2``."""

    __tablename__ = "xapi_attachment"
    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
