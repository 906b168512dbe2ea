"""LTI 1.3: the tool's own key, the Moodle platforms registered with it, the people they
launched, and the short-lived values of a launch in progress (state, nonce)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.assessment import utcnow

URL_LENGTH = 1024


class LtiToolKey(db.Model):  # type: ignore[name-defined]
    """The tool's RSA key pair (PEM), made once on first use; its public half is the JWKS."""

    __tablename__ = "lti_tool_key"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiPlatform(db.Model):  # type: ignore[name-defined]
    """A Moodle site registered as LTI 1.3 platform: what it told us on its tool page."""

    __tablename__ = "lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    issuer: Mapped[str] = mapped_column(String(URL_LENGTH))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(URL_LENGTH))
    auth_token_url: Mapped[str] = mapped_column(String(URL_LENGTH))
    key_set_url: Mapped[str] = mapped_column(String(URL_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="LtiDeployment.id")


class LtiDeployment(db.Model):  # type: ignore[name-defined]
    """A deployment id the platform may launch with (Moodle: one per tool type)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))

    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiAccount(db.Model):  # type: ignore[name-defined]
    """A platform user (``sub``) linked to the passwordless web login their launch made.

    ``role`` is what the role map gave at the last launch (admin, methodologist, teacher);
    ``teacher_id`` the teacher with that Moodle user id, when there is one.
    """

    __tablename__ = "lti_account"
    __table_args__ = (UniqueConstraint("platform_id", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), unique=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id"))
    role: Mapped[str] = mapped_column(String(32))
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_launch_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiLaunchValue(db.Model):  # type: ignore[name-defined]
    """A value of a launch in progress (nonce, state, launch data), kept until ``expires_at``."""

    __tablename__ = "lti_launch_value"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
