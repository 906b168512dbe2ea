"""xAPI commands: pull Moodle's statements, emit the route lifecycle, the endpoint's site
credentials."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app import settings_of
from app.cli.base import echo_json, logged_stage, stage
from app.xapi.credentials import create_credential, list_credentials, set_credential_active
from app.xapi.sync import emit, lrs_client, pull_from_lrs, pull_received


@click.command("xapi-pull")
@click.option("--source", type=click.Choice(["lrs", "received"]), default="lrs",
              show_default=True,
              help="The configured LRS, or the statements Moodle sent to ProfRoute itself.")
@click.option("--verb", default=None, help="Only statements with this verb IRI (LRS source).")
@click.option("--activity", default=None, help="Only statements about this activity IRI.")
@stage
def xapi_pull_cmd(app: Flask, source: str, verb: str | None, activity: str | None) -> None:
    """Pull Moodle's xAPI statements since the cursor into domain events."""
    settings = settings_of(app)
    logged_stage("xapi-pull", lambda: (
        pull_received(settings) if source == "received"
        else pull_from_lrs(lrs_client(settings), settings, verb=verb, activity=activity)))


@click.command("xapi-emit")
@stage
def xapi_emit_cmd(app: Flask) -> None:
    """Send the route lifecycle as xAPI statements to the LRS (deterministic ids, outbox)."""
    settings = settings_of(app)
    result = logged_stage("xapi-emit", lambda: emit(lrs_client(settings), settings))
    if result.rejected:
        sys.exit(1)


@click.group("lrs-credentials")
def lrs_credentials() -> None:
    """Credentials the Moodle xAPI log store uses to send statements to /xapi/."""


@lrs_credentials.command("add")
@click.option("--site", required=True, help="The Moodle site's wwwroot (https://…).")
@click.option("--name", default="", help="A name to tell the credential by.")
@stage
def lrs_credentials_add(app: Flask, site: str, name: str) -> None:
    """Create a credential; its secret is printed now and never again."""
    credential, secret = create_credential(site, name)
    click.echo(f"site:   {credential.site_url}\nkey:    {credential.key}\nsecret: {secret}")
    click.echo("In Moodle's Logstore xAPI settings: endpoint https://<profroute>/xapi/, "
               "username = key, password = secret. The secret is not shown again.")


@lrs_credentials.command("list")
@stage
def lrs_credentials_list(app: Flask) -> None:
    """List the credentials (never their secrets)."""
    echo_json([{"key": c.key, "site": c.site_url, "name": c.name, "active": c.active,
                 "created": c.created_at.isoformat()} for c in list_credentials()])


@lrs_credentials.command("deactivate")
@click.argument("key")
@stage
def lrs_credentials_deactivate(app: Flask, key: str) -> None:
    """Refuse statements sent with this key from now on."""
    set_credential_active(key, active=False)
    click.echo(f"deactivated {key}")


COMMANDS = (xapi_pull_cmd, xapi_emit_cmd, lrs_credentials)
