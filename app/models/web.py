"""People who sign in to ProfRoute's web UI to change data (methodologists)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, String
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
