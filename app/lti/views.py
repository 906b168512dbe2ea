"""The LTI endpoints Moodle calls (blueprint ``lti``: public, no CSRF token, no sign-in) and
the page where an administrator reads the tool's URLs and registers platforms (blueprint
``lti_admin``: admin only)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException

from app.extensions import db
from app.lti.accounts import account_for_launch, landing_page
from app.lti.exceptions import LaunchRefused, PlatformError, UnknownMoodleUser
from app.lti.keys import jwks as tool_jwks
from app.lti.messages import refusal_ru, unknown_user_ru
from app.lti.platforms import add_platform, frame_origins, list_platforms
from app.lti.tool import (
    DatabaseStorage,
    DatabaseToolConf,
    Launch,
    PartitionedCookies,
    SingleUseNonces,
    forget_expired,
    http_session,
    platform_of,
)
from app.models.web import WebUser
from app.settings import Settings

logger = logging.getLogger(__name__)
bp = Blueprint("lti", __name__)  # templates: app/web/templates (lti_admin.html, error.html)
admin_bp = Blueprint("lti_admin", __name__)  # admins only: its rule is set in app.web
REFUSED_TITLE = "Вход из Moodle не выполнен"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """OIDC login initiation: Moodle names itself (iss, client_id); we answer with a redirect
    to its auth URL carrying a fresh state (cookie) and nonce (kept server-side).

    :raise 400: unknown platform or a request without iss / login_hint.
    """
    flask_request = FlaskRequest()
    oidc = FlaskOIDCLogin(flask_request, DatabaseToolConf(),
                          session_service=SingleUseNonces(flask_request),
                          cookie_service=PartitionedCookies(flask_request),
                          launch_data_storage=DatabaseStorage())
    forget_expired()
    try:
        answer = oidc.redirect(_urls()["redirect_url"])
    except (OIDCException, LtiException) as err:
        return _refused(err)
    db.session.commit()  # the nonce (and the browser's launch session id) are kept
    return answer


@bp.post("/launch")
def launch() -> ResponseReturnValue:
    """The id_token Moodle posts back: checked, then the person is signed in and sent on.

    :raise 400: a check failed (state, signature, iss, aud, exp, nonce, deployment...).
    :raise 403: the Moodle user is no ProfRoute teacher and holds no staff role.
    """
    flask_request = FlaskRequest()
    try:
        message = Launch(flask_request, DatabaseToolConf(),
                         session_service=SingleUseNonces(flask_request),
                         cookie_service=PartitionedCookies(flask_request),
                         launch_data_storage=DatabaseStorage(), requests_session=http_session())
        message.validate()
        if not message.is_resource_launch():
            raise LaunchRefused("only resource-link launches are supported (turn off "
                                "'Supports Deep Linking' in Moodle's tool settings)")
        platform = platform_of(message)
        account = account_for_launch(platform, message.claims(),
                                     current_app.extensions["profroute_lti_roles"])
    except UnknownMoodleUser as err:
        logger.warning("LTI launch refused: %s", err)
        return render_template("error.html", title="Вы не найдены в ProfRoute",
                               message=unknown_user_ru(err)), 403
    except (LtiException, LaunchRefused) as err:
        return _refused(err)
    user = db.session.get(WebUser, account.web_user_id)
    assert user is not None
    current_app.extensions["profroute_lti_sign_in"](user)
    logger.info("LTI sign-in: %s as %s from %s", user.login, account.role, platform.issuer)
    return redirect(landing_page(account))


@bp.get("/jwks")
def jwks() -> ResponseReturnValue:
    """The tool's public keys (JSON Web Key Set) for Moodle's "Public keyset" URL."""
    return jsonify(tool_jwks())


@admin_bp.get("/lti")
def admin_page() -> str:
    """The URLs to paste into Moodle, the registered platforms and the form to add one."""
    return render_template("lti_admin.html", urls=_urls(), platforms=list_platforms(),
                           origins=frame_origins(), form={})


@admin_bp.post("/lti/platforms")
def register_platform() -> ResponseReturnValue:
    """Register a platform from the form.

    :raise 400: a field is missing or malformed, or the platform is already registered.
    """
    fields = ("name", "issuer", "client_id", "deployment_ids", "auth_login_url",
              "auth_token_url", "key_set_url")
    form = {field: request.form.get(field, "") for field in fields}
    try:
        platform = add_platform(**form)
    except PlatformError as err:
        return render_template("lti_admin.html", urls=_urls(), platforms=list_platforms(),
                               origins=frame_origins(), form=form,
                               error=_("Платформа не зарегистрирована: %(error)s",
                                         error=err)), 400
    flash(_("Платформа %(issuer)s зарегистрирована.", issuer=platform.issuer), "saved")
    return redirect(url_for("lti_admin.admin_page"))


def _urls() -> dict[str, str]:
    """The tool's URLs as Moodle must be given them (setting PROFROUTE_LTI_TOOL_URL first)."""
    base = (settings(current_app).lti_tool_url or request.url_root).rstrip("/")
    launch_url = base + url_for("lti.launch")
    return {"tool_url": launch_url, "login_url": base + url_for("lti.login"),
            "redirect_url": launch_url, "jwks_url": base + url_for("lti.jwks")}


def settings(app: Flask) -> Settings:
    """The Settings the app was built with (as ``app.settings_of``, which sits above us)."""
    built: Settings = app.config["PROFROUTE_SETTINGS"]
    return built


def _refused(err: Exception) -> ResponseReturnValue:
    logger.warning("LTI request refused on %s: %s", request.path, err)
    return render_template("error.html", title=REFUSED_TITLE, message=refusal_ru(err)), 400
