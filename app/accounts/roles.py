"""Roles and scopes of web users: who may see and change what.

A web user holds one or more roles: ``admin`` (connection settings, accounts, schedules, push,
audit, and everything a methodologist of the whole region has), ``methodologist`` of the whole
region or of some municipalities (sees, reviews and exports only the teachers and schools
there), ``teacher`` of one Moodle user id (sees only their own page). :func:`access_of` reads
them into an :class:`Access`; :func:`teacher_clause` and :func:`school_clause` turn its
:class:`Scope` into SQL conditions, so every list and aggregate is taken within the scope.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, delete, false, or_, select, true

from app.common import audit
from app.common.marker import counters
from app.extensions import db
from app.i18n import N_
from app.models import Municipality, School, Teacher, WebUser, WebUserMunicipality, WebUserRole

logger = logging.getLogger(__name__)
ADMIN, METHODOLOGIST, TEACHER = "admin", "methodologist", "teacher"
ROLES = (ADMIN, METHODOLOGIST, TEACHER)
NO_MUNICIPALITIES = "none yet (import the catalogue or run `profroute sync` first)"
ROLE_RU = {ADMIN: N_("администратор"), METHODOLOGIST: N_("методист"), TEACHER: N_("педагог")}


class RoleError(ValueError):
    """Raised when a role or scope cannot be granted or revoked (unknown login, role,
    municipality, or a grant missing what the role needs)."""


@dataclass(frozen=True)
class Scope:
    """The teachers and schools a person may see: every one (``region``), those of some
    municipalities (ids), and/or one teacher (by Moodle user id). The empty scope sees none."""

    region: bool = False
    municipality_ids: frozenset[int] = frozenset()
    teacher_moodle_id: int | None = None

    @property
    def sees_schools(self) -> bool:
        """Whether any school (and so a list or an aggregate) is in scope."""
        return self.region or bool(self.municipality_ids)


REGION = Scope(region=True)


@dataclass(frozen=True)
class Access:
    """A web user's roles and the scope they give (admin counts as a region methodologist)."""

    roles: frozenset[str] = frozenset()
    scope: Scope = field(default_factory=Scope)

    def has(self, *roles: str) -> bool:
        """Whether the user holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


def access_of(user_id: int) -> Access:
    """The roles and scope of the web user ``user_id`` (nothing for an unknown id)."""
    rows = db.session.scalars(select(WebUserRole).filter_by(web_user_id=user_id)).all()
    roles = frozenset(r.role for r in rows)
    region = ADMIN in roles or any(r.role == METHODOLOGIST and r.whole_region for r in rows)
    municipalities = frozenset(db.session.scalars(
        select(WebUserMunicipality.municipality_id).filter_by(web_user_id=user_id))
    ) if METHODOLOGIST in roles else frozenset()
    teacher = next((r.teacher_moodle_id for r in rows if r.role == TEACHER), None)
    return Access(roles, Scope(region, municipalities, teacher))


@dataclass(frozen=True)
class Account:
    """A login as a request sees it: whether it may still sign in, its session version, and
    its roles and scope (as :func:`access_of` gives them)."""

    id: int
    login: str
    name: str
    active: bool
    session_version: int
    access: Access
    language: str | None = None  # the pages' language the user chose (None: Russian)


_user_t, _role_t = WebUser.__table__, WebUserRole.__table__
_user_municipality_t = WebUserMunicipality.__table__
# The sign-in check of every request: built once (compiled once per dialect), plain rows.
ACCOUNT_OF = (
    select(_user_t.c.login, _user_t.c.name, _user_t.c.active, _user_t.c.session_version,
           _user_t.c.language,
           _role_t.c.role, _role_t.c.whole_region, _role_t.c.teacher_moodle_id,
           _user_municipality_t.c.municipality_id)
    .select_from(_user_t.outerjoin(_role_t, _role_t.c.web_user_id == _user_t.c.id)
                 .outerjoin(_user_municipality_t,
                            and_(_user_municipality_t.c.web_user_id == _user_t.c.id,
                                 _role_t.c.role == METHODOLOGIST)))
    .where(_user_t.c.id == bindparam("user_id")))


# The counters of the tables the sign-in check reads (migration 0021's triggers).
ACCOUNT_TABLES = ("web_user", "web_user_role", "web_user_municipality")
_ACCOUNTS = "profroute.accounts"  # app.extensions: user id → (their counters, Account)
KEPT_ACCOUNTS = 10_000


def account_of(user_id: int) -> Account | None:
    """The login ``user_id`` with its roles and scope: the check every signed-in request
    makes. None for an unknown id.

    Read in one query (three primary-key or indexed lookups joined) and kept per worker while
    the change counters of the account tables (read once per request, shared with the page:
    ``app.common.marker.counters``) stay the same: a disabled account, an ended session or a
    revoked role — written by any process — counts from the next request.
    """
    values = counters()
    version = tuple(values.get(table) for table in ACCOUNT_TABLES)
    cache: dict[int, tuple[tuple[int | None, ...], Account | None]] = (
        current_app.extensions.setdefault(_ACCOUNTS, {}))
    found = cache.get(user_id)
    if found is not None and found[0] == version:
        return found[1]
    account = _read_account(user_id)
    if None not in version:  # counted tables only (a database before migration 0021: never)
        if len(cache) >= KEPT_ACCOUNTS:
            cache.clear()
        cache[user_id] = (version, account)
    return account


def _read_account(user_id: int) -> Account | None:
    rows = db.session.connection().execute(ACCOUNT_OF, {"user_id": user_id}).all()
    if not rows:
        return None
    first = rows[0]
    granted = [r for r in rows if r.role is not None]
    roles = frozenset(r.role for r in granted)
    region = ADMIN in roles or any(r.role == METHODOLOGIST and r.whole_region for r in granted)
    municipalities = frozenset(r.municipality_id for r in granted
                               if r.municipality_id is not None)
    teacher = next((r.teacher_moodle_id for r in granted if r.role == TEACHER), None)
    return Account(user_id, first.login, first.name or first.login, bool(first.active),
                   int(first.session_version), Access(roles, Scope(region, municipalities,
                                                                   teacher)),
                   first.language)


def teacher_clause(scope: Scope) -> ColumnElement[bool]:
    """The condition on ``Teacher`` that keeps the teachers in scope (a teacher without a
    school is seen only by the whole region)."""
    if scope.region:
        return true()
    parts: list[ColumnElement[bool]] = []
    if scope.municipality_ids:
        parts.append(Teacher.school_id.in_(select(School.id).where(
            School.municipality_id.in_(scope.municipality_ids))))
    if scope.teacher_moodle_id is not None:
        parts.append(Teacher.moodle_user_id == scope.teacher_moodle_id)
    return or_(*parts) if parts else false()


def school_clause(scope: Scope) -> ColumnElement[bool]:
    """The condition on ``School`` that keeps the schools in scope (a teacher's scope holds
    no school)."""
    if scope.region:
        return true()
    if scope.municipality_ids:
        return School.municipality_id.in_(scope.municipality_ids)
    return false()


def teacher_ids(scope: Scope) -> set[int] | None:
    """The ids of the teachers in scope, or None for the whole region (no filter needed)."""
    if scope.region:
        return None
    return set(db.session.scalars(select(Teacher.id).where(teacher_clause(scope))))


def grant(login: str, role: str, *, municipalities: Iterable[str] = (), region: bool = False,
          teacher_moodle_id: int | None = None) -> WebUser:
    """Give ``login`` a role, or widen it: a methodologist gets the whole region or more
    municipalities (by name); a teacher is linked to a Moodle user id.

    :raise RoleError: unknown login, role or municipality; a methodologist without a scope;
        a teacher without a Moodle user id; a scope or id given to a role that takes none.
    """
    user = _user(login)
    ids = check_grant(role, municipalities=municipalities, region=region,
                      teacher_moodle_id=teacher_moodle_id)
    row = db.session.scalars(select(WebUserRole).filter_by(web_user_id=user.id, role=role)
                             ).first()
    if row is None:
        row = WebUserRole(web_user_id=user.id, role=role, whole_region=False)
        db.session.add(row)
    row.whole_region = row.whole_region or region
    if role == TEACHER:
        row.teacher_moodle_id = teacher_moodle_id
    known = set(db.session.scalars(select(WebUserMunicipality.municipality_id)
                                   .filter_by(web_user_id=user.id)))
    db.session.add_all(WebUserMunicipality(web_user_id=user.id, municipality_id=m)
                       for m in ids if m not in known)
    audit.record("account.grant", ("web_user", user.id),
                 {"login": login, "role": role, "region": region, "municipalities": sorted(ids),
                  "teacher_moodle_id": teacher_moodle_id})
    db.session.commit()
    logger.info("web user %s: granted %s (region=%s, municipalities=%s, teacher=%s)",
                login, role, region, sorted(ids), teacher_moodle_id)
    return user


def hold_launched_role(user_id: int, role: str, teacher_moodle_id: int | None = None) -> None:
    """Make sure a person launched from Moodle holds ``role`` (not committed).

    A launch never takes a role away nor grants a scope: a methodologist made by a launch
    sees nothing until an admin grants municipalities or the region (``web-user grant``); a
    teacher is linked to their Moodle user id.
    """
    row = db.session.scalars(select(WebUserRole).filter_by(web_user_id=user_id, role=role)
                             ).first()
    if row is None:
        row = WebUserRole(web_user_id=user_id, role=role, whole_region=False)
        db.session.add(row)
    if role == TEACHER:
        row.teacher_moodle_id = teacher_moodle_id


def check_grant(role: str, *, municipalities: Iterable[str] = (), region: bool = False,
                teacher_moodle_id: int | None = None) -> list[int]:
    """Check a grant before anything is stored; the ids of the municipalities named.

    :raise RoleError: as :func:`grant` (except for the login).
    """
    names = list(dict.fromkeys(m.strip() for m in municipalities))
    if role not in ROLES:
        raise RoleError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role == METHODOLOGIST and not (region or names):
        raise RoleError("a methodologist needs a scope: --region or --municipality NAME "
                        "(repeat it for several)")
    if role != METHODOLOGIST and (region or names):
        raise RoleError(f"--region and --municipality belong to the methodologist role, "
                        f"not to {role}")
    if role == TEACHER and teacher_moodle_id is None:
        raise RoleError("a teacher needs --teacher-moodle-id N (the Moodle user id)")
    if role != TEACHER and teacher_moodle_id is not None:
        raise RoleError(f"--teacher-moodle-id belongs to the teacher role, not to {role}")
    return _municipality_ids(names)


def revoke(login: str, role: str, *, municipalities: Iterable[str] = (),
           region: bool = False) -> WebUser:
    """Take a role away, or only part of a methodologist's scope (the region, or some
    municipalities by name) when ``region`` or ``municipalities`` are given.

    :raise RoleError: unknown login, role or municipality; the login does not hold the role;
        the methodologist would be left without any scope (revoke the role instead).
    """
    user = _user(login)
    row = db.session.scalars(select(WebUserRole).filter_by(web_user_id=user.id, role=role)
                             ).first()
    if row is None:
        raise RoleError(f"{login!r} does not hold the role {role!r}; see `profroute web-user "
                        "list`")
    ids = _municipality_ids(list(municipalities))
    if role == ADMIN and is_last_active_admin(user.id):
        raise RoleError(LAST_ADMIN.format(login=user.login, what="revoking the admin role",
                                          what_ru="снять роль администратора"))
    drop = delete(WebUserMunicipality).where(WebUserMunicipality.web_user_id == user.id)
    if role == METHODOLOGIST and (region or ids):
        row.whole_region = row.whole_region and not region
        db.session.execute(drop.where(WebUserMunicipality.municipality_id.in_(ids)))
        if not row.whole_region and not db.session.scalars(select(
                WebUserMunicipality.id).filter_by(web_user_id=user.id)).first():
            db.session.rollback()
            raise RoleError(f"{login!r} would be a methodologist with no scope: revoke the "
                            "role instead (`web-user revoke LOGIN --role methodologist`)")
    elif region or ids:
        raise RoleError(f"--region and --municipality belong to the methodologist role, "
                        f"not to {role}")
    else:
        db.session.delete(row)
        if role == METHODOLOGIST:
            db.session.execute(drop)
    audit.record("account.revoke", ("web_user", user.id),
                 {"login": login, "role": role, "region": region, "municipalities": sorted(ids)})
    db.session.commit()
    logger.info("web user %s: revoked %s (region=%s, municipalities=%s)",
                login, role, region, sorted(ids))
    return user


LAST_ADMIN = ("{login!r} is the last active admin: {what} would leave nobody to manage "
              "accounts, settings and schedules / «{login}» — последний действующий "
              "администратор: {what_ru} нельзя, иначе управлять учётными записями, настройками и "
              "расписаниями будет некому. Сначала назначьте администратором другую учётную запись.")


def is_last_active_admin(user_id: int) -> bool:
    """Whether the user is an active admin and no other active account holds the admin role."""
    admins = set(db.session.scalars(
        select(WebUserRole.web_user_id).join(WebUser, WebUser.id == WebUserRole.web_user_id)
        .where(WebUserRole.role == ADMIN, WebUser.active.is_(True))))
    return admins == {user_id}


def plan_grants(roles: Iterable[str], municipalities: Iterable[str] = (), region: bool = False,
                teacher_moodle_id: int | None = None) -> list[tuple[str, dict[str, object]]]:
    """Each role with the options that belong to it, all checked before anything is stored
    (``web-user add`` and the accounts page create an account with them).

    :raise RoleError: a scope without the methodologist role, a Moodle id without the teacher
        role, or a role missing what it needs.
    """
    roles = list(dict.fromkeys(roles))
    municipalities = tuple(municipalities)
    if not roles:
        raise RoleError("give at least one role / укажите хотя бы одну роль")
    if (municipalities or region) and METHODOLOGIST not in roles:
        raise RoleError("--region and --municipality need --role methodologist")
    if teacher_moodle_id is not None and TEACHER not in roles:
        raise RoleError("--teacher-moodle-id needs --role teacher")
    grants: list[tuple[str, dict[str, object]]] = [
        (role, {"municipalities": municipalities, "region": region} if role == METHODOLOGIST
         else {"teacher_moodle_id": teacher_moodle_id} if role == TEACHER else {})
        for role in roles]
    for role, options in grants:
        check_grant(role, **options)  # type: ignore[arg-type]
    return grants


def describe(user_id: int) -> list[dict[str, object]]:
    """The roles of a web user as the CLI lists them: role, and the scope or teacher."""
    names = dict(db.session.execute(select(Municipality.id, Municipality.name)).all())
    access = access_of(user_id)
    rows = db.session.scalars(select(WebUserRole).filter_by(web_user_id=user_id)
                              .order_by(WebUserRole.role)).all()
    out: list[dict[str, object]] = []
    for row in rows:
        entry: dict[str, object] = {"role": row.role}
        if row.role == METHODOLOGIST:
            entry["region"] = row.whole_region
            entry["municipalities"] = sorted(names[m] for m in access.scope.municipality_ids)
        if row.role == TEACHER:
            entry["teacher_moodle_id"] = row.teacher_moodle_id
        out.append(entry)
    return out


def _user(login: str) -> WebUser:
    user = db.session.scalars(select(WebUser).filter_by(login=login.strip())).first()
    if user is None:
        raise RoleError(f"no web user {login!r}; see `profroute web-user list`")
    return user


def _municipality_ids(names: list[str]) -> list[int]:
    """The ids of municipalities named, in order.

    :raise RoleError: a name no school's municipality carries (with the known ones).
    """
    if not names:
        return []
    known = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or NO_MUNICIPALITIES
        raise RoleError(f"no municipality named {', '.join(map(repr, unknown))}; known: "
                        f"{listed}")
    return [known[n] for n in names]
