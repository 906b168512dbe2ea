"""lti 1.3: the tool key, registered platforms and deployments, launched accounts, launch values

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:40:00.000000

Adds tables only; nothing existing changes. The tool's RSA key is not created here: the first
request that needs it (the JWKS, a login, the admin page) makes it and stores it in
``lti_tool_key``, so no key ever sits in the repository.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('lti_tool_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_lti_tool_key'))
    )
    op.create_table('lti_platform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('issuer', sa.String(length=1024), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1024), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1024), nullable=False),
    sa.Column('key_set_url', sa.String(length=1024), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platform')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platform_issuer_client_id'))
    )
    op.create_table('lti_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'],
                            name=op.f('fk_lti_deployment_platform_id_lti_platform'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployment')),
    sa.UniqueConstraint('platform_id', 'deployment_id', name=op.f('uq_lti_deployment_platform_id_deployment_id'))
    )
    op.create_table('lti_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('web_user_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('lti_roles', sa.JSON(), nullable=False),
    sa.Column('last_launch_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'],
                            name=op.f('fk_lti_account_platform_id_lti_platform'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'],
                            name=op.f('fk_lti_account_teacher_id_teacher')),
    sa.ForeignKeyConstraint(['web_user_id'], ['web_user.id'],
                            name=op.f('fk_lti_account_web_user_id_web_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_account')),
    sa.UniqueConstraint('platform_id', 'subject', name=op.f('uq_lti_account_platform_id_subject')),
    sa.UniqueConstraint('web_user_id', name=op.f('uq_lti_account_web_user_id'))
    )
    op.create_table('lti_launch_value',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_lti_launch_value'))
    )
    op.create_index(op.f('ix_lti_launch_value_expires_at'), 'lti_launch_value', ['expires_at'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_lti_launch_value_expires_at'), table_name='lti_launch_value')
    op.drop_table('lti_launch_value')
    op.drop_table('lti_account')
    op.drop_table('lti_deployment')
    op.drop_table('lti_platform')
    op.drop_table('lti_tool_key')
