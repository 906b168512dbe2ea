"""Web UI (Russian first) and the JSON API."""

from flask import Flask

from app import errors
from app.extensions import csrf, login_manager
from app.lti import init_app as init_lti
from app.web.analytics_views import bp as analytics_bp
from app.web.api import bp as api_bp
from app.web.audit_views import bp as audit_bp
from app.web.auth import bp as auth_bp
from app.web.auth import init_login, start_session
from app.web.dynamics import bp as dynamics_bp
from app.web.imports import bp as imports_bp
from app.web.policy_views import bp as policy_bp
from app.web.push_views import bp as push_bp
from app.web.views import bp as views_bp
from app.web.xapi import bp as xapi_bp

UPLOAD_LIMIT_MB = 20


def init_app(app: Flask) -> None:
    """Register the blueprints, the methodologists' login and CSRF protection of forms.

    Every form POST needs its CSRF token; the xAPI endpoint is exempt (Moodle sends with
    HTTP basic credentials, never a browser session). Requests are limited to
    ``MAX_CONTENT_LENGTH`` (20 MB unless configured).
    """
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = UPLOAD_LIMIT_MB * 1024 * 1024
    errors.init_app(app)
    csrf.init_app(app)
    csrf.exempt(xapi_bp)
    login_manager.init_app(app)
    init_login(app)
    app.register_blueprint(views_bp)
    app.register_blueprint(dynamics_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(push_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(xapi_bp, url_prefix="/xapi")
    # /lti/login, /lti/launch, /lti/jwks (public) and /lti (admin); a launch signs in as /login does
    init_lti(app, sign_in=start_session)
