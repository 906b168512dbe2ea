"""route planning: the needs a recommend run left uncovered, with their reasons

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 09:00:00.000000

``route_unmet_need`` holds, per diagnostic, each teacher's competency the planner could not
cover and why (a reason code and the sentence a methodologist reads); recommend replaces the
rows of its diagnostic on every run.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('route_unmet_need',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('diagnostic_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('competency', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['diagnostic_id'], ['diagnostic.id'],
                            name=op.f('fk_route_unmet_need_diagnostic_id_diagnostic'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'],
                            name=op.f('fk_route_unmet_need_teacher_id_teacher'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_unmet_need'))
    )
    op.create_index('ix_route_unmet_need_diagnostic', 'route_unmet_need',
                    ['diagnostic_id', 'teacher_id'], unique=False)


def downgrade():
    op.drop_index('ix_route_unmet_need_diagnostic', table_name='route_unmet_need')
    op.drop_table('route_unmet_need')
