"""What every ``profroute`` command shares: the app context, the schema, one-line errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from app import create_app
from app.extensions import prepare_schema
from app.settings import Settings, SettingsError
from lms_connectors.exceptions import ConnectorError
from xapi.exceptions import XAPIError


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def stage(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command inside an app context with the schema up to date; errors in one line."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            app = ctx.obj if isinstance(ctx.obj, Flask) else create_app(Settings.load())
            with app.app_context():
                prepare_schema()
                return func(app, *args, **kwargs)
        except (ConnectorError, XAPIError, SettingsError, ValueError) as err:
            click.echo(f"profroute: error: {err}", err=True)
            sys.exit(2)
    return wrapper
