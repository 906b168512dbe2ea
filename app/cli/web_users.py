"""``profroute web-user``: the methodologists' logins for the web UI."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.accounts.web_users import add_user, list_users, set_active, set_password
from app.cli.base import echo_json, stage


@click.group("web-user")
def web_user() -> None:
    """Methodologists' logins for the web UI (changing the policy, importing files)."""


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@web_user.command("add")
@click.argument("login")
@click.option("--name", default="", help="The person's name, shown as the author of changes.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@stage
def web_user_add(app: Flask, login: str, name: str, password_stdin: bool) -> None:
    """Create a login; the password is asked twice (never an argument, never logged)."""
    user = add_user(login, name, _read_password(password_stdin))
    click.echo(f"created web user {user.login} ({user.name})")


@web_user.command("passwd")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@stage
def web_user_passwd(app: Flask, login: str, password_stdin: bool) -> None:
    """Set a new password for LOGIN."""
    set_password(login, _read_password(password_stdin))
    click.echo(f"password changed for {login}")


@web_user.command("disable")
@click.argument("login")
@stage
def web_user_disable(app: Flask, login: str) -> None:
    """Refuse LOGIN from now on (its open sessions end at their next request)."""
    set_active(login, active=False)
    click.echo(f"disabled {login}")


@web_user.command("enable")
@click.argument("login")
@stage
def web_user_enable(app: Flask, login: str) -> None:
    """Allow a disabled LOGIN again."""
    set_active(login, active=True)
    click.echo(f"enabled {login}")


@web_user.command("list")
@stage
def web_user_list(app: Flask) -> None:
    """List the logins (never their password hashes)."""
    echo_json([{"login": u.login, "name": u.name, "active": u.active,
                 "created": u.created_at.isoformat()} for u in list_users()])
