"""outbox payload v1: every payload carries "v": 1, xAPI payloads wrap their statement

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 09:00:00.000000

Data only, no schema change. Plain JSON manipulation (no import of app code, whose records
may change after this revision): the upgrade adds ``"v": 1`` to every outbox payload and
turns a kind ``xapi`` payload (the statement itself) into ``{"v": 1, "statement": ...}``;
the downgrade reverses both. Rows already in the target shape are left alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

VERSION = 1
PAGE = 1000
outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('kind', sa.String()),
                  sa.column('payload', sa.JSON()))


def _wrapped(payload):
    return isinstance(payload, dict) and set(payload) == {'v', 'statement'}


def _to_v1(kind, payload):
    """The v1 payload, or None when the row already has it."""
    if kind == 'xapi':
        return None if _wrapped(payload) else {'v': VERSION, 'statement': payload}
    return None if 'v' in payload else {**payload, 'v': VERSION}


def _from_v1(kind, payload):
    """The payload before v1, or None when the row already has that shape."""
    if kind == 'xapi':
        return payload['statement'] if _wrapped(payload) else None
    if 'v' not in payload:
        return None
    return {key: value for key, value in payload.items() if key != 'v'}


def _rewrite(change):
    """Apply ``change(kind, payload)`` to every row, a page of ids at a time."""
    conn = op.get_bind()
    update = outbox.update().where(outbox.c.id == sa.bindparam('row_id')).values(
        payload=sa.bindparam('new_payload', type_=sa.JSON()))
    last = 0
    while True:
        rows = conn.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.payload)
                            .where(outbox.c.id > last).order_by(outbox.c.id).limit(PAGE)).all()
        if not rows:
            return
        changed = [{'row_id': row_id, 'new_payload': new}
                   for row_id, kind, payload in rows
                   if (new := change(kind, payload)) is not None]
        if changed:
            conn.execute(update, changed)
        last = rows[-1][0]


def upgrade():
    _rewrite(_to_v1)


def downgrade():
    _rewrite(_from_v1)
