"""``profroute lti``: the Moodle platforms that may sign people in to ProfRoute (LTI 1.3)."""

from __future__ import annotations

import click
from flask import Flask

from app import settings_of
from app.cli.base import stage
from app.lti.platforms import add_platform, list_platforms

PATHS = {"Tool URL": "/lti/launch", "Initiate login URL": "/lti/login",
         "Redirection URI(s)": "/lti/launch", "Public keyset URL": "/lti/jwks"}


@click.group("lti")
def lti() -> None:
    """LTI 1.3 sign-in from Moodle: the tool's URLs and the registered platforms."""


@lti.command("add-platform")
@click.option("--issuer", required=True, help="Moodle's Platform ID (its site URL).")
@click.option("--client-id", required=True, help="The Client ID Moodle gave the tool.")
@click.option("--deployment-id", "deployment_ids", required=True, multiple=True,
              help="A Deployment ID Moodle gave the tool (repeat for several).")
@click.option("--name", default="", help="A name to show (default: the issuer's host).")
@click.option("--auth-login-url", default="", help="Default: <issuer>/mod/lti/auth.php.")
@click.option("--token-url", default="", help="Default: <issuer>/mod/lti/token.php.")
@click.option("--keyset-url", default="", help="Default: <issuer>/mod/lti/certs.php.")
@stage
def lti_add_platform(app: Flask, *, issuer: str, client_id: str, deployment_ids: tuple[str, ...],
                     name: str, auth_login_url: str, token_url: str, keyset_url: str
                     ) -> None:
    """Register a Moodle site as a platform that may launch ProfRoute."""
    platform = add_platform(issuer=issuer, client_id=client_id,
                            deployment_ids=" ".join(deployment_ids), name=name,
                            auth_login_url=auth_login_url, auth_token_url=token_url,
                            key_set_url=keyset_url)
    click.echo(f"registered platform {platform.issuer} (client id {platform.client_id}, "
               f"deployments {', '.join(d.deployment_id for d in platform.deployments)})")


@lti.command("show")
@stage
def lti_show(app: Flask) -> None:
    """The URLs to give Moodle, and the registered platforms."""
    base = settings_of(app).lti_tool_url.rstrip("/")
    if not base:
        click.echo("PROFROUTE_LTI_TOOL_URL is not set: the paths below go after ProfRoute's "
                   "public address (https://...)")
    for field, path in PATHS.items():
        click.echo(f"{field}: {base}{path}")
    for platform in list_platforms():
        deployments = ", ".join(d.deployment_id for d in platform.deployments)
        click.echo(f"platform {platform.issuer}: client id {platform.client_id}, "
                   f"deployments {deployments}, keyset {platform.key_set_url}")
