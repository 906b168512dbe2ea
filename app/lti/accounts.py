"""Who a launch signs in: the platform user (``sub``) linked to a passwordless web login.

Moodle puts its user id in ``sub`` (mod/lti: ``user_id`` → ``sub``), the id ProfRoute keeps
as ``Teacher.moodle_user_id``, so a teacher is found by it. The role map decides the role; a
launch whose roles map to ``teacher`` must find the teacher, else it is refused. Launched
logins carry no usable password (:data:`NO_PASSWORD`) and are marked by their ``lti_account``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.accounts.roles import hold_launched_role
from app.common import audit
from app.extensions import db
from app.lti.exceptions import LaunchRefused, UnknownMoodleUser
from app.lti.roles import resolve_role
from app.models.assessment import utcnow
from app.models.lti import LtiAccount, LtiPlatform
from app.models.network import Teacher
from app.models.web import WebUser

logger = logging.getLogger(__name__)
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
NO_PASSWORD = "!lti: signs in from Moodle only"  # noqa: S105  (not a hash: matches no password)
MAX_MOODLE_ID = 2**63 - 1
_LOGIN_SAFE = re.compile(r"^[\w.@-]{1,64}$")


def account_for_launch(platform: LtiPlatform, claims: Mapping[str, Any],
                       role_map: Mapping[str, str]) -> LtiAccount:
    """The launched person's account, made on their first launch, updated on each.

    :raise LaunchRefused: no role of the launch is in the role map, or the login is disabled.
    :raise UnknownMoodleUser: the roles make a teacher, but no teacher has this Moodle user id.
    """
    subject = str(claims.get("sub") or "")
    lti_roles = [r for r in claims.get(ROLES_CLAIM) or [] if isinstance(r, str)]
    role = resolve_role(lti_roles, role_map)
    if role is None:
        raise LaunchRefused(
            f"none of the launch's roles ({', '.join(lti_roles) or 'none'}) is in the role "
            "map (setting PROFROUTE_LTI_ROLE_MAP)")
    teacher = _teacher(subject)
    if role == "teacher" and teacher is None:
        raise UnknownMoodleUser(subject, platform.issuer)
    account = db.session.scalars(select(LtiAccount).filter_by(
        platform_id=platform.id, subject=subject)).first()
    if account is None:
        login = _login(platform, subject)
        if db.session.scalars(select(WebUser.id).filter_by(login=login)).first() is not None:
            raise LaunchRefused(f"a login {login!r} exists that no launch made: rename it "
                                "(profroute web-user) so the launch can make its own")
        user = WebUser(login=login, password_hash=NO_PASSWORD, active=True,
                       name=_name(claims, teacher, subject))
        db.session.add(user)
        db.session.flush()
        account = LtiAccount(platform_id=platform.id, subject=subject, web_user_id=user.id,
                             role=role)
        db.session.add(account)
        audit.record("lti.account.create", ("web_user", user.id), {
            "login": login, "platform": platform.issuer, "subject": subject[:255],
            "role": role}, actor=f"lti:{platform.issuer}"[:255])
        logger.info("LTI: new login %s for %s user %s", user.login, platform.issuer, subject)
    launched = db.session.get(WebUser, account.web_user_id)
    if launched is None or not launched.active:
        db.session.rollback()
        raise LaunchRefused("the ProfRoute login of this Moodle user is disabled")
    launched.name = _name(claims, teacher, subject)
    if account.role != role:
        audit.record("lti.account.role", ("web_user", launched.id), {
            "login": launched.login, "from": account.role, "to": role})
    account.role, account.lti_roles = role, lti_roles
    account.teacher_id = teacher.id if teacher else None
    hold_launched_role(launched.id, role, teacher.moodle_user_id if teacher else None)
    account.last_launch_at = utcnow()
    db.session.commit()
    return account


def landing_page(account: LtiAccount) -> str:
    """Where a launch ends: a teacher's own page, the deficit map for staff."""
    if account.role == "teacher" and account.teacher_id is not None:
        teacher = db.session.get(Teacher, account.teacher_id)
        if teacher is not None:
            return f"/teachers/{teacher.moodle_user_id}"
    return "/"


def _teacher(subject: str) -> Teacher | None:
    if not subject.isdigit() or int(subject) > MAX_MOODLE_ID:
        return None
    return db.session.scalars(select(Teacher).filter_by(moodle_user_id=int(subject))).first()


def _login(platform: LtiPlatform, subject: str) -> str:
    """``moodle<platform>-<sub>``; a sub that a login cannot spell is replaced by its hash."""
    safe = subject if _LOGIN_SAFE.match(subject) else hashlib.sha256(
        subject.encode()).hexdigest()[:32]
    return f"moodle{platform.id}-{safe}"


def _name(claims: Mapping[str, Any], teacher: Teacher | None, subject: str) -> str:
    given = " ".join(str(claims.get(k) or "") for k in ("family_name", "given_name")).strip()
    name = str(claims.get("name") or "").strip() or given
    if teacher is not None and teacher.full_name:
        name = teacher.full_name
    return (name or f"Пользователь Moodle {subject}")[:255]
