"""Pull Moodle's own competency ratings: the second source beside the diagnostic.

With the ProfRoute plugin (1.1+) one call per framework reads every user competency modified
since the last pull (``local_profroute_get_user_competencies``). Without it, ratings are read
from the teachers' learning plans (``core_competency_list_user_plans`` and one
``core_competency_list_plan_competencies`` per plan): a full sync does that for every active
teacher; an incremental sync leaves ratings as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.common.store import get_or_create
from app.extensions import db
from app.models import Competency, CompetencyFramework, CompetencyRating, SyncCursor, Teacher
from app.settings import Settings
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.api import MoodleAPI
from lms_connectors.moodle.records import CompetencyRating as MoodleRating

logger = logging.getLogger(__name__)
CURSOR = "moodle:ratings:framework:{}"


def pull_ratings(api: MoodleAPI, settings: Settings, functions: frozenset[str], *,
                 full: bool) -> int:
    """Store Moodle's ratings of the known teachers; return how many rows changed.

    :raise ConnectorError: Moodle failed; what was stored stays, a re-run resumes.
    """
    if fn.PLUGIN_USER_COMPETENCIES in functions:
        return sum(_from_plugin(api, framework, full) for framework in db.session.scalars(
            select(CompetencyFramework).where(CompetencyFramework.moodle_id.is_not(None))))
    if full and {fn.USER_PLANS, fn.PLAN_COMPETENCIES} <= functions:
        return _from_plans(api, settings)
    return 0


def _from_plugin(api: MoodleAPI, framework: CompetencyFramework, full: bool) -> int:
    cursor = get_or_create(SyncCursor, name=CURSOR.format(framework.moodle_id))
    since = 0 if full or not cursor.value.isdigit() else int(cursor.value)
    ratings = api.ratings_since(int(framework.moodle_id or 0), since)
    changed = store_ratings(ratings)
    cursor.value = str(max([since, *(r.time_modified for r in ratings)]))
    db.session.commit()
    return changed


def _from_plans(api: MoodleAPI, settings: Settings) -> int:
    users = list(db.session.scalars(select(Teacher.moodle_user_id).where(Teacher.active)))

    def read(user_id: int) -> list[MoodleRating]:
        return [r for plan in api.user_plans(user_id) for r in api.plan_ratings(plan.plan_id)]

    changed = 0
    with ThreadPoolExecutor(max_workers=max(1, settings.sync_workers)) as pool:
        for ratings in pool.map(read, users):
            changed += store_ratings(_latest(ratings))
    db.session.commit()
    return changed


def _latest(ratings: Iterable[MoodleRating]) -> list[MoodleRating]:
    """One rating per user and competency (several plans may hold it): the newest."""
    newest: dict[tuple[int, int], MoodleRating] = {}
    for rating in ratings:
        key = (rating.user_id, rating.competency_id)
        if key not in newest or rating.time_modified >= newest[key].time_modified:
            newest[key] = rating
    return list(newest.values())


def store_ratings(ratings: Iterable[MoodleRating]) -> int:
    """Upsert ratings of known teachers and competencies; return the rows changed.

    Matched by Moodle ids (competency by id, else by idnumber); others are skipped.
    """
    ratings = list(ratings)
    if not ratings:
        return 0
    teachers = dict(db.session.execute(select(Teacher.moodle_user_id, Teacher.id)).all())
    by_moodle_id, by_idnumber = {}, {}
    for cid, moodle_id, idnumber in db.session.execute(
            select(Competency.id, Competency.moodle_id, Competency.idnumber)):
        by_moodle_id[moodle_id] = cid
        by_idnumber[idnumber] = cid
    stored = {(r.teacher_id, r.competency_id): r
              for r in db.session.scalars(select(CompetencyRating).where(
                  CompetencyRating.teacher_id.in_({teachers.get(x.user_id, -1)
                                                   for x in ratings})))}
    changed = skipped = 0
    for rating in ratings:
        teacher_id = teachers.get(rating.user_id)
        competency_id = by_moodle_id.get(rating.competency_id) or by_idnumber.get(rating.idnumber)
        if teacher_id is None or competency_id is None:
            skipped += 1
            continue
        row = stored.get((teacher_id, competency_id))
        if row is None:
            row = CompetencyRating(teacher_id=teacher_id, competency_id=competency_id)
            db.session.add(row)
            stored[(teacher_id, competency_id)] = row
        elif (row.proficient, row.grade, row.rated_at) == (
                rating.proficient, rating.grade, rating.time_modified):
            continue
        row.proficient, row.grade, row.rated_at = (rating.proficient, rating.grade,
                                                   rating.time_modified)
        changed += 1
    if skipped:
        logger.info("ratings of %d unknown users or competencies skipped", skipped)
    db.session.flush()
    return changed
