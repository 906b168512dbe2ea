"""Fixtures of the xAPI tests: the log store golden files and a real LRS (Ralph) over HTTP."""

from __future__ import annotations

import copy
import json
import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from tools.lrs import LRSStartError, running_lrs

from xapi.client import LRSClient, LRSSettings

ROOT = Path(__file__).resolve().parents[2]


def statements_dir() -> Path:
    """The log store's expected statements (../shared beside the repository, or the env)."""
    return Path(os.environ.get("PROFROUTE_XAPI_STATEMENTS_DIR",
                               ROOT.parent / "shared" / "xapi" / "logstore_xapi_statements"))


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` deep-merged onto ``base`` (the plugin's tests merge common.* under each case)."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = copy.deepcopy(base)
        for key, value in over.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(over)


def load_case(case: str) -> tuple[dict, list[dict], dict]:
    """(event, merged statements, data) of one case of the golden folder."""
    folder = statements_dir()
    common = {kind: json.loads((folder / f"common.{kind}.json").read_text())
              for kind in ("event", "statement", "data")}
    event = deep_merge(common["event"], json.loads((folder / f"{case}.event.json").read_text()))
    data = deep_merge(common["data"], json.loads((folder / f"{case}.data.json").read_text()))
    raw = json.loads((folder / f"{case}.statements.json").read_text())
    return event, [deep_merge(common["statement"], item) for item in raw], data


def case_names() -> list[str]:
    """Every case of the golden folder."""
    return sorted(p.name[:-len(".statements.json")]
                  for p in statements_dir().glob("*.statements.json"))


@pytest.fixture(name="load_case")
def load_case_fixture() -> Callable[[str], tuple[dict, list[dict], dict]]:
    """``load_case(case)`` -> (event, merged statements, data) of a golden case."""
    return load_case


@pytest.fixture(name="case_names")
def case_names_fixture() -> list[str]:
    """Every case found in the golden folder."""
    return case_names()


@dataclass
class LiveLRS:
    """A running Ralph: its URL, credentials and a site URL of this test's own."""

    url: str
    username: str
    password: str
    site: str

    def settings(self, **overrides: Any) -> LRSSettings:
        values = {"endpoint": self.url, "username": self.username,
                  "password": self.password, "timeout": 10.0, "backoff": 0.0, **overrides}
        return LRSSettings(**values)


@pytest.fixture(scope="session")
def lrs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """Ralph on 127.0.0.1 for the whole session: (xAPI URL, username, password).

    Under CI=true an LRS that cannot start fails the tests; elsewhere they are skipped.
    """
    username, password = "profroute", "pw-" + secrets.token_urlsafe(12)
    try:
        with running_lrs(tmp_path_factory.mktemp("lrs"), username=username,
                         password=password) as url:
            yield url, username, password
    except LRSStartError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the LRS (Ralph) did not start; under CI it never skips: {err}")
        pytest.skip(f"the LRS (Ralph) did not start: {err}")


@pytest.fixture
def lrs(lrs_server: tuple[str, str, str]) -> LiveLRS:
    """The session's LRS with a Moodle site URL unique to this test (statements don't mix)."""
    url, username, password = lrs_server
    return LiveLRS(url, username, password, f"http://moodle-{uuid.uuid4().hex[:8]}.test")


@pytest.fixture
def client(lrs: LiveLRS) -> Iterator[LRSClient]:
    """A client of the live LRS, its session closed after the test."""
    with requests.Session() as session:
        yield LRSClient(lrs.settings(), session)
