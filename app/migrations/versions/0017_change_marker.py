"""change marker: one value every write to the rarely changed tables replaces

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:00:00.000000

``change_marker`` holds one row whose ``version`` a trigger replaces in the same transaction as
every insert, update or delete (and, on PostgreSQL, truncate) of the tables a page reads on
every request but that rarely change: ``policy_revision``, ``competency``,
``competency_framework``, ``diagnostic`` and ``lti_platform``. A worker keeps what it read
from them with the version it read first, and reads them again only when the version moved
(``app.common.marker``): one indexed read per request instead of one per table, and never a
value older than the last committed change, whichever process made it (raw SQL and COPY
included, since the database itself replaces the value). A version is never used twice, not
even one a rolled-back transaction took: PostgreSQL takes it from a sequence (outside
transactions), SQLite draws a random 63-bit number (one process writes at a time).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

WATCHED = ('policy_revision', 'competency', 'competency_framework', 'diagnostic',
           'lti_platform')
PG_BUMP = "UPDATE change_marker SET version = nextval('change_marker_version') WHERE id = 1"
SQLITE_BUMP = 'UPDATE change_marker SET version = abs(random()) WHERE id = 1'


def upgrade():
    op.create_table('change_marker',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_marker'))
    )
    op.execute('INSERT INTO change_marker (id, version) VALUES (1, 1)')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE SEQUENCE change_marker_version START WITH 2')
        op.execute('CREATE FUNCTION profroute_bump_change_marker() RETURNS trigger '
                   f'LANGUAGE plpgsql AS $$ BEGIN {PG_BUMP}; RETURN NULL; END $$')
        for table in WATCHED:
            op.execute(f'CREATE TRIGGER {table}_change_marker AFTER INSERT OR UPDATE OR '
                       f'DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT '
                       'EXECUTE FUNCTION profroute_bump_change_marker()')
        return
    for table in WATCHED:  # SQLite: row triggers only
        for event in ('insert', 'update', 'delete'):
            op.execute(f'CREATE TRIGGER {table}_change_marker_{event} AFTER {event.upper()} '
                       f'ON {table} BEGIN {SQLITE_BUMP}; END')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f'DROP TRIGGER {table}_change_marker ON {table}')
        op.execute('DROP FUNCTION profroute_bump_change_marker()')
        op.execute('DROP SEQUENCE change_marker_version')
    else:
        for table in WATCHED:
            for event in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER {table}_change_marker_{event}')
    op.drop_table('change_marker')
