"""Web UI (Russian first) and the JSON API."""

from flask import Flask

from app import errors
from app.extensions import csrf, login_manager
from app.lti import init_app as init_lti
from app.lti.views import admin_bp as lti_admin_bp
from app.lti.views import bp as lti_bp
from app.web import access, lang, openapi
from app.web.admin_accounts import bp as admin_accounts_bp
from app.web.admin_schedules import bp as admin_schedules_bp
from app.web.admin_settings import bp as admin_settings_bp
from app.web.analytics_views import bp as analytics_bp
from app.web.api import bp as api_bp
from app.web.audit_views import bp as audit_bp
from app.web.auth import bp as auth_bp
from app.web.auth import init_login, start_launched_session
from app.web.availability_views import bp as availability_bp
from app.web.capacity_views import bp as capacity_bp
from app.web.catalogue_views import bp as catalogue_bp
from app.web.charts import bp as charts_bp
from app.web.dynamics import bp as dynamics_bp
from app.web.health import bp as health_bp
from app.web.imports import bp as imports_bp
from app.web.network_views import bp as network_bp
from app.web.policy_views import api_bp as policy_api_bp
from app.web.policy_views import bp as policy_bp
from app.web.push_views import bp as push_bp
from app.web.report_views import bp as report_bp
from app.web.review_views import bp as review_bp
from app.web.views import bp as views_bp
from app.web.xapi import bp as xapi_bp

UPLOAD_LIMIT_MB = 20


def init_app(app: Flask) -> None:
    """Register the blueprints, the sign-in, the access rule of every view and CSRF
    protection of forms.

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
    access.init_app(app)
    lang.init_app(app)
    app.register_blueprint(views_bp)
    app.register_blueprint(dynamics_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(capacity_bp)
    app.register_blueprint(network_bp)
    app.register_blueprint(charts_bp)  # /static/vendor/plotly.min.js and the charts' globals
    app.register_blueprint(report_bp)
    access.blueprint_rule(auth_bp, access.PUBLIC)  # signing in and out needs no sign-in
    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(availability_bp)
    app.register_blueprint(push_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(admin_accounts_bp)
    app.register_blueprint(admin_settings_bp)
    app.register_blueprint(admin_schedules_bp)
    # The JSON API (flask-smorest: /api/openapi.json documents it; /api-docs shows it)
    openapi.init_app(app, [(api_bp, "/api"), (policy_api_bp, "/api")])
    app.register_blueprint(xapi_bp, url_prefix="/xapi")
    # /lti/login, /lti/launch, /lti/jwks (public) and /lti (admin); a launch signs in as /login does
    access.blueprint_rule(lti_bp, access.PUBLIC)  # the platform's signed launch is the check
    access.blueprint_rule(lti_admin_bp, access.Rule(roles=frozenset({"admin"})))
    init_lti(app, sign_in=start_launched_session)
