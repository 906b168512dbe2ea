"""Web UI (Russian first) and the JSON API."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints."""
    from app.web.api import bp as api_bp
    from app.web.views import bp as views_bp
    from app.web.xapi import bp as xapi_bp

    app.register_blueprint(views_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(xapi_bp, url_prefix="/xapi")
