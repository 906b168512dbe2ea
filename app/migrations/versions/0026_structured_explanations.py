"""route planning: explanations stored structured, rendered in the reader's language

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 10:00:00.000000

``route_item.explanation`` and ``route_unmet_need.explanation`` hold what the planner's texts
are made of (needs covered, place, better sessions blocked, priority, offer and session, dates;
the need's level, score, threshold and stage), so pages render them in Russian or English.
Older rows keep only their Russian text (``reasons`` / ``text``) and show it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('route_item') as batch:
        batch.add_column(sa.Column('explanation', sa.JSON(), nullable=True))
    with op.batch_alter_table('route_unmet_need') as batch:
        batch.add_column(sa.Column('explanation', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('route_unmet_need') as batch:
        batch.drop_column('explanation')
    with op.batch_alter_table('route_item') as batch:
        batch.drop_column('explanation')
