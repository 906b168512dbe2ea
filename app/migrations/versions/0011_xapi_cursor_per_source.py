"""xapi cursor per source: pulled statement ids, the shared cursor split, attachments

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 22:30:00.000000

Before this revision ``xapi-pull --source lrs`` and ``--source received`` both moved the cursor
``xapi:stored``, so one skipped the other's statements for good. From here each source has its
own cursor (``xapi:received``; ``xapi:lrs:<endpoint>`` per LRS) holding a ``stored`` instant,
and ``xapi_pulled_statement`` keeps the ids applied within the safety overlap.

The shared cursor is carried over only when it is known to be the LRS's alone: when the
received source never pulled anything (no ``xapi:received`` row), it becomes
``xapi:lrs:legacy``, which the first LRS pull adopts. Otherwise it may hold a received
statement's time ahead of the LRS's statements, so it is dropped and the next LRS pull reads
the LRS from the start (applying a statement again is harmless: completions land in one row,
unmapped statements are kept once by id). ``xapi:received`` ("stored|id") keeps its instant.

``xapi_attachment`` keeps the raw data of attachments sent as multipart/mixed, by SHA-2.
Statements already stored whose object is a StatementRef get their ``statement_ref`` link,
so queries find them through the statement they target (Data 2.5.1).
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None

SHARED, RECEIVED, LEGACY, LRS_PREFIX = 'xapi:stored', 'xapi:received', 'xapi:lrs:legacy', 'xapi:lrs:'
PAGE = 1000
statement = sa.table('xapi_statement', sa.column('id', sa.String()),
                     sa.column('statement', sa.JSON()))
link = sa.table('xapi_statement_link', sa.column('statement_id', sa.String()),
                sa.column('kind', sa.String()), sa.column('key', sa.String()))
cursor = sa.table('sync_cursor', sa.column('name', sa.String()), sa.column('value', sa.String()),
                  sa.column('updated_at', sa.DateTime(timezone=True)))


def _value(conn, name):
    return conn.execute(sa.select(cursor.c.value).where(cursor.c.name == name)).scalar()


def upgrade():
    op.create_table('xapi_pulled_statement',
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=False),
    sa.Column('stored', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'statement_id', name=op.f('pk_xapi_pulled_statement'))
    )
    op.create_index(op.f('ix_xapi_pulled_statement_stored'), 'xapi_pulled_statement', ['stored'],
                    unique=False)
    op.create_table('xapi_attachment',
    sa.Column('sha2', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha2', name=op.f('pk_xapi_attachment'))
    )
    conn = op.get_bind()
    _link_statement_refs(conn)
    received = _value(conn, RECEIVED)
    if received is not None:
        conn.execute(cursor.update().where(cursor.c.name == RECEIVED)
                     .values(value=received.split('|', 1)[0]))
        conn.execute(cursor.delete().where(cursor.c.name == SHARED))
    else:
        conn.execute(cursor.update().where(cursor.c.name == SHARED).values(name=LEGACY))


def _link_statement_refs(conn):
    last = ''
    while True:
        rows = conn.execute(sa.select(statement.c.id, statement.c.statement)
                            .where(statement.c.id > last).order_by(statement.c.id)
                            .limit(PAGE)).all()
        refs = [{'statement_id': row.id, 'kind': 'statement_ref',
                 'key': str(row.statement['object']['id']).lower()}
                for row in rows if row.statement.get('object', {}).get('objectType') == 'StatementRef']
        if refs:
            conn.execute(link.insert(), refs)
        if len(rows) < PAGE:
            return
        last = rows[-1].id


def downgrade():
    conn = op.get_bind()
    values = [v for v in conn.execute(sa.select(cursor.c.value).where(
        cursor.c.name.like(LRS_PREFIX + '%'))).scalars() if v]
    conn.execute(cursor.delete().where(cursor.c.name.like(LRS_PREFIX + '%')))
    if values:
        conn.execute(cursor.insert().values(name=SHARED, value=min(values),
                                            updated_at=dt.datetime.now(dt.UTC)))
    received = _value(conn, RECEIVED)
    if received:
        conn.execute(cursor.update().where(cursor.c.name == RECEIVED)
                     .values(value=received + '|'))
    conn.execute(link.delete().where(link.c.kind == 'statement_ref'))
    op.drop_index(op.f('ix_xapi_pulled_statement_stored'), table_name='xapi_pulled_statement')
    op.drop_table('xapi_pulled_statement')
    op.drop_table('xapi_attachment')
