"""The admin's accounts page: web logins with their roles, scopes and state; create, grant,
revoke, disable, enable and reset a password, through the same services as ``profroute
web-user`` (each change audited there)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.roles import ADMIN, ROLE_RU, ROLES, RoleError, describe, grant, revoke
from app.accounts.web_users import (
    WebUserError,
    create_account,
    list_users,
    set_active,
    set_password,
)
from app.common.inputs import InputError, parse_id
from app.extensions import db
from app.models import Municipality, WebUser
from app.web.access import allow

bp = Blueprint("admin_accounts", __name__, template_folder="templates")
PAGE = "/admin/accounts"


@bp.get(PAGE)
@allow(ADMIN)
def accounts_page() -> ResponseReturnValue:
    """Every login with its roles, scope, state and last sign-in."""
    users = [(u, describe(u.id)) for u in list_users()]
    municipalities = list(db.session.scalars(select(Municipality.name)
                                             .order_by(Municipality.name)))
    return render_template("admin_accounts.html", users=users, roles=ROLES, role_ru=ROLE_RU,
                           municipalities=municipalities)


@bp.post(PAGE)
@allow(ADMIN)
def create() -> ResponseReturnValue:
    """Create a login with its roles (``web-user add``); the password is typed twice.

    :raise 400: passwords differ, the password breaks the rule, a bad login or grant.
    """
    form = request.form
    password = form.get("password", "")
    if password != form.get("password2", ""):
        return _refused(_("Пароли не совпадают."))
    try:
        user = create_account(form.get("login", ""), form.get("name", ""), password,
                              form.getlist("role"), **_scope(form))
    except (WebUserError, RoleError) as err:
        return _refused(str(err))
    flash(_("Учётная запись %(login)s создана.", login=user.login), "saved")
    return redirect(PAGE)


@bp.post(f"{PAGE}/<int:user_id>/active")
@allow(ADMIN)
def change_active(user_id: int) -> ResponseReturnValue:
    """Disable (``active=0``: its sessions end) or enable a login.

    :raise 400: the last active admin cannot be disabled.
    :raise 404: no such login.
    """
    user = _user(user_id)
    active = request.form.get("active") == "1"
    try:
        set_active(user.login, active)
    except WebUserError as err:
        return _refused(str(err))
    flash(_("%(login)s: включена.", login=user.login) if active
          else _("%(login)s: отключена.", login=user.login), "saved")
    return redirect(PAGE)


@bp.post(f"{PAGE}/<int:user_id>/password")
@allow(ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Set a new password; every session of the login ends.

    :raise 400: passwords differ or break the rule. :raise 404: no such login.
    """
    user = _user(user_id)
    password = request.form.get("password", "")
    if password != request.form.get("password2", ""):
        return _refused(_("Пароли не совпадают."))
    try:
        set_password(user.login, password)
    except WebUserError as err:
        return _refused(str(err))
    flash(_("%(login)s: пароль заменён, все сеансы завершены.", login=user.login), "saved")
    return redirect(PAGE)


@bp.post(f"{PAGE}/<int:user_id>/grant")
@allow(ADMIN)
def grant_role(user_id: int) -> ResponseReturnValue:
    """Give a role, or widen a methodologist's scope (``web-user grant``).

    :raise 400: a bad grant. :raise 404: no such login.
    """
    user = _user(user_id)
    try:
        grant(user.login, request.form.get("role", ""), **_scope(request.form))
    except RoleError as err:
        return _refused(str(err))
    flash(_("%(login)s: роль выдана.", login=user.login), "saved")
    return redirect(PAGE)


@bp.post(f"{PAGE}/<int:user_id>/revoke")
@allow(ADMIN)
def revoke_role(user_id: int) -> ResponseReturnValue:
    """Take a role away, or part of a methodologist's scope (``web-user revoke``).

    :raise 400: the last active admin's admin role, a role not held. :raise 404: no login.
    """
    user = _user(user_id)
    try:
        scope = _scope(request.form)
        scope.pop("teacher_moodle_id")
        revoke(user.login, request.form.get("role", ""), **scope)
    except RoleError as err:
        return _refused(str(err))
    flash(_("%(login)s: роль снята.", login=user.login), "saved")
    return redirect(PAGE)


def _scope(form: object) -> dict[str, Any]:
    """The scope fields of a form: municipalities, region, the teacher's Moodle id.

    :raise RoleError: the Moodle id is not a number.
    """
    getlist, get = form.getlist, form.get  # type: ignore[attr-defined]
    moodle_id = get("teacher_moodle_id", "").strip()
    try:
        teacher = parse_id(moodle_id, "id Moodle") if moodle_id else None
    except InputError as err:
        raise RoleError(str(err)) from err
    return {"municipalities": tuple(m for m in getlist("municipality") if m.strip()),
            "region": get("region") == "1", "teacher_moodle_id": teacher}


def _user(user_id: int) -> WebUser:
    user = db.session.get(WebUser, user_id)
    if user is None:
        abort(404, description=_("Учётной записи №%(id)s нет", id=user_id))
    return user


def _refused(message: str) -> ResponseReturnValue:
    db.session.rollback()
    return render_template("error.html", title=_("Изменение не выполнено"),
                           message=message), 400
