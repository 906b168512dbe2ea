"""one change-marker mechanism: 0017's watched tables counted in change_counter

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:00:00.000000

Migration 0017 kept one ``change_marker.version`` for the tables a worker keeps per process
(``policy_revision``, ``competency``, ``competency_framework``, ``diagnostic``,
``lti_platform``); 0018 a named counter per input table of the deficit map in
``change_counter``. Both are replaced in the writer's transaction by database triggers. This
migration keeps only ``change_counter``: each of 0017's tables gets its named counter
(``competency`` has one already) and the same trigger as 0018's tables; ``change_marker``, its
triggers, function and sequence are dropped. ``app.common.marker`` reads the counters of its
tables (one indexed query), ``app.reports.map_store`` those of the map's inputs.

A counter is now *replaced by a value never used before*, not increased by one (0017's
guarantee, now for every counter): with ``value + 1`` a transaction that wrote, read the new
value (and loaded what it wrote under it) and then rolled back leaves the old value, and the
next committed write takes the very same number — a value kept in a process (or a stored map
computed in such a transaction) would then look current. PostgreSQL takes the value from a
sequence (``nextval`` is outside transactions: never given twice), SQLite draws a random
63-bit number (one writer at a time). A downgrade restores 0017's and 0018's objects
(counters back at 0, ``change_marker`` at 1: every kept value is loaded again).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# 0018's tables → the columns whose update counts (None: any column); 0017's tables added.
MAP_INPUTS = {'deficit': None, 'teacher': ('school_id', 'active'), 'school': None,
              'competency': None}
KEPT = ('policy_revision', 'competency', 'competency_framework', 'diagnostic', 'lti_platform')
WATCHED = {**MAP_INPUTS, **{table: None for table in KEPT}}
ADDED = [table for table in KEPT if table not in MAP_INPUTS]

PG_NEW_VALUE = "nextval('change_counter_value')"
SQLITE_NEW_VALUE = 'abs(random())'


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _count_function(new_value: str) -> None:
    op.execute("CREATE OR REPLACE FUNCTION profroute_count_change() RETURNS trigger "
               f"LANGUAGE plpgsql AS $$ BEGIN UPDATE change_counter SET value = {new_value} "
               "WHERE name = TG_ARGV[0]; RETURN NULL; END $$")


def create_triggers(table: str, columns: tuple[str, ...] | None, new_value: str) -> None:
    """The triggers that replace ``table``'s counter on every write (the dialect's own);
    ``new_value``: the SQL of the value written."""
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    if _postgresql():
        op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT OR {update} OR DELETE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION profroute_count_change"
                   f"('{table}')")
        op.execute(f"CREATE TRIGGER {table}_counted_truncate AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION profroute_count_change('{table}')")
        return
    # table names come from WATCHED above, never from input
    bump = f"UPDATE change_counter SET value = {new_value} WHERE name = '{table}'"  # noqa: S608
    for event, name in (("INSERT", "insert"), (update, "update"), ("DELETE", "delete")):
        op.execute(f"CREATE TRIGGER {table}_counted_{name} AFTER {event} ON {table} "
                   f"BEGIN {bump}; END")


def drop_triggers(table: str) -> None:
    if _postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_truncate ON {table}")
        return
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_{name}")


def _drop_change_marker() -> None:
    if _postgresql():
        for table in KEPT:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_change_marker ON {table}')
        op.execute('DROP FUNCTION IF EXISTS profroute_bump_change_marker()')
        op.execute('DROP SEQUENCE IF EXISTS change_marker_version')
    else:
        for table in KEPT:
            for event in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER IF EXISTS {table}_change_marker_{event}')
    op.drop_table('change_marker')


def upgrade():
    counters = sa.table('change_counter', sa.column('name', sa.String),
                        sa.column('value', sa.BigInteger))
    _drop_change_marker()
    if _postgresql():
        # Above every value a counter holds now, and above any value a sequence dropped by a
        # downgrade gave (microseconds since 1970): a new value is never one used before.
        op.execute('CREATE SEQUENCE change_counter_value')
        op.execute("SELECT setval('change_counter_value', greatest("
                   "(SELECT coalesce(max(value), 0) + 1 FROM change_counter), "
                   "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint))")
        new_value = PG_NEW_VALUE
        op.bulk_insert(counters, [{'name': table, 'value': 0} for table in ADDED])
        op.execute(f"UPDATE change_counter SET value = {PG_NEW_VALUE}")
        _count_function(PG_NEW_VALUE)
    else:
        new_value = SQLITE_NEW_VALUE
        op.bulk_insert(counters, [{'name': table, 'value': 0} for table in ADDED])
        op.execute(f"UPDATE change_counter SET value = {SQLITE_NEW_VALUE}")
    for table, columns in WATCHED.items():
        drop_triggers(table)
        create_triggers(table, columns, new_value)


def downgrade():
    for table in WATCHED:
        drop_triggers(table)
    op.execute("DELETE FROM change_counter WHERE name IN "
               f"({', '.join(repr(table) for table in ADDED)})")
    op.execute("UPDATE change_counter SET value = 0")
    if _postgresql():
        _count_function('value + 1')
        op.execute('DROP SEQUENCE change_counter_value')
    for table, columns in MAP_INPUTS.items():
        create_triggers(table, columns, 'value + 1')
    # 0017's change marker, as 0017 made it.
    op.create_table('change_marker',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_marker'))
    )
    op.execute('INSERT INTO change_marker (id, version) VALUES (1, 1)')
    bump_pg = "UPDATE change_marker SET version = nextval('change_marker_version') WHERE id = 1"
    if _postgresql():
        op.execute('CREATE SEQUENCE change_marker_version START WITH 2')
        op.execute('CREATE FUNCTION profroute_bump_change_marker() RETURNS trigger '
                   f'LANGUAGE plpgsql AS $$ BEGIN {bump_pg}; RETURN NULL; END $$')
        for table in KEPT:
            op.execute(f'CREATE TRIGGER {table}_change_marker AFTER INSERT OR UPDATE OR '
                       f'DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT '
                       'EXECUTE FUNCTION profroute_bump_change_marker()')
        return
    for table in KEPT:
        for event in ('insert', 'update', 'delete'):
            op.execute(f'CREATE TRIGGER {table}_change_marker_{event} AFTER {event.upper()} '
                       f'ON {table} BEGIN UPDATE change_marker SET version = abs(random()) '
                       'WHERE id = 1; END')
