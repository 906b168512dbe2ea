"""Sign-in to the web UI; who may then see what is declared per view (``app.web.access``).

A session holds the account's ``session_version`` from sign-in; signing out, a password change
and disabling the account raise the version, so every older session (a copied cookie too) is
refused from its next request. Failed sign-ins are rate-limited per login and per address
(app.web.security).
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from app import settings_of
from app.accounts.roles import Account, access_of, account_of
from app.accounts.web_users import authenticate, end_sessions, signed_in
from app.extensions import login_manager
from app.i18n import N_
from app.models.web import WebUser
from app.web.security import LAUNCHED_SESSION, limiter

logger = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, template_folder="templates")
SESSION_VERSION = "profroute_session_version"
LANGUAGE_KEY = "lang"  # the language chosen before signing in (app.web.lang)
# Flash categories whose text base.html writes when it shows them, in the reader's language
# then (one chosen right after signing in included): the message is only the name.
SIGNED_IN, SIGNED_OUT = "signed-in", "signed-out"


class Methodologist(UserMixin):
    """The signed-in user as the session sees it (no ORM object kept across requests)."""

    def __init__(self, account: Account) -> None:
        self.id = str(account.id)
        self.login = account.login
        self.name = account.name
        self.access = account.access  # roles and scope, read afresh on every request
        self.language = account.language  # the pages' language chosen (None: Russian)


def init_login(app: Flask) -> None:
    """Where unsigned users are sent, how a session finds its user, and the error pages."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Войдите, чтобы открыть эту страницу ProfRoute.")
    login_manager.localize_callback = _  # flashed in the reader's language
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"  # another address or browser: signed out
    app.register_error_handler(413, too_large)
    app.register_error_handler(CSRFError, csrf_refused)


@login_manager.user_loader
def load_user(user_id: str) -> Methodologist | None:
    """The session's user, if the login still exists, is active and the session is of its
    current version (not ended by a sign-out, a password change or a disable since)."""
    account = account_of(int(user_id)) if user_id.isdigit() else None  # one query, no cache
    if (account is None or not account.active
            or session.get(SESSION_VERSION) != account.session_version):
        return None
    return Methodologist(account)


def start_session(user: WebUser, *, launched: bool = False) -> None:
    """Sign ``user`` in on a fresh session holding the account's session version.

    Args:
        launched: an LTI launch signs in: over HTTPS its cookie is ``SameSite=None;
            Partitioned``, so it holds in Moodle's iframe (app.web.security).
    """
    language = session.get(LANGUAGE_KEY)  # chosen on the sign-in page: kept
    session.clear()  # nothing else from before the sign-in is carried into the session
    if language is not None:
        session[LANGUAGE_KEY] = language
    signed_in(user)
    login_user(Methodologist(Account(user.id, user.login, user.name or user.login, user.active,
                                     user.session_version, access_of(user.id),
                                     user.language)))
    session[SESSION_VERSION] = user.session_version
    if launched:
        session[LAUNCHED_SESSION] = True


def start_launched_session(user: WebUser) -> None:
    """:func:`start_session` for a person an LTI launch signs in."""
    start_session(user, launched=True)


def _login_key() -> str:
    """The rate-limit key of the login typed (hashed: any length, never stored in clear)."""
    login = request.form.get("login", "").strip().casefold()
    return "login:" + hashlib.sha256(login.encode()).hexdigest()


def _address_key() -> str:
    return "address:" + get_remote_address()


def _refused(response: Response) -> bool:
    """Only refused sign-ins count against the limits."""
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: settings_of(current_app).login_limit_account, key_func=_login_key,
               methods=["POST"], deduct_when=_refused)
@limiter.limit(lambda: settings_of(current_app).login_limit_address, key_func=_address_key,
               methods=["POST"], deduct_when=_refused)
def login() -> ResponseReturnValue:
    """The sign-in form; on success back to the page that asked for it.

    :raise 401: wrong login or password, or a disabled login (the page says so, not which).
    :raise 429: too many refused sign-ins of this login or from this address (the page says
        when to try again).
    """
    target = safe_next(request.values.get("next", ""))
    if request.method == "GET":
        return render_template("login.html", next=target, login="")
    name = request.form.get("login", "")
    user = authenticate(name, request.form.get("password", ""))
    if user is None:
        logger.warning("web sign-in refused for login %r", name)
        return render_template("login.html", next=target, login=name,
                               error=_("Неверный логин или пароль, или вход отключён.")), 401
    start_session(user)
    logger.info("web sign-in: %s", user.login)
    flash(user.name or user.login, SIGNED_IN)  # «Вы вошли как …» (base.html)
    return redirect(target or "/")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session, and every other session of the same account."""
    if current_user.is_authenticated:
        end_sessions(int(current_user.id))
    logout_user()
    session.pop(SESSION_VERSION, None)
    flash("", SIGNED_OUT)  # «Вы вышли.» (base.html)
    return redirect("/")


def too_large(err: Exception) -> ResponseReturnValue:
    """Uploads beyond MAX_CONTENT_LENGTH: say the limit in MB."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    megabytes, kilobytes = format(limit / 2**20, "g"), max(limit // 1024, 1)
    size = _("%(n)s МБ", n=megabytes) if limit >= 2**20 else _("%(n)s КБ", n=kilobytes)
    message = _("Файл слишком большой: за одну загрузку можно передать не больше %(size)s. "
                "Разделите файл на части.", size=size)
    if request.path.startswith("/api/"):
        return jsonify({"code": 413, "status": "Payload Too Large", "message": message}), 413
    return render_template("error.html", title=_("Файл слишком большой"), message=message), 413


def csrf_refused(err: CSRFError) -> ResponseReturnValue:
    """A form sent without its CSRF token (or with a stale one) changes nothing."""
    logger.warning("CSRF refusal on %s: %s", request.path, err.description)
    message = _("Форма отправлена без действующего ключа защиты (CSRF): ничего не изменено. "
                "Обновите страницу и отправьте форму снова.")
    return render_template("error.html", title=_("Форма не принята"), message=message), 400


def safe_next(target: str) -> str:
    """Only a path on this site (never another host) is a place to go back to."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return ""
    return target
