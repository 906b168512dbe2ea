"""A request that only read ends its transaction with COMMIT (so psycopg keeps its prepared
statements); one that wrote, left ORM changes pending or failed is rolled back as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select, text

from app.extensions import db
from app.models import Municipality

COUNT = select(func.count()).select_from(Municipality)


@pytest.fixture
def endings(app: Flask) -> Iterator[list[str]]:
    """How each transaction of ``app``'s engine ended: "commit" or "rollback"."""
    seen: list[str] = []

    def commit(connection: object) -> None:
        seen.append("commit")

    def rollback(connection: object) -> None:
        seen.append("rollback")

    engine = db.engine
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    yield seen
    event.remove(engine, "commit", commit)
    event.remove(engine, "rollback", rollback)


def municipalities() -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(COUNT).scalar_one())


def test_a_request_that_only_read_is_committed(app: Flask, endings: list[str]) -> None:
    with app.app_context():
        db.session.execute(COUNT)
        db.session.execute(text("  select 1"))
    assert endings == ["commit"]


def test_a_write_left_uncommitted_is_still_rolled_back(app: Flask, endings: list[str]) -> None:
    with app.app_context():
        db.session.execute(COUNT)
        db.session.execute(insert(Municipality).values(name="Северный"))
        db.session.execute(COUNT)  # a read after the write does not make it a read-only one
    assert endings == ["rollback"]
    assert municipalities() == 0


def test_a_statement_beginning_with_with_counts_as_a_write(app: Flask, endings: list[str],
                                                          database_url: str) -> None:
    with app.app_context():
        db.session.execute(text("WITH named AS (SELECT 'Южный' AS name) "
                                "INSERT INTO municipality (name) SELECT name FROM named"))
    assert endings == ["rollback"]
    if database_url.startswith("postgresql"):  # Python's sqlite3 opens no transaction
        assert municipalities() == 0            # before a statement that begins with WITH


def test_pending_orm_changes_are_not_flushed_by_the_commit(app: Flask,
                                                           endings: list[str]) -> None:
    with app.app_context():
        db.session.execute(COUNT)
        db.session.add(Municipality(name="Западный"))  # added, never flushed
    assert endings == ["rollback"]
    assert municipalities() == 0


def test_a_request_that_failed_is_rolled_back(app: Flask, endings: list[str]) -> None:
    with pytest.raises(RuntimeError), app.app_context():
        db.session.execute(COUNT)
        raise RuntimeError("the view failed")
    assert endings == ["rollback"]


def test_a_transaction_rolled_back_and_begun_again_may_end_read_only(
        app: Flask, endings: list[str]) -> None:
    with app.app_context():
        db.session.execute(insert(Municipality).values(name="Восточный"))
        db.session.rollback()
        db.session.execute(COUNT)
    assert endings == ["rollback", "commit"]
    assert municipalities() == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # psycopg's
def test_postgresql_keeps_prepared_statements_across_requests(app: Flask) -> None:
    for _ in range(7):  # psycopg prepares a statement at its fifth run on a connection
        with app.app_context():
            db.session.execute(COUNT)
    with app.app_context():  # the same pooled connection: requests came one at a time
        names = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("municipality" in statement for statement in names), names
