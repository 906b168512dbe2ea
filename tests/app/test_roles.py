"""Roles and scopes from the command line, and the upgrade that keeps existing logins working."""

from __future__ import annotations

import datetime as dt
import json

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import column, func, select, table
from support import PASSWORD, AppRunner

from app import MIGRATIONS
from app.accounts.roles import REGION, Scope, access_of
from app.extensions import db
from app.models import Municipality, WebUser


def add(runner: AppRunner, login: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(["web-user", "add", login, *options, "--password-stdin"],
                           input=PASSWORD + "\n")
    return result.exit_code, result.output


def users() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(WebUser.id))) or 0


def listed(runner: AppRunner) -> dict[str, list[dict[str, object]]]:
    result = runner.invoke(["web-user", "list"])
    assert result.exit_code == 0, result.output
    return {u["login"]: u["roles"] for u in json.loads(result.output)}


def municipalities(*names: str) -> dict[str, int]:
    rows = [Municipality(name=name) for name in names]
    db.session.add_all(rows)
    db.session.commit()
    return {row.name: row.id for row in rows}


def test_a_login_is_created_with_its_roles_or_not_at_all(runner: AppRunner) -> None:
    ids = municipalities("Альфа", "Бета")
    refusals = [
        ((), "Missing option '--role'"),
        (("--role", "methodologist"), "a methodologist needs a scope"),
        (("--role", "methodologist", "--municipality", "Гамма"),
         "no municipality named 'Гамма'; known: Альфа, Бета"),
        (("--role", "teacher"), "a teacher needs --teacher-moodle-id"),
        (("--role", "admin", "--region"), "--region and --municipality need --role methodologist"),
        (("--role", "admin", "--teacher-moodle-id", "5"), "--teacher-moodle-id needs --role teacher"),
        (("--role", "director"), "'director' is not one of"),
    ]
    for options, message in refusals:
        code, output = add(runner, "petrova", *options)
        assert code == 2 and message in output, (options, output)
    assert users() == 0

    assert add(runner, "petrova", "--role", "methodologist", "--municipality", "Альфа",
               "--municipality", "Бета")[0] == 0
    assert add(runner, "boss", "--role", "admin", "--role", "methodologist", "--region")[0] == 0
    assert add(runner, "anna", "--role", "teacher", "--teacher-moodle-id", "7")[0] == 0
    assert listed(runner) == {
        "petrova": [{"role": "methodologist", "region": False,
                     "municipalities": ["Альфа", "Бета"]}],
        "boss": [{"role": "admin"},
                 {"role": "methodologist", "region": True, "municipalities": []}],
        "anna": [{"role": "teacher", "teacher_moodle_id": 7}]}
    login_id = db.session.scalars(select(WebUser.id).filter_by(login="petrova")).one()
    assert access_of(login_id).scope == Scope(municipality_ids=frozenset(ids.values()))


def test_grant_and_revoke_widen_and_narrow_a_scope(runner: AppRunner) -> None:
    ids = municipalities("Альфа", "Бета")
    assert add(runner, "petrova", "--role", "methodologist", "--municipality", "Альфа")[0] == 0
    user = db.session.scalars(select(WebUser.id).filter_by(login="petrova")).one()

    def invoke(command: str, *options: str) -> tuple[int, str]:
        result = runner.invoke(["web-user", command, "petrova", *options])
        db.session.expire_all()
        return result.exit_code, result.output

    assert invoke("grant", "--role", "methodologist", "--municipality", "Бета")[0] == 0
    assert access_of(user).scope.municipality_ids == {ids["Альфа"], ids["Бета"]}
    assert invoke("revoke", "--role", "methodologist", "--municipality", "Альфа")[0] == 0
    assert access_of(user).scope.municipality_ids == {ids["Бета"]}
    code, output = invoke("revoke", "--role", "methodologist", "--municipality", "Бета")
    assert code == 2 and "would be a methodologist with no scope" in output
    assert access_of(user).scope.municipality_ids == {ids["Бета"]}  # nothing changed
    assert invoke("grant", "--role", "teacher", "--teacher-moodle-id", "12")[0] == 0
    assert access_of(user).scope.teacher_moodle_id == 12
    code, output = invoke("revoke", "--role", "admin")
    assert code == 2 and "does not hold the role 'admin'" in output
    assert invoke("revoke", "--role", "methodologist")[0] == 0
    assert access_of(user).roles == {"teacher"}
    assert access_of(user).scope == Scope(teacher_moodle_id=12)


def test_upgrade_makes_every_existing_login_an_admin_and_a_region_methodologist(
        app: Flask) -> None:
    downgrade(directory=MIGRATIONS, revision="0011")
    old_users = table("web_user", *(column(name) for name in (  # the table as of 0011
        "login", "name", "password_hash", "active", "created_at")))
    db.session.execute(old_users.insert(), [
        {"login": login, "name": login, "password_hash": "x", "active": True,
         "created_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)} for login in ("ivanova", "petrov")])
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    for user in db.session.scalars(select(WebUser)):
        access = access_of(user.id)
        assert access.roles == {"admin", "methodologist"} and access.scope == REGION
