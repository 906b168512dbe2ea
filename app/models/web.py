"""People who sign in to ProfRoute's web UI to change data (methodologists)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.assessment import utcnow


class WebUser(db.Model):  # type: ignore[name-defined]
    """A methodologist's login; the password is kept only as a werkzeug hash."""

    __tablename__ = "web_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Copied into each session at sign-in; raised on sign-out, password change and disable,
    # which ends every session holding an older value (app.web.auth.load_user).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The pages' language the user chose (``ru`` or ``en``); None: Russian, the default.
    language: Mapped[str | None] = mapped_column(String(8))


class RateLimitCounter(db.Model):  # type: ignore[name-defined]
    """One fixed window of Flask-Limiter (failed sign-ins of a login or an address), kept in the
    database so that every worker counts the same attempts (app.web.security)."""

    __tablename__ = "rate_limit_counter"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch
