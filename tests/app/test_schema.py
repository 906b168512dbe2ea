"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from app.extensions import db


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrations_are_idempotent(app: Flask) -> None:
    from app.extensions import prepare_schema

    prepare_schema()  # a second upgrade is a no-op
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    from app import MIGRATIONS

    migrate: Migrate = app.extensions["migrate"].migrate
    head = ScriptDirectory.from_config(migrate.get_config(MIGRATIONS)).get_current_head()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
