"""route_item.replaces_id indexed

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 22:00:00.000000

The column refers to route_item itself (ON DELETE SET NULL): without an index, deleting N items
scans the table N times to find the items that name them (a bench's mass delete hung on it).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_route_item_replaces_id', 'route_item', ['replaces_id'], unique=False)


def downgrade():
    op.drop_index('ix_route_item_replaces_id', table_name='route_item')
