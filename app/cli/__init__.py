"""The ``profroute`` command: a Flask CLI group whose commands call the stages' services.

Every pipeline stage is runnable alone against any Moodle (``pipeline``), beside the
commands on ProfRoute's own data (``registry``), xAPI (``xapi``), the site (``site``) and the
methodologists' logins (``web_users``). A domain error ends any command with one line on
standard error and exit code 2 (``app.errors``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command

from app import create_app
from app.cli import personal_data, pipeline, registry, review, scheduler, site, xapi
from app.cli.lti import lti
from app.cli.web_users import web_user
from app.errors import CLI_ERRORS, problem_of
from app.settings import Settings

__all__ = ["main"]


def _create_app() -> Flask:
    # Commands serve no page (``serve`` checks the secret key itself before it serves).
    return create_app(Settings.load(), require_secret_key=False)


class ProfRouteGroup(FlaskGroup):
    """FlaskGroup that builds the app from ProfRoute's settings and renders domain errors.

    ``obj`` may be a ready app (tests and scripts pass one); it is used as is.
    """

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        """Wrap a Flask app given as ``obj`` in the ScriptInfo Flask's commands expect."""
        if isinstance(extra.get("obj"), Flask):
            app = extra["obj"]
            extra["obj"] = ScriptInfo(create_app=lambda: app, set_debug_flag=False)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a domain error is one line on standard error, exit code 2."""
        try:
            return super().invoke(ctx)
        except CLI_ERRORS as err:
            click.echo(f"profroute: error: {problem_of(err).message}", err=True)
            sys.exit(2)


@click.group(cls=ProfRouteGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, set_debug_flag=False)
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO).")
def main(verbose: bool) -> None:
    """ProfRoute: teachers' deficits from Moodle to individual PD routes."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


for _command in (*pipeline.COMMANDS, *registry.COMMANDS, *xapi.COMMANDS, *site.COMMANDS,
                 *personal_data.COMMANDS, *scheduler.COMMANDS, *review.COMMANDS,
                 web_user, lti, shell_command, routes_command):
    if _command.name in main.commands:  # a second command of one name would hide the first
        raise RuntimeError(f"two CLI commands are named {_command.name!r}")
    main.add_command(_command)
