"""Shared fixtures: databases (SQLite and PostgreSQL), the app, the Moodle sandbox process."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app.demo.sandbox import running_sandbox
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PG_ENV = "PROFROUTE_TEST_DATABASE_URL"


def recordings_dir() -> Path:
    """The real Moodle recordings (../shared beside the repository, or the env override)."""
    return Path(os.environ.get("PROFROUTE_RECORDINGS_DIR",
                               ROOT.parent / "shared" / "moodle-recordings" / "4.5"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each backend; PostgreSQL comes from tests/tools/with-postgres.sh."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'profroute.db'}"
        return
    url = os.environ.get(PG_ENV)
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
    """The app with its schema built by the Alembic migrations."""
    from support import app_for

    yield from app_for(settings)


@pytest.fixture
def moodle() -> Iterator[tuple[str, str]]:
    """A fresh Moodle sandbox process per test (pushes change its state): (base URL, token)."""
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        yield url, token
