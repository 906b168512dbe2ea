"""the sign-in check's tables counted in change_counter

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:30:00.000000

Every signed-in request checks its account: whether the login is still active, its session
version, its roles and scope (``web_user``, ``web_user_role``, ``web_user_municipality``).
Each of these tables gets a named counter in ``change_counter``, replaced by 0020's triggers
(a value never used before) in the writer's transaction, so a worker keeps an account it read
while the counters stay the same and sees a disable, a sign-out, a password change or a
revoked role at the next request, whichever process wrote it. ``web_user.last_login_at`` (set
at every sign-in) is not counted: no check reads it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

COUNTED = {'web_user': ('login', 'name', 'password_hash', 'active', 'session_version'),
           'web_user_role': None, 'web_user_municipality': None}
PG_NEW_VALUE = "nextval('change_counter_value')"
SQLITE_NEW_VALUE = 'abs(random())'


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    counters = sa.table('change_counter', sa.column('name', sa.String),
                        sa.column('value', sa.BigInteger))
    op.bulk_insert(counters, [{'name': table, 'value': 0} for table in COUNTED])
    postgresql = _postgresql()
    new_value = PG_NEW_VALUE if postgresql else SQLITE_NEW_VALUE
    names = ', '.join(repr(table) for table in COUNTED)
    op.execute(f"UPDATE change_counter SET value = {new_value} WHERE name IN ({names})")
    for table, columns in COUNTED.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        if postgresql:  # 0020's function, with the table's name as its argument
            op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT OR {update} OR DELETE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                       f"profroute_count_change('{table}')")
            op.execute(f"CREATE TRIGGER {table}_counted_truncate AFTER TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION profroute_count_change('{table}')")
            continue
        # table names come from COUNTED above, never from input
        bump = f"UPDATE change_counter SET value = {new_value} WHERE name = '{table}'"  # noqa: S608
        for event, name in (("INSERT", "insert"), (update, "update"), ("DELETE", "delete")):
            op.execute(f"CREATE TRIGGER {table}_counted_{name} AFTER {event} ON {table} "
                       f"BEGIN {bump}; END")


def downgrade():
    for table in COUNTED:
        if _postgresql():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_counted ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_truncate ON {table}")
        else:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_counted_{name}")
    names = ', '.join(repr(table) for table in COUNTED)
    op.execute(f"DELETE FROM change_counter WHERE name IN ({names})")
