"""audit log; when a teacher stopped being seen by a sync

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:55:00.000000

``audit_event`` records who approved, cancelled, imported, pushed, exported or erased what,
when and from where (app.common.audit). ``teacher.inactive_since`` is when a sync last found a
teacher no longer scored; the retention (PROFROUTE_RETENTION_DAYS) counts from it. Teachers
already inactive start counting from this upgrade: their earlier absence is not known.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_kind', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=255), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index(op.f('ix_audit_event_at'), 'audit_event', ['at'], unique=False)
    op.create_index(op.f('ix_audit_event_actor'), 'audit_event', ['actor'], unique=False)
    op.create_index(op.f('ix_audit_event_action'), 'audit_event', ['action'], unique=False)
    op.create_index('ix_audit_event_object', 'audit_event', ['object_kind', 'object_id'],
                    unique=False)
    with op.batch_alter_table('teacher') as batch:
        batch.add_column(sa.Column('inactive_since', sa.DateTime(timezone=True), nullable=True))
    teacher = sa.table('teacher', sa.column('active', sa.Boolean()),
                       sa.column('inactive_since', sa.DateTime(timezone=True)))
    op.execute(teacher.update().where(teacher.c.active.is_(False))
               .values(inactive_since=sa.func.current_timestamp()))


def downgrade():
    with op.batch_alter_table('teacher') as batch:
        batch.drop_column('inactive_since')
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_action'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_actor'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_at'), table_name='audit_event')
    op.drop_table('audit_event')
