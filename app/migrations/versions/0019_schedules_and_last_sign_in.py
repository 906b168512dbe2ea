"""schedules of the in-app scheduler, job locks, and each web user's last sign-in

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00.000000

``schedule`` holds the jobs an admin schedules from /admin/schedules, seeded with the cron
lines of README "Production", all disabled; ``job_lock`` keeps a group of jobs (``sync``,
``push``) from running twice at once, whether the scheduler or a cron line starts it.
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SEEDED = (
    ("Синхронизация, уровни и рекомендации", "sync-chain", "*/30 * * * *"),
    ("Полная синхронизация ночью", "full-sync-chain", "15 2 * * *"),
    ("Отправка в Moodle", "push", "*/15 * * * *"),
    ("Срок хранения персональных данных", "retention", "45 3 * * *"),
)


def upgrade():
    schedule = op.create_table('schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('cron', sa.String(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('run_requested', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule')),
    sa.UniqueConstraint('name', name=op.f('uq_schedule_name'))
    )
    op.create_table('job_lock',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_lock'))
    )
    with op.batch_alter_table('web_user') as batch:
        batch.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(schedule, [
        {"name": name, "job": job, "cron": cron, "enabled": False, "run_requested": False,
         "next_run_at": None, "version": 0, "last_run_id": None, "created_at": now}
        for name, job, cron in SEEDED])


def downgrade():
    with op.batch_alter_table('web_user') as batch:
        batch.drop_column('last_login_at')
    op.drop_table('job_lock')
    op.drop_table('schedule')
