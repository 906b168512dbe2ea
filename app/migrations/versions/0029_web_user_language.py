"""web_user: the pages' language the user chose

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:30:00.000000

Nullable: no choice means Russian, the default. Plain ADD COLUMN (no batch copy: on SQLite
that would drop the change-counter triggers that watch the web_user table). The sign-in check
keeps accounts per worker while ``web_user``'s change counter stays the same (0021), and the
language is read with the account: its trigger now counts a change of ``language`` too, so a
choice made in one worker holds in every other from the next request.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

BEFORE = ('login', 'name', 'password_hash', 'active', 'session_version')
NOW = (*BEFORE, 'language')
PG_NEW_VALUE = "nextval('change_counter_value')"
SQLITE_NEW_VALUE = 'abs(random())'


def _count_updates_of(columns):
    """web_user's update trigger of 0021, counting updates of ``columns``."""
    update = f"UPDATE OF {', '.join(columns)}"
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS web_user_counted ON web_user")
        op.execute(f"CREATE TRIGGER web_user_counted AFTER INSERT OR {update} OR DELETE "
                   "ON web_user FOR EACH STATEMENT EXECUTE FUNCTION "
                   "profroute_count_change('web_user')")
        return
    op.execute("DROP TRIGGER IF EXISTS web_user_counted_update")
    op.execute(f"CREATE TRIGGER web_user_counted_update AFTER {update} ON web_user BEGIN "
               f"UPDATE change_counter SET value = {SQLITE_NEW_VALUE} WHERE name = 'web_user'; "
               "END")


def upgrade():
    op.add_column('web_user', sa.Column('language', sa.String(length=8), nullable=True))
    _count_updates_of(NOW)


def downgrade():
    _count_updates_of(BEFORE)
    # SQLite 3.35+ drops a column in place (the triggers stay; none of them names it now).
    op.drop_column('web_user', 'language')
