"""Commands around the site: serve the web UI, run the demo, build the Moodle plugin."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy.engine import make_url

from app import settings_of
from app.cli.base import stage
from app.demo.run import run_demo
from lms_connectors.moodle.plugin_build import build_zip


@click.command("serve")
@click.option("--port", default=5000, show_default=True)
@stage
def serve_cmd(app: Flask, port: int) -> None:
    """Serve the web UI on 127.0.0.1 (needs PROFROUTE_SECRET_KEY; production: gunicorn)."""
    settings_of(app).require_secret_key()
    app.run(host="127.0.0.1", port=port)


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Run the job, print the summary and exit.")
@click.option("--port", default=5000, show_default=True)
def demo_cmd(no_serve: bool, port: int) -> None:
    """Run the whole job against the embedded Moodle sandbox, then serve the app."""
    app = run_demo(echo=click.echo)
    if not no_serve:
        click.echo(f"Открыть: http://127.0.0.1:{port}/")
        _echo_web_user_hint(app)
        app.run(host="127.0.0.1", port=port)


def _echo_web_user_hint(app: Flask) -> None:
    """How to create the login every page with data asks for."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    click.echo("Страницы ProfRoute открываются только после входа. Создайте учётную запись "
               "методиста всего региона и администратора в другом терминале (пароль будет "
               "запрошен дважды):\n"
               f"  PROFROUTE_DATABASE_URL='{url}' .venv/bin/profroute web-user add metodist "
               "--name \"Методист\" --role methodologist --region --role admin")


@click.group("moodle-plugin")
def moodle_plugin() -> None:
    """The Moodle-side plugin local_profroute."""


@moodle_plugin.command("build")
@click.option("--dest", default="dist", show_default=True, type=click.Path(file_okay=False))
def moodle_plugin_build(dest: str) -> None:
    """Write the installable zip of the Moodle plugin into DEST."""
    click.echo(str(build_zip(Path(dest))))


COMMANDS = (serve_cmd, demo_cmd, moodle_plugin)
