"""Shared fixtures: databases (SQLite and PostgreSQL), the app with its test client and CLI
runner (``app``, ``client``, ``runner``, ``signed_in_client``, ``make_app`` for own settings),
the Moodle sandbox process."""

from __future__ import annotations

import contextlib
import inspect
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from support import AppRunner, app_for, signed_in

from app.demo.sandbox import running_sandbox
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
PG_ENV = "PROFROUTE_TEST_DATABASE_URL"
# Shared fixtures that are cheap or made once per process anyway: they group nothing.
UNGROUPED = frozenset({"postgresql_url"})


def _shared_fixture_group(item: pytest.Item) -> str | None:
    """The xdist group of a test using one of our session- or module-scoped fixtures.

    ``make test`` runs with ``--dist loadgroup``: the tests of one such fixture (a Ralph LRS, the
    fault harness's world, a module's sandbox or synced database) go to one worker, so it is made
    once, not on every worker. A session fixture groups by its name, a module one by the module.
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    module_group = None
    for name in info.names_closure:
        for fixturedef in info.name2fixturedefs.get(name, ()):
            if name in UNGROUPED or fixturedef.scope not in ("session", "package", "module"):
                continue
            source = inspect.getsourcefile(fixturedef.func)
            if source is None or not Path(source).is_relative_to(TESTS):
                continue  # pytest's and plugins' own (tmp_path_factory...)
            if fixturedef.scope == "module":
                module_group = item.nodeid.split("::", 1)[0]
            else:
                return name
    return module_group


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = _shared_fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def recordings_dir() -> Path:
    """The real Moodle recordings (../shared beside the repository, or the env override)."""
    return Path(os.environ.get("PROFROUTE_RECORDINGS_DIR",
                               ROOT.parent / "shared" / "moodle-recordings" / "4.5"))


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str | None]:
    """This process's PostgreSQL database, or None when ``PROFROUTE_TEST_DATABASE_URL`` is unset.

    Run alone, that database itself; as a pytest-xdist worker (``gw0``, ``gw1``...), a database of
    the worker's own on the same server (``<name>_gw0``...), made at the start and dropped at the
    end, as each test drops and makes the public schema again.
    """
    url = os.environ.get(PG_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        yield url
        return
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend; PostgreSQL comes from tests/tools/with-postgres.sh."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'profroute.db'}"
        return
    url = request.getfixturevalue("postgresql_url")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set: under CI PostgreSQL tests never skip")
        pytest.skip(f"{PG_ENV} not set (run through `make test`)")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings on the fresh database, with no Moodle."""
    return Settings(database_url=database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The app with its schema built by the Alembic migrations, inside its app context."""
    with app_for(settings) as application:
        yield application


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``make_app(**settings)``: the app on ``Settings(**settings)`` as ``app`` is, for a test
    that needs settings of its own (a Moodle, a thresholds file...).

    ``database_url`` defaults to a SQLite file of the test's own; pass the ``database_url``
    fixture to run on both backends. Each app keeps its app context until the test ends.
    """
    with contextlib.ExitStack() as apps:
        def make(**settings: Any) -> Flask:
            settings.setdefault("database_url", f"sqlite:///{tmp_path / 'profroute.db'}")
            return apps.enter_context(app_for(Settings(**settings)))

        yield make


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``, not signed in."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> AppRunner:
    """Runs ``profroute`` commands on ``app``: ``runner.invoke(["sync"])``."""
    return AppRunner(app)


@pytest.fixture
def signed_in_client(app: Flask) -> FlaskClient:
    """A test client of ``app`` signed in as a methodologist, CSRF off."""
    return signed_in(app)


@pytest.fixture
def moodle() -> Iterator[tuple[str, str]]:
    """A fresh Moodle sandbox process per test (pushes change its state): (base URL, token)."""
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        yield url, token
