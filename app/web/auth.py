"""Sign-in to the web UI; who may then see what is declared per view (``app.web.access``)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.accounts.roles import access_of
from app.accounts.web_users import authenticate
from app.extensions import db, login_manager
from app.models.web import WebUser

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, template_folder="templates")


class Methodologist(UserMixin):
    """The signed-in user as the session sees it (no ORM object kept across requests)."""

    def __init__(self, user: WebUser) -> None:
        self.id = str(user.id)
        self.login = user.login
        self.name = user.name or user.login
        self.access = access_of(user.id)  # roles and scope, read afresh on every request


def init_login(app: Flask) -> None:
    """Where unsigned users are sent, how a session finds its user, and the error pages."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Войдите, чтобы открыть эту страницу ProfRoute."
    login_manager.login_message_category = "info"
    app.register_error_handler(413, too_large)
    app.register_error_handler(CSRFError, csrf_refused)


@login_manager.user_loader
def load_user(user_id: str) -> Methodologist | None:
    """The session's user, if the login still exists and is active."""
    user = (db.session.get(WebUser, int(user_id), populate_existing=True)
            if user_id.isdigit() else None)
    return Methodologist(user) if user is not None and user.active else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; on success back to the page that asked for it.

    :raise 401: wrong login or password, or a disabled login (the page says so, not which).
    """
    target = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", next=target, login="")
    name = request.form.get("login", "")
    user = authenticate(name, request.form.get("password", ""))
    if user is None:
        logger.warning("web sign-in refused for login %r", name)
        return render_template("login.html", next=target, login=name,
                               error="Неверный логин или пароль, или вход отключён."), 401
    login_user(Methodologist(user))
    logger.info("web sign-in: %s", user.login)
    flash(f"Вы вошли как {user.name or user.login}.", "info")
    return redirect(target or "/")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session."""
    logout_user()
    flash("Вы вышли.", "info")
    return redirect("/")


def too_large(err: Exception) -> ResponseReturnValue:
    """Uploads beyond MAX_CONTENT_LENGTH: say the limit in MB."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = (f"{limit / 2**20:g} МБ" if limit >= 2**20 else f"{max(limit // 1024, 1)} КБ")
    message = (f"Файл слишком большой: за одну загрузку можно передать не больше {size}. "
               "Разделите файл на части.")
    if request.path.startswith("/api/"):
        return jsonify({"code": 413, "status": "Payload Too Large", "message": message}), 413
    return render_template("error.html", title="Файл слишком большой", message=message), 413


def csrf_refused(err: CSRFError) -> ResponseReturnValue:
    """A form sent without its CSRF token (or with a stale one) changes nothing."""
    logger.warning("CSRF refusal on %s: %s", request.path, err.description)
    message = ("Форма отправлена без действующего ключа защиты (CSRF): ничего не изменено. "
               "Обновите страницу и отправьте форму снова.")
    return render_template("error.html", title="Форма не принята", message=message), 400


def _safe_next(target: str) -> str:
    """Only a path on this site (never another host) is a place to go back to."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return ""
    return target
