"""session version of web users, rate-limit counters shared by all workers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:40:00.000000

``web_user.session_version`` is stored in each session at sign-in; signing out, a password
change and disabling the login raise it, so every session signed before ends at its next
request. ``rate_limit_counter`` holds Flask-Limiter's fixed windows (failed sign-ins per login
and per address) in the app's own database, so every gunicorn worker counts the same attempts.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('web_user') as batch:
        batch.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    op.create_index(op.f('ix_rate_limit_counter_expires_at'), 'rate_limit_counter',
                    ['expires_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_rate_limit_counter_expires_at'), table_name='rate_limit_counter')
    op.drop_table('rate_limit_counter')
    with op.batch_alter_table('web_user') as batch:
        batch.drop_column('session_version')
