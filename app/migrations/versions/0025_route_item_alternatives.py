"""route review: the planner's ranked alternatives of an item, and what a swap replaced

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 10:00:00.000000

``route_item.alternatives`` holds the alternatives the planner ranked for a proposed item
(best first: offer key, session key, value, place, why it was not chosen); NULL for items
planned before or without them (the review then ranks alternatives itself).
``route_item.replaces_id`` names the item a swap replaced, so the teacher gets one message
saying what replaced what.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('route_item') as batch:
        batch.add_column(sa.Column('alternatives', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_route_item_replaces_id_route_item'),
                                 'route_item', ['replaces_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('route_item') as batch:
        batch.drop_constraint(op.f('fk_route_item_replaces_id_route_item'), type_='foreignkey')
        batch.drop_column('replaces_id')
        batch.drop_column('alternatives')
