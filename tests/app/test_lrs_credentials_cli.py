"""`profroute lrs-credentials`: the secret is printed once, stored hashed, never listed."""

from __future__ import annotations

import json
import re

from support import AppRunner
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import LrsCredential


def test_add_prints_the_secret_once_and_stores_only_its_hash(runner: AppRunner) -> None:
    result = runner.invoke(["lrs-credentials", "add", "--site",
                            "https://moodle.example.org/", "--name", "Region"])
    assert result.exit_code == 0, result.output
    key = re.search(r"^key:\s+(\S+)$", result.output, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)$", result.output, re.M).group(1)
    row = db.session.query(LrsCredential).filter_by(key=key).one()
    assert row.site_url == "https://moodle.example.org" and row.name == "Region" and row.active
    assert secret not in row.secret_hash and check_password_hash(row.secret_hash, secret)

    listed = runner.invoke(["lrs-credentials", "list"])
    assert listed.exit_code == 0
    assert secret not in listed.output and row.secret_hash not in listed.output
    [entry] = json.loads(listed.output)
    assert entry["key"] == key and entry["site"] == "https://moodle.example.org"


def test_add_refuses_a_site_that_is_not_a_url_and_deactivate_an_unknown_key(
        runner: AppRunner) -> None:
    bad = runner.invoke(["lrs-credentials", "add", "--site", "moodle"])
    assert bad.exit_code == 2 and "wwwroot" in bad.output
    unknown = runner.invoke(["lrs-credentials", "deactivate", "nokey"])
    assert unknown.exit_code == 2 and "nokey" in unknown.output


def test_deactivate_turns_a_credential_off(runner: AppRunner) -> None:
    added = runner.invoke(["lrs-credentials", "add", "--site", "http://m.test"])
    key = re.search(r"^key:\s+(\S+)$", added.output, re.M).group(1)
    result = runner.invoke(["lrs-credentials", "deactivate", key])
    assert result.exit_code == 0
    assert json.loads(runner.invoke(["lrs-credentials", "list"]).output)[0]["active"] is False
