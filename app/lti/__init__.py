"""LTI 1.3 tool: Moodle (the platform) signs people in to ProfRoute, no second password.

Owns the tool key, the platform registrations, the launched accounts and the values of a
launch in progress (models in ``app.models.lti``); the endpoints ``/lti/login``,
``/lti/launch``, ``/lti/jwks`` (blueprint ``lti``, public) and the admin page ``/lti``
(blueprint ``lti_admin``); the CLI group ``profroute lti``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app.extensions import csrf
from app.lti.roles import parse_role_map
from app.lti.views import admin_bp, bp, settings
from app.models.web import WebUser


def init_app(app: Flask, sign_in: Callable[[WebUser], object]) -> None:
    """Register the blueprints; Moodle's form posts carry no CSRF token of ours.

    Args:
        sign_in: signs a login in to the web UI's session as its sign-in form does, the
            session marked as launched so that its cookie holds in Moodle's iframe over HTTPS
            (given by ``app.web``, which this package sits below).

    :raise SettingsError: the role map setting is malformed.
    """
    app.extensions["profroute_lti_roles"] = parse_role_map(settings(app).lti_role_map)
    app.extensions["profroute_lti_sign_in"] = sign_in
    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/lti")
    app.register_blueprint(admin_bp)
