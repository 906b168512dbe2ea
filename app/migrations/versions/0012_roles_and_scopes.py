"""roles and scopes: web_user_role, web_user_municipality

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:30:00.000000

A web user holds one or more roles: ``admin``, ``methodologist`` (of the whole region, or of
the municipalities listed in ``web_user_municipality``) or ``teacher`` (of one Moodle user id).
Before this revision every login could read and change everything, so on upgrade every existing
login becomes a methodologist of the whole region AND an admin: nobody is locked out, and no one
loses what they could do. Narrow them afterwards with ``profroute web-user revoke`` /
``profroute web-user grant``.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

web_user = sa.table('web_user', sa.column('id', sa.Integer()))
role = sa.table('web_user_role', sa.column('web_user_id', sa.Integer()),
                sa.column('role', sa.String()), sa.column('whole_region', sa.Boolean()),
                sa.column('teacher_moodle_id', sa.Integer()))


def upgrade():
    op.create_table('web_user_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('web_user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('whole_region', sa.Boolean(), nullable=False),
    sa.Column('teacher_moodle_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['web_user_id'], ['web_user.id'],
                            name=op.f('fk_web_user_role_web_user_id_web_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_user_role')),
    sa.UniqueConstraint('web_user_id', 'role', name=op.f('uq_web_user_role_web_user_id_role'))
    )
    op.create_index(op.f('ix_web_user_role_web_user_id'), 'web_user_role', ['web_user_id'],
                    unique=False)
    op.create_table('web_user_municipality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('web_user_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                            name=op.f('fk_web_user_municipality_municipality_id_municipality'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['web_user_id'], ['web_user.id'],
                            name=op.f('fk_web_user_municipality_web_user_id_web_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_user_municipality')),
    sa.UniqueConstraint('web_user_id', 'municipality_id',
                        name=op.f('uq_web_user_municipality_web_user_id_municipality_id'))
    )
    op.create_index(op.f('ix_web_user_municipality_web_user_id'), 'web_user_municipality',
                    ['web_user_id'], unique=False)
    conn = op.get_bind()
    users = conn.execute(sa.select(web_user.c.id)).scalars().all()
    rows = [{'web_user_id': user, 'role': name, 'whole_region': name == 'methodologist',
             'teacher_moodle_id': None} for user in users for name in ('admin', 'methodologist')]
    if rows:
        op.bulk_insert(role, rows)


def downgrade():
    op.drop_index(op.f('ix_web_user_municipality_web_user_id'),
                  table_name='web_user_municipality')
    op.drop_table('web_user_municipality')
    op.drop_index(op.f('ix_web_user_role_web_user_id'), table_name='web_user_role')
    op.drop_table('web_user_role')
