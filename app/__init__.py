"""ProfRoute's Flask application factory."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from app.extensions import MIGRATIONS, db, migrate
from app.settings import Settings


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None,
               *, require_secret_key: bool = True) -> Flask:
    """Build the app from settings (environment by default) and bind its extensions.

    The app serves requests only with ``PROFROUTE_SECRET_KEY`` set, so that every worker signs
    and reads the same sessions and forms. Without it a key of this process alone is made: for
    the tests (``TESTING`` in ``test_config``), the demo and the commands that serve no page
    (they pass ``require_secret_key=False``).

    :raise SettingsError: no secret key, where one is required.
    """
    settings = settings or Settings.load()
    if require_secret_key and not (test_config or {}).get("TESTING"):
        settings.require_secret_key()
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_absolute_sqlite(settings.database_url),
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        PROFROUTE_SETTINGS=settings,
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    from app.common.transactions import init_app as init_transactions

    init_transactions(app)  # after db: its teardown runs before the session is removed
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    # Imported here, not at the top: the web blueprints take ``settings_of`` from this
    # package, so they can only load once this module has run to its end.
    from app import models  # noqa: F401  (register the tables with the metadata)
    from app.web import init_app as init_web
    from app.web.inputs import init_app as init_inputs

    init_inputs(app)  # before the blueprints: their ``<int:…>`` rules take its converter
    init_web(app)
    from app.web.security import init_security

    init_security(app)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return app


def settings_of(app: Flask) -> Settings:
    """The Settings the app was built with."""
    settings: Settings = app.config["PROFROUTE_SETTINGS"]
    return settings


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite path is relative to the working directory; its folder is created."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return url
    path = Path(url[len(prefix):]).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return prefix + str(path)
