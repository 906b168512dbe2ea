"""route review: every change of a route item, teachers' requests for a change

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 08:00:00.000000

``route_item_event`` records each change of a route item (who: a login, the teacher, the CLI
or the system; when; from which status to which; the reason or message).
``route_change_request`` holds a teacher's request to change an item and the methodologist's
answer. ``route_item.decision_reason`` keeps the reason of the last rejection, decline or
cancellation. The new statuses (declined, verified, replanned) need no schema change.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('route_item_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['route_item_id'], ['route_item.id'],
                            name=op.f('fk_route_item_event_route_item_id_route_item'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_item_event'))
    )
    op.create_index('ix_route_item_event_item', 'route_item_event', ['route_item_id', 'id'],
                    unique=False)
    op.create_table('route_change_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('route_item_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=255), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['route_item_id'], ['route_item.id'],
                            name=op.f('fk_route_change_request_route_item_id_route_item'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_change_request'))
    )
    op.create_index(op.f('ix_route_change_request_route_item_id'), 'route_change_request',
                    ['route_item_id'], unique=False)
    op.create_index('ix_route_change_request_status', 'route_change_request', ['status', 'id'],
                    unique=False)
    op.add_column('route_item', sa.Column('decision_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('route_item') as batch:
        batch.drop_column('decision_reason')
    op.drop_index('ix_route_change_request_status', table_name='route_change_request')
    op.drop_index(op.f('ix_route_change_request_route_item_id'),
                  table_name='route_change_request')
    op.drop_table('route_change_request')
    op.drop_index('ix_route_item_event_item', table_name='route_item_event')
    op.drop_table('route_item_event')
