"""catalogue: five offer kinds, sessions, teachers' excluded dates

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 07:55:00.000000

``offer`` gains the fields of the five kinds (provider, format, place, municipality, subjects,
mentor, capacity). ``offer_session`` holds an offer's runs with their own dates, place and
seats; every offer already stored gets one ``default`` session carrying its seats, dates and
hours, so the routes and the matching read the same figures as before. ``route_item``
may name its session. ``teacher.subjects_override`` holds subjects set by a table or a page
(winning over Moodle's profile field); ``teacher_unavailable`` holds the date ranges a teacher cannot attend.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offer') as batch:
        batch.add_column(sa.Column('provider', sa.String(length=255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('format', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('place', sa.String(length=255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('municipality_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('subjects', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('mentor_name', sa.String(length=255), nullable=False,
                                   server_default=''))
        batch.add_column(sa.Column('mentor_moodle_user_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_offer_municipality_id_municipality'), 'municipality',
                                 ['municipality_id'], ['id'])
    with op.batch_alter_table('offer') as batch:
        for name in ('provider', 'place', 'subjects', 'mentor_name'):
            batch.alter_column(name, server_default=None)
    op.create_table('offer_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=True),
    sa.Column('hours', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'],
                            name=op.f('fk_offer_session_offer_id_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_session')),
    sa.UniqueConstraint('offer_id', 'key', name=op.f('uq_offer_session_offer_id_key'))
    )
    op.execute("INSERT INTO offer_session (offer_id, key, starts_on, ends_on, place, seats) "
               "SELECT id, 'default', starts_on, ends_on, '', seats FROM offer")
    with op.batch_alter_table('route_item') as batch:
        batch.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_route_item_session_id_offer_session'),
                                 'offer_session', ['session_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('teacher') as batch:
        batch.add_column(sa.Column('subjects_override', sa.String(length=512), nullable=True))
    op.create_table('teacher_unavailable',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'],
                            name=op.f('fk_teacher_unavailable_teacher_id_teacher'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teacher_unavailable')),
    sa.UniqueConstraint('teacher_id', 'starts_on', 'ends_on',
                        name=op.f('uq_teacher_unavailable_teacher_id_starts_on_ends_on'))
    )


def downgrade():
    op.drop_table('teacher_unavailable')
    with op.batch_alter_table('teacher') as batch:
        batch.drop_column('subjects_override')
    with op.batch_alter_table('route_item') as batch:
        batch.drop_constraint(op.f('fk_route_item_session_id_offer_session'), type_='foreignkey')
        batch.drop_column('session_id')
    op.drop_table('offer_session')
    with op.batch_alter_table('offer') as batch:
        batch.drop_constraint(op.f('fk_offer_municipality_id_municipality'), type_='foreignkey')
        for name in ('capacity', 'mentor_moodle_user_id', 'mentor_name', 'subjects',
                     'municipality_id', 'place', 'format', 'provider'):
            batch.drop_column(name)
