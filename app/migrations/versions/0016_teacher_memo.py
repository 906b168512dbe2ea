"""teacher memo: per-teacher derived results (risk-group reason, entry → final change)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00.000000

``teacher_memo`` keeps, per kind, diagnostic and teacher, a result derived from stored levels
and the policy with the digest of those inputs, so the teacher page reads one row instead of
recomputing the risk group of the whole population on every view; all workers share it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('teacher_memo',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('diagnostic_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['diagnostic_id'], ['diagnostic.id'],
                            name=op.f('fk_teacher_memo_diagnostic_id_diagnostic'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'],
                            name=op.f('fk_teacher_memo_teacher_id_teacher'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'diagnostic_id', 'teacher_id',
                            name=op.f('pk_teacher_memo'))
    )
    op.create_index(op.f('ix_teacher_memo_teacher_id'), 'teacher_memo', ['teacher_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_teacher_memo_teacher_id'), table_name='teacher_memo')
    op.drop_table('teacher_memo')
