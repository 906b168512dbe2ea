"""deficit map store: counts per school and competency with change counters of their inputs

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:00:00.000000

``change_counter`` holds one counter per input table of the deficit map (deficit, teacher,
school, competency); triggers add one on every write, in the writer's transaction, whoever
writes (PostgreSQL: once per statement; SQLite: once per row, as it has no statement
triggers). ``deficit_map_store`` keeps per diagnostic the level counts per school and
competency, valid while the counters (and the policy revision) are those read before they
were computed.

SQLite: a later ``batch_alter_table`` of deficit, teacher, school or competency copies the
table and drops its triggers: such a migration must create them again (``create_triggers``).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# table → the columns whose update counts (None: any column)
WATCHED = {'deficit': None, 'teacher': ('school_id', 'active'), 'school': None,
           'competency': None}


def create_triggers(table: str) -> None:
    """The triggers that count the writes of ``table`` (the dialect's own)."""
    columns = WATCHED[table]
    # table names come from WATCHED above, never from input
    bump = f"UPDATE change_counter SET value = value + 1 WHERE name = '{table}'"  # noqa: S608
    if op.get_bind().dialect.name == 'postgresql':
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT OR {update} OR DELETE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION profroute_count_change"
                   f"('{table}')")
        op.execute(f"CREATE TRIGGER {table}_counted_truncate AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION profroute_count_change('{table}')")
        return
    update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
    for event, name in (("INSERT", "insert"), (update, "update"), ("DELETE", "delete")):
        op.execute(f"CREATE TRIGGER {table}_counted_{name} AFTER {event} ON {table} "
                   f"BEGIN {bump}; END")


def drop_triggers(table: str) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_truncate ON {table}")
        return
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_{name}")


def upgrade():
    op.create_table('change_counter',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_change_counter'))
    )
    op.bulk_insert(sa.table('change_counter', sa.column('name', sa.String),
                            sa.column('value', sa.BigInteger)),
                   [{'name': table, 'value': 0} for table in WATCHED])
    op.create_table('deficit_map_store',
    sa.Column('diagnostic_id', sa.Integer(), nullable=False),
    sa.Column('marker', sa.String(length=255), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['diagnostic_id'], ['diagnostic.id'],
                            name=op.f('fk_deficit_map_store_diagnostic_id_diagnostic'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('diagnostic_id', name=op.f('pk_deficit_map_store'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE FUNCTION profroute_count_change() RETURNS trigger LANGUAGE plpgsql "
                   "AS $$ BEGIN UPDATE change_counter SET value = value + 1 "
                   "WHERE name = TG_ARGV[0]; RETURN NULL; END $$")
    for table in WATCHED:
        create_triggers(table)


def downgrade():
    for table in WATCHED:
        drop_triggers(table)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS profroute_count_change()")
    op.drop_table('deficit_map_store')
    op.drop_table('change_counter')
