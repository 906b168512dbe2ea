"""What every ``profroute`` command shares: the app context, the schema, JSON output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext

from app import settings_of
from app.common.audit import acting_as, cli_actor
from app.common.runs import Summary, logged_run
from app.extensions import prepare_schema
from app.models import Diagnostic
from app.settings import SettingsError
from app.sync.pull import configured_diagnostic

S = TypeVar("S", bound=Summary)


def echo_json(data: object) -> None:
    """Print data as indented JSON (Cyrillic as is)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def logged_stage(name: str, work: Callable[[], S]) -> S:
    """Run a stage's service as one run of the run log, then print its summary as JSON."""
    with logged_run(name) as run:
        result = work()
        run.summary = result.as_dict()
    echo_json(result.as_dict())
    return result


def stage(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command with the app (its first argument) in context and the schema up to date.

    Errors are not handled here: the ``profroute`` group renders every domain error in one
    line (``app.errors``). What the command does is audited as ``cli:<os user>``.
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        prepare_schema()
        with acting_as(cli_actor()):
            return func(current_app._get_current_object(), *args, **kwargs)  # type: ignore[attr-defined]
    return with_appcontext(wrapper)


def named_diagnostic(app: Any) -> Diagnostic:
    """The diagnostic the settings name (quiz id, else the latest of their kind).

    :raise SettingsError: no such diagnostic was synced yet.
    """
    settings = settings_of(app)
    diagnostic = configured_diagnostic(settings)
    if diagnostic is None:
        raise SettingsError(f"no {settings.diagnostic_kind} diagnostic synced yet: run "
                            "`profroute sync` first")
    return diagnostic
