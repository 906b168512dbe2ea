"""Methodologists' logins for the web UI: created and managed from the command line.

Only a werkzeug hash of each password is stored; a password is never logged.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.passwords import password_problem
from app.accounts.roles import LAST_ADMIN, grant, is_last_active_admin, plan_grants
from app.common import audit
from app.extensions import db
from app.models.web import WebUser

logger = logging.getLogger(__name__)
_LOGIN = re.compile(r"^[\w.@-]{1,100}$")


class WebUserError(ValueError):
    """Raised when a login cannot be created or changed (bad login, short password, unknown)."""


def add_user(login: str, name: str, password: str) -> WebUser:
    """Create an active login.

    :raise WebUserError: the login is malformed or taken, or the password breaks the rule
        (:func:`app.accounts.passwords.password_problem`).
    """
    login = login.strip()
    if not _LOGIN.match(login):
        raise WebUserError(f"login {login!r}: use letters, digits, '.', '_', '-' or '@'")
    if find_user(login) is not None:
        raise WebUserError(f"login {login!r} already exists; use `web-user passwd`")
    user = WebUser(login=login, name=name.strip() or login, active=True,
                   password_hash=_hash(password, login))
    db.session.add(user)
    db.session.flush()
    audit.record("account.add", ("web_user", user.id), {"login": login, "name": user.name})
    db.session.commit()
    logger.info("web user %s created", login)
    return user


def create_account(login: str, name: str, password: str, roles: list[str], *,
                   municipalities: tuple[str, ...] = (), region: bool = False,
                   teacher_moodle_id: int | None = None) -> WebUser:
    """Create a login with its roles (``web-user add`` and the accounts page); the grants are
    checked before the login is stored.

    :raise RoleError: as :func:`app.accounts.roles.plan_grants`.
    :raise WebUserError: as :func:`add_user`.
    """
    grants = plan_grants(roles, municipalities, region, teacher_moodle_id)
    user = add_user(login, name, password)
    for role, options in grants:
        grant(user.login, role, **options)  # type: ignore[arg-type]
    return user


def signed_in(user: WebUser) -> None:
    """Note the time of a successful sign-in (shown on the accounts page)."""
    user.last_login_at = dt.datetime.now(dt.UTC)
    db.session.commit()


def set_password(login: str, password: str) -> WebUser:
    """Replace a login's password; every session of the login ends.

    :raise WebUserError: unknown login or a password that breaks the rule.
    """
    user = _existing(login)
    user.password_hash = _hash(password, user.login)
    user.session_version += 1
    audit.record("account.password", ("web_user", user.id), {"login": user.login})
    db.session.commit()
    logger.info("web user %s: password changed", login)
    return user


def set_active(login: str, active: bool) -> WebUser:
    """Allow or refuse a login from now on; refusing ends every session of the login.

    :raise WebUserError: unknown login.
    """
    user = _existing(login)
    if not active and is_last_active_admin(user.id):
        raise WebUserError(LAST_ADMIN.format(login=user.login, what="disabling it",
                                             what_ru="отключить её"))
    user.active = active
    if not active:
        user.session_version += 1
    audit.record("account.enable" if active else "account.disable", ("web_user", user.id),
                 {"login": user.login})
    db.session.commit()
    logger.info("web user %s: active=%s", login, active)
    return user


def end_sessions(user_id: int) -> None:
    """End every session of the user (signed in before now) at its next request."""
    db.session.execute(update(WebUser).where(WebUser.id == user_id)
                       .values(session_version=WebUser.session_version + 1))
    db.session.commit()


def choose_language(user_id: int, language: str) -> None:
    """Keep the pages' language the user chose (``ru`` or ``en``) on their login."""
    db.session.execute(update(WebUser).where(WebUser.id == user_id).values(language=language))
    db.session.commit()


def list_users() -> list[WebUser]:
    """Every login, oldest first."""
    return list(db.session.scalars(select(WebUser).order_by(WebUser.id)))


def find_user(login: str) -> WebUser | None:
    """The login of that name, active or not."""
    return db.session.scalars(select(WebUser).filter_by(login=login.strip())).first()


def authenticate(login: str, password: str) -> WebUser | None:
    """The active user with this login and password, or None (never says which was wrong)."""
    user = find_user(login) if login.strip() else None
    if user is None:
        check_password_hash(_dummy_hash(), password)  # as long as for a known login
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("profroute-no-such-user")


def _existing(login: str) -> WebUser:
    user = find_user(login)
    if user is None:
        raise WebUserError(f"no web user {login!r}; see `profroute web-user list`")
    return user


def _hash(password: str, login: str) -> str:
    problem = password_problem(password, login)
    if problem:
        raise WebUserError(problem)
    return generate_password_hash(password)
