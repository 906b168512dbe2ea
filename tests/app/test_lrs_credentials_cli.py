"""`profroute lrs-credentials`: the secret is printed once, stored hashed, never listed."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from flask import Flask
from werkzeug.security import check_password_hash

from app.cli import main
from app.extensions import db
from app.models import LrsCredential


def test_add_prints_the_secret_once_and_stores_only_its_hash(app: Flask) -> None:
    result = CliRunner().invoke(main, ["lrs-credentials", "add", "--site",
                                       "https://moodle.example.org/", "--name", "Region"],
                                obj=app)
    assert result.exit_code == 0, result.output
    key = re.search(r"^key:\s+(\S+)$", result.output, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)$", result.output, re.M).group(1)
    row = db.session.query(LrsCredential).filter_by(key=key).one()
    assert row.site_url == "https://moodle.example.org" and row.name == "Region" and row.active
    assert secret not in row.secret_hash and check_password_hash(row.secret_hash, secret)

    listed = CliRunner().invoke(main, ["lrs-credentials", "list"], obj=app)
    assert listed.exit_code == 0
    assert secret not in listed.output and row.secret_hash not in listed.output
    [entry] = json.loads(listed.output)
    assert entry["key"] == key and entry["site"] == "https://moodle.example.org"


def test_add_refuses_a_site_that_is_not_a_url_and_deactivate_an_unknown_key(app: Flask) -> None:
    bad = CliRunner().invoke(main, ["lrs-credentials", "add", "--site", "moodle"], obj=app)
    assert bad.exit_code == 2 and "wwwroot" in bad.output
    unknown = CliRunner().invoke(main, ["lrs-credentials", "deactivate", "nokey"], obj=app)
    assert unknown.exit_code == 2 and "nokey" in unknown.output


def test_deactivate_turns_a_credential_off(app: Flask) -> None:
    added = CliRunner().invoke(main, ["lrs-credentials", "add", "--site", "http://m.test"],
                               obj=app)
    key = re.search(r"^key:\s+(\S+)$", added.output, re.M).group(1)
    result = CliRunner().invoke(main, ["lrs-credentials", "deactivate", key], obj=app)
    assert result.exit_code == 0
    assert json.loads(CliRunner().invoke(main, ["lrs-credentials", "list"], obj=app).output
                      )[0]["active"] is False
