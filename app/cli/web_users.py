"""``profroute web-user``: the web UI's logins, their roles and scopes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from app.accounts.roles import ROLES, describe, plan_grants
from app.accounts.roles import grant as grant_role
from app.accounts.roles import revoke as revoke_role
from app.accounts.web_users import create_account, list_users, set_active, set_password
from app.cli.base import echo_json, stage
from app.models import WebUser

_ROLE = click.Choice(ROLES)


@click.group("web-user")
def web_user() -> None:
    """Logins for the web UI and their roles: admin, methodologist (of the whole region or of
    municipalities), teacher (of one Moodle user)."""


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _scope_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--municipality (repeatable) and --region: a methodologist's scope."""
    func = click.option("--region", is_flag=True,
                        help="Methodologist of the whole region.")(func)
    return click.option("--municipality", "municipalities", multiple=True, metavar="NAME",
                        help="A municipality in the methodologist's scope (repeatable).")(func)


@web_user.command("add")
@click.argument("login")
@click.option("--name", default="", help="The person's name, shown as the author of changes.")
@click.option("--role", "roles", type=_ROLE, multiple=True, required=True,
              help="admin, methodologist or teacher (repeat for several roles).")
@_scope_options
@click.option("--teacher-moodle-id", type=int, default=None,
              help="The Moodle user id of the teacher (role teacher).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@stage
def web_user_add(app: Flask, *, login: str, name: str, roles: tuple[str, ...],
                 municipalities: tuple[str, ...], region: bool, teacher_moodle_id: int | None,
                 password_stdin: bool) -> None:
    """Create a login with its roles; the password is asked twice (never an argument, never
    logged). Example: ``web-user add petrova --role methodologist --municipality Казань``."""
    plan_grants(roles, municipalities, region, teacher_moodle_id)  # before the password prompt
    user = create_account(login, name, _read_password(password_stdin), list(roles),
                          municipalities=municipalities, region=region,
                          teacher_moodle_id=teacher_moodle_id)
    click.echo(f"created web user {user.login} ({user.name}): "
               f"{', '.join(dict.fromkeys(roles))}")


@web_user.command("grant")
@click.argument("login")
@click.option("--role", type=_ROLE, required=True, help="The role to give or widen.")
@_scope_options
@click.option("--teacher-moodle-id", type=int, default=None,
              help="The Moodle user id of the teacher (role teacher).")
@stage
def web_user_grant(app: Flask, *, login: str, role: str, municipalities: tuple[str, ...],
                   region: bool, teacher_moodle_id: int | None) -> None:
    """Give LOGIN a role, or add municipalities (or the region) to a methodologist's scope."""
    grant_role(login, role, municipalities=municipalities, region=region,
               teacher_moodle_id=teacher_moodle_id)
    user = _listed(login)
    echo_json(user)


@web_user.command("revoke")
@click.argument("login")
@click.option("--role", type=_ROLE, required=True, help="The role to take away or narrow.")
@_scope_options
@stage
def web_user_revoke(app: Flask, *, login: str, role: str, municipalities: tuple[str, ...],
                    region: bool) -> None:
    """Take a role from LOGIN; with --municipality or --region only that part of a
    methodologist's scope. Open sessions see the change at their next request."""
    revoke_role(login, role, municipalities=municipalities, region=region)
    echo_json(_listed(login))


def _listed(login: str) -> dict[str, Any]:
    user = next(u for u in list_users() if u.login == login.strip())
    return _row(user)


def _row(user: WebUser) -> dict[str, Any]:
    return {"login": user.login, "name": user.name, "active": user.active,
            "created": user.created_at.isoformat(), "roles": describe(user.id)}


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
    """List the logins with their roles and scopes (never their password hashes)."""
    echo_json([_row(u) for u in list_users()])
