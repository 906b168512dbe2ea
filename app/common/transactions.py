"""How a request's transaction ends: with COMMIT when it ran nothing but SELECTs.

psycopg keeps a statement it has run five times on a connection as a server-side prepared
statement, so PostgreSQL parses and plans it once per connection instead of on every request
(the teacher page: 2.2 → 0.9 ms of PostgreSQL CPU a page, bench/RESULTS.md). But psycopg
forgets every prepared statement on ROLLBACK, and Flask-SQLAlchemy ends each request's
session with one: no statement ever lived past its request. A transaction that wrote nothing
leaves the same database whether it is committed or rolled back, so such a transaction is
committed at the end of the request, and psycopg keeps its statements.

What counts as a write is decided per statement, conservatively: anything whose text does not
begin with ``SELECT`` (``INSERT``, ``UPDATE``, ``DELETE``, ``WITH`` that may modify, DDL,
``SAVEPOINT``, ``COPY``), and any ORM change still pending in the session. A request that
wrote, or ended in an exception, is rolled back by Flask-SQLAlchemy exactly as before.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

logger = logging.getLogger(__name__)

WROTE = "profroute.wrote"  # Connection.info: the transaction sent a statement that may write


def _transaction_begins(connection: Connection) -> None:
    connection.info[WROTE] = False


def _statement_runs(connection: Connection, *args: Any) -> None:
    statement: str = args[1]  # cursor, statement, parameters, context, executemany
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def end_read_only(exc: BaseException | None) -> None:
    """Commit the request's transaction if it only read (see the module's text); otherwise
    leave it to Flask-SQLAlchemy's teardown, which rolls it back."""
    if exc is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if session.connection().info.get(WROTE, True):
        return
    try:
        session.commit()
    except SQLAlchemyError as err:  # a connection lost after the answer: nothing was written
        logger.warning("a read-only transaction could not be committed: %s", err)


def init_app(app: Flask) -> None:
    """Track writes on every engine, and end read-only requests with COMMIT (registered after
    Flask-SQLAlchemy, so it runs before the session is removed)."""
    if not event.contains(Engine, "begin", _transaction_begins):
        event.listen(Engine, "begin", _transaction_begins)
        event.listen(Engine, "before_cursor_execute", _statement_runs)
    app.teardown_appcontext(end_read_only)
