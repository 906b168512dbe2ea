"""Migration 0011 splits the cursor the two xAPI sources shared, as safely as it can."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from app import MIGRATIONS
from app.extensions import db
from app.models import SyncCursor

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def cursors() -> dict[str, str]:
    db.session.expire_all()
    return {c.name: c.value for c in db.session.scalars(select(SyncCursor))}


def migrate_with(rows: dict[str, str]) -> dict[str, str]:
    downgrade(directory=MIGRATIONS, revision="0009")  # to just before 0011
    db.session.execute(SyncCursor.__table__.insert(), [
        {"name": name, "value": value, "updated_at": NOW} for name, value in rows.items()])
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    return cursors()


@pytest.mark.parametrize(("before", "after"), [
    ({"xapi:stored": "2026-11-30T10:00:00.000Z"},  # only the LRS ever moved it: carried over
     {"xapi:lrs:legacy": "2026-11-30T10:00:00.000Z"}),
    ({"xapi:stored": "2026-11-30T10:00:00.000Z",  # the received pull moved it too: unsafe
      "xapi:received": "2026-11-30T09:00:00.000000+00:00|6c1b0f4e"},
     {"xapi:received": "2026-11-30T09:00:00.000000+00:00"}),
])
def test_the_shared_cursor_is_kept_only_when_it_was_the_lrs_alone(
        app: Flask, before: dict[str, str], after: dict[str, str]) -> None:
    assert migrate_with({**before, "moodle:ratings:framework:1": "5"}) == {
        **after, "moodle:ratings:framework:1": "5"}
