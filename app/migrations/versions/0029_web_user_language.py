"""web_user: the pages' language the user chose

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 21:30:00.000000

Nullable: no choice means Russian, the default. Plain ADD COLUMN (no batch copy: on SQLite
that would drop the change-counter triggers that watch the web_user table).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('web_user', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    # SQLite 3.35+ drops a column in place (the triggers stay; none of them names it).
    op.drop_column('web_user', 'language')
