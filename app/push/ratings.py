"""Rates a competency in Moodle when the final diagnostic closes a teacher's deficit."""

from __future__ import annotations

import logging
import time

import pandas as pd
from sqlalchemy import select

from app.common.outbox import RATING, RatingRecord, new_row, record_of
from app.extensions import db
from app.models import (
    Competency,
    CompetencyRating,
    Deficit,
    Diagnostic,
    OutboxMessage,
    Teacher,
)
from app.models.ops import FAILED, PENDING
from app.push.outbox import SENDABLE, SENDING, UNCERTAIN, PushSummary, mark_sent
from app.settings import Settings
from deficits.change import deficit_changes
from deficits.policy import merge_ratings
from lms_connectors.exceptions import (
    AccessDenied,
    FunctionNotInService,
    InvalidRequest,
    InvalidToken,
    MoodleAPIError,
    MoodleUnavailable,
)
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)
__all__ = ["RATING", "enqueue_ratings", "send_ratings"]
NOTE = ("ProfRoute: профессиональный дефицит закрыт по итогам итоговой диагностики "
        "«{final}» (было {entry:.0%}, стало {score:.0%})")


def enqueue_ratings(settings: Settings) -> int:
    """One outbox row per deficit closed between the entry and each final diagnostic."""
    entry = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "entry")
                               .order_by(Diagnostic.id.desc())).first()
    if entry is None:
        return 0
    queued = 0
    for final in db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "final")):
        changes = deficit_changes(_levels(entry), _levels(final))
        for row in changes[changes["closed"]].itertuples(index=False):
            queued += _queue(settings, final, row)
    db.session.commit()
    return queued


def _queue(settings: Settings, final: Diagnostic, row: object) -> int:
    teacher = db.session.get(Teacher, int(row.user_id))  # type: ignore[attr-defined]
    comp = db.session.scalars(select(Competency).filter_by(
        idnumber=row.competency)).first()  # type: ignore[attr-defined]
    if teacher is None or comp is None or comp.moodle_id is None:
        return 0
    key = f"{RATING}:{teacher.moodle_user_id}:{comp.moodle_id}:{final.id}"
    if db.session.scalars(select(OutboxMessage.id).filter_by(dedupe_key=key)).first():
        return 0
    note = NOTE.format(final=final.name, entry=row.entry_score,  # type: ignore[attr-defined]
                       score=row.final_score)  # type: ignore[attr-defined]
    db.session.add(new_row(RatingRecord(
        user_id=teacher.moodle_user_id, competency_id=comp.moodle_id,
        competency_idnumber=comp.idnumber, grade=settings.rating_grade, note=note), key))
    return 1


def send_ratings(api: MoodleAPI, summary: PushSummary) -> None:
    """Rate at most once: Moodle adds a new evidence row on every call.

    A rating refused before anything was done (an invalid token, a function not in the
    service, no permission) stays pending with the error and the ratings stop: it goes out
    on a later push. A rating whose answer was lost is uncertain: it is never re-sent
    automatically. A rating Moodle refused (failed) is sent again by a later push.

    :raise OutboxPayloadError: a pending row does not hold a valid rating (none is sent).
    :raise InvalidToken, FunctionNotInService: nothing can be sent with this token.
    :raise MoodleUnavailable: Moodle stopped answering (that rating is uncertain).
    """
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == RATING, OutboxMessage.status.in_(SENDABLE))
            .order_by(OutboxMessage.id)).all():
        rating = record_of(row, RatingRecord)
        row.status, row.attempts = SENDING, row.attempts + 1
        db.session.commit()
        try:
            api.grade_competency(rating.user_id, rating.competency_id, rating.grade,
                                 rating.note)
        except (InvalidToken, FunctionNotInService, AccessDenied) as err:
            _not_done(row, err, summary)
            if isinstance(err, AccessDenied):
                return  # the token's user cannot rate: the other ratings would fail alike
            raise
        except MoodleUnavailable as err:
            row.status, row.last_error = UNCERTAIN, str(err)
            db.session.commit()
            raise
        except (MoodleAPIError, InvalidRequest) as err:
            row.status, row.last_error = FAILED, str(err)
            summary.errors.append(f"{row.dedupe_key}: {err}")
        else:
            mark_sent(row, attempt=False)  # counted when marked sending
            summary.ratings_sent += 1
            store_rating(rating)
        db.session.commit()


def _not_done(row: OutboxMessage, err: Exception, summary: PushSummary) -> None:
    """Moodle refused the rating before doing anything: it stays pending with the error."""
    row.status, row.last_error = PENDING, str(err)
    summary.errors.append(f"{row.dedupe_key}: {err}")
    logger.warning("rating %s not sent, it stays pending: %s", row.dedupe_key, err)
    db.session.commit()


def store_rating(rating: RatingRecord) -> None:
    """Keep the rating the push just wrote as Moodle's current rating of the pair.

    The teacher's Moodle rating (``CompetencyRating``) takes the grade sent, and the
    deficits of that teacher and competency compare with it again, so the pages show
    Moodle's rating as the push left it (not the one pulled before the push).
    """
    teacher_id = db.session.scalars(select(Teacher.id).filter_by(
        moodle_user_id=rating.user_id)).first()
    competency = db.session.scalars(select(Competency).where(
        Competency.moodle_id == rating.competency_id)).first()
    if teacher_id is None or competency is None:
        return
    proficient = True  # the push rates a closed deficit with the competent grade
    stored = db.session.scalars(select(CompetencyRating).filter_by(
        teacher_id=teacher_id, competency_id=competency.id)).first()
    if stored is None:
        stored = CompetencyRating(teacher_id=teacher_id, competency_id=competency.id)
        db.session.add(stored)
    stored.proficient, stored.grade = proficient, rating.grade
    stored.rated_at = int(time.time())
    for deficit in db.session.scalars(select(Deficit).filter_by(
            teacher_id=teacher_id, competency_id=competency.id)):
        deficit.moodle_proficient = proficient
        deficit.agreement = _agreement(deficit.level, proficient)


def _agreement(level: str, proficient: bool) -> str:
    """How one diagnostic level compares with one Moodle rating (the deficits' own rule)."""
    levels = pd.DataFrame({"user_id": [0], "competency": ["c"], "level": [level]})
    rated = pd.DataFrame({"user_id": [0], "competency": ["c"], "proficient": [proficient]})
    return str(merge_ratings(levels, rated)["agreement"].iloc[0])


def _levels(diagnostic: Diagnostic) -> pd.DataFrame:
    rows = db.session.execute(
        select(Deficit.teacher_id, Competency.idnumber, Deficit.level, Deficit.score,
               Deficit.questions)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.diagnostic_id == diagnostic.id)).all()
    return pd.DataFrame(rows, columns=["user_id", "competency", "level", "score", "questions"])
