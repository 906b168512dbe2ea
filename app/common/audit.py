"""The audit log: ``record`` who did what to which object, beside the change it records.

The actor comes from where the action runs: the signed-in web user of a request
(flask-login's ``current_user``: their id and login, and the client's address), else the
actor set by :func:`acting_as` (``cli:<os user>`` for a ``profroute`` command), else
``system`` (the scheduler, the demo). An event made inside a stage run names its run log row,
which keeps the run's figures and error: the log does not repeat them.

``record`` adds the event to the session of the change, so both are committed together (or
neither); ``commit=True`` commits it alone, for actions that change nothing (exports).
Details are plain values; a key naming a password, secret or token is refused, so a
call site cannot log one by mistake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, func, select

from app.common.runs import current_run_id
from app.extensions import db
from app.models.audit import AuditEvent

SYSTEM = "system"
_ACTOR: ContextVar[str | None] = ContextVar("profroute_audit_actor", default=None)
_SECRET_WORDS = ("password", "secret", "token", "private")


class AuditError(ValueError):
    """Raised when an audit event would carry a secret, or a filter of the log is malformed."""


def cli_actor() -> str:
    """``cli:<os user>``: who runs a ``profroute`` command."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        name = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Events recorded outside a request inside this block name ``actor``."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def current_actor() -> tuple[int | None, str, str | None]:
    """(web user id, actor, client address) of the action running now."""
    if has_request_context():
        address = (request.remote_addr or "")[:64] or None
        user = current_user
        if user is not None and user.is_authenticated:
            user_id = user.get_id()
            return (int(user_id) if str(user_id).isdigit() else None,
                    str(getattr(user, "login", user_id)), address)
        return None, "anonymous", address  # e.g. an LTI launch before its sign-in
    return None, _ACTOR.get() or SYSTEM, None


def record(action: str, target: tuple[str, object] | None = None,
           details: Mapping[str, Any] | None = None, *, commit: bool = False,
           actor: str | None = None) -> AuditEvent:
    """Add an audit event of ``action`` (a short code, e.g. ``route.approve``) on ``target``
    (kind, id) to the session; commit it too with ``commit``. ``actor`` names who acts where
    no one is signed in yet (an LTI launch: ``lti:<issuer>``).

    :raise AuditError: a details key names a password, secret or token.
    """
    plain = dict(details or {})
    for key in plain:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise AuditError(f"audit event {action}: details key {key!r} looks like a secret; "
                             "never log secrets in the audit log")
    user_id, found, address = current_actor()
    actor = found if actor is None or user_id is not None else actor
    kind, object_id = target if target is not None else ("", "")
    event = AuditEvent(at=dt.datetime.now(dt.UTC), actor_user_id=user_id, actor=actor[:255],
                       action=action[:64], object_kind=kind[:32],
                       object_id=str(object_id)[:255], details=plain, address=address,
                       run_id=current_run_id())
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


@dataclass(frozen=True)
class AuditFilter:
    """What the log is narrowed to: an action (exact, or a prefix ending in ``.``), an actor
    (exact), dates (``since`` from its start, ``until`` to its end, UTC), an object."""

    action: str = ""
    actor: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    object_kind: str = ""
    object_id: str = ""

    def apply(self, query: Select[Any]) -> Select[Any]:
        """The query narrowed to the filter."""
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action, autoescape=True)
                                if self.action.endswith(".") else
                                AuditEvent.action == self.action)
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.since:
            query = query.where(AuditEvent.at >= _midnight(self.since))
        if self.until:
            query = query.where(AuditEvent.at < _midnight(self.until + dt.timedelta(days=1)))
        if self.object_kind:
            query = query.where(AuditEvent.object_kind == self.object_kind)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        return query


def parse_date(text: str | None, name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` filter date, or None for an empty one.

    :raise AuditError: not such a date (named by ``name``).
    """
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as err:
        raise AuditError(f"{name}: {text.strip()[:40]!r} is not a date YYYY-MM-DD") from err


def events(where: AuditFilter, *, page: int = 1, per_page: int = 50
           ) -> tuple[list[AuditEvent], int]:
    """One page of events matching ``where``, newest first, and how many match in all."""
    total = db.session.scalar(where.apply(select(func.count(AuditEvent.id)))) or 0
    query = where.apply(select(AuditEvent)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    rows = list(db.session.scalars(query.offset((max(page, 1) - 1) * per_page).limit(per_page)))
    return rows, int(total)


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON values."""
    return {"id": event.id, "at": event.at.isoformat() if event.at else None,
            "actor": event.actor, "actor_user_id": event.actor_user_id,
            "action": event.action,
            "object": {"kind": event.object_kind, "id": event.object_id},
            "details": event.details, "address": event.address, "run_id": event.run_id}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def figures(summary: object) -> dict[str, Any]:
    """The plain figures of a summary (numbers and flags; no lists of rows or names)."""
    values = summary.as_dict() if hasattr(summary, "as_dict") else dict(vars(summary))
    return {k: v for k, v in values.items() if isinstance(v, int | float | bool)}
