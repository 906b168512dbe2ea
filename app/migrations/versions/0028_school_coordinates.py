"""school: optional latitude and longitude for the network map

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 18:40:00.000000

Both nullable: a school without coordinates stays off the map (the network graph still shows
it). Plain ADD COLUMN (no batch copy: on SQLite that would drop the change-counter triggers
that watch the school table).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('school', sa.Column('latitude', sa.Float(), nullable=True))
    op.add_column('school', sa.Column('longitude', sa.Float(), nullable=True))


def downgrade():
    # SQLite 3.35+ drops a column in place (the triggers stay; none of them names these).
    op.drop_column('school', 'longitude')
    op.drop_column('school', 'latitude')
