"""teacher: a folded search name for the teacher list

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 18:00:00.000000

``teacher.search_name`` holds «фамилия имя отчество логин» in lower case with «ё» as «е»,
folded in Python: SQLite's ``lower`` and ``LIKE`` fold only ASCII letters, so «иван» would
not find «Иван» there. Existing rows are filled here; the model keeps it on every write (the
server default '' only stands for a row written by raw SQL, e.g. a COPY, not found by name
until the app writes it again). The
index on (search_name, id) lets the list page walk the teachers in name order.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

PARTS = ('lastname', 'firstname', 'middlename', 'username')
BATCH = 1000


def folded(row):
    # The model's app.models.network.search_name_of as of this revision (kept here: a
    # migration does not follow later changes of the app's code).
    text = ' '.join(str(getattr(row, name) or '') for name in PARTS)
    return ' '.join(text.lower().replace('ё', 'е').split())


def upgrade():
    # A plain ADD COLUMN (no batch copy of the table: on SQLite that would drop the
    # teacher's change-counter triggers of 0018/0020).
    op.add_column('teacher', sa.Column('search_name', sa.String(length=1024), nullable=False,
                                       server_default=''))
    teacher = sa.table('teacher', sa.column('id', sa.Integer),
                       sa.column('search_name', sa.String),
                       *(sa.column(name, sa.String) for name in PARTS))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(teacher.c.id, *(teacher.c[name] for name in PARTS))
                            .where(teacher.c.id > last).order_by(teacher.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        bind.execute(teacher.update().where(teacher.c.id == sa.bindparam('row_id'))
                     .values(search_name=sa.bindparam('folded')),
                     [{'row_id': row.id, 'folded': folded(row)} for row in rows])
        last = rows[-1].id
    op.create_index('ix_teacher_search_name', 'teacher', ['search_name', 'id'])


def downgrade():
    op.drop_index('ix_teacher_search_name', table_name='teacher')
    # SQLite 3.35+ drops a column in place (the triggers stay; none of them names it).
    op.drop_column('teacher', 'search_name')
