"""Deficits stage: score every active teacher's stored attempts and store the levels."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import Row, delete, select
from sqlalchemy.exc import SQLAlchemyError

from app.analyse.policy import (
    attempt_policy_of,
    competency_group_overrides,
    import_thresholds_file,
    load_policy,
)
from app.analyse.teacher_memo import store_teacher_memos
from app.common.runs import Summary, logged_run
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    Competency,
    CompetencyFramework,
    CompetencyRating,
    Deficit,
    Diagnostic,
    DiagnosticMapping,
    Teacher,
)
from app.settings import Settings
from app.sync.structure import GRADE_ITEM, SLOT
from deficits import records as rec
from deficits.mapping import marks_from_attempt
from deficits.policy import describe_attempt_policy, merge_ratings, score_with_policy
from deficits.scoring import marks_frame

logger = logging.getLogger(__name__)


@dataclass
class DeficitSummary(Summary):
    """What the deficits stage computed."""

    teachers: int = 0
    thresholds: list[str] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    deficits_per_competency: dict[str, int] = field(default_factory=dict)
    moodle_ratings: dict[str, int] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)



def thresholds_of(settings: Settings) -> rec.Thresholds:
    """The level thresholds configured for this run."""
    return rec.Thresholds(deficit_below=settings.deficit_below,
                          risk_below=settings.risk_below,
                          min_questions=settings.min_questions)


def compute_deficits(diagnostic: Diagnostic, settings: Settings) -> DeficitSummary:
    """Replace the diagnostic's deficits by a fresh scoring of the stored attempts, under
    the newest policy revision (the thresholds file is imported as one first if it changed).

    :raise ValueError: the thresholds are inconsistent (``SettingsError`` is one).
    """
    import_thresholds_file(settings)
    policy = load_policy(settings)
    marks, unmapped = collect_marks(diagnostic)
    levels = score_with_policy(marks_frame(marks), competency_groups(settings), policy,
                               attempt_policy_of(settings), diagnostic.grademethod)
    levels = merge_ratings(levels, stored_ratings())
    attempts = describe_attempt_policy(attempt_policy_of(settings), diagnostic.grademethod)
    store_levels(diagnostic, levels, policy.labels, attempts)
    store_teacher_memos(diagnostic.id, levels, settings)
    summary = DeficitSummary(
        thresholds=[*policy.describe(), attempts],
        unmapped=sorted({f"{u.kind} {u.key}" for u in unmapped}))
    summary.teachers = int(levels["user_id"].nunique()) if len(levels) else 0
    summary.levels = {str(k): int(v) for k, v in levels["level"].value_counts().items()}
    deficits = levels[levels["level"] == "deficit"]
    summary.deficits_per_competency = {
        str(k): int(v) for k, v in deficits["competency"].value_counts().sort_index().items()}
    summary.moodle_ratings = {str(k): int(v) for k, v in
                              levels["agreement"].value_counts().sort_index().items()}
    return summary


def stored_ratings() -> pd.DataFrame:
    """Moodle's ratings pulled by sync: user_id (our teacher id), competency, proficient.

    Only rated pairs (proficient True or False); a user competency without a rating is
    no second opinion.
    """
    rows = db.session.execute(
        select(CompetencyRating.teacher_id, Competency.idnumber, CompetencyRating.proficient)
        .join(Competency, Competency.id == CompetencyRating.competency_id)
        .where(CompetencyRating.proficient.is_not(None))).all()
    return pd.DataFrame(rows, columns=["user_id", "competency", "proficient"]).astype(
        {"user_id": "int64", "competency": "str", "proficient": "bool"})


def collect_marks(diagnostic: Diagnostic) -> tuple[list[rec.Mark], list[rec.UnmappedSource]]:
    """Marks per competency of every active teacher's stored attempts, and what is unmapped."""
    known = set(db.session.scalars(select(Competency.idnumber)))
    maps: dict[str, dict[str, str]] = defaultdict(dict)
    for source, key, idnumber in db.session.execute(
            select(DiagnosticMapping.source, DiagnosticMapping.key, Competency.idnumber)
            .join(Competency, Competency.id == DiagnosticMapping.competency_id)
            .where(DiagnosticMapping.diagnostic_id == diagnostic.id)):
        maps[source][key] = idnumber
    slot_map = {int(k): v for k, v in maps[SLOT].items()}
    rows = db.session.execute(
        select(Attempt.id, Attempt.moodle_attempt_id, Attempt.teacher_id, Attempt.attempt_no,
               Attempt.state, Attempt.time_finish, Attempt.sumgrades, AttemptResult.source,
               AttemptResult.key, AttemptResult.mark, AttemptResult.max_mark)
        .join(Teacher, Teacher.id == Attempt.teacher_id)
        .outerjoin(AttemptResult, AttemptResult.attempt_id == Attempt.id)
        .where(Attempt.diagnostic_id == diagnostic.id, Teacher.active.is_(True))
        .order_by(Attempt.id))
    marks: list[rec.Mark] = []
    unmapped: list[rec.UnmappedSource] = []
    for _, group in groupby(rows, key=itemgetter(0)):
        found, missing = marks_from_attempt(to_record(diagnostic, list(group)), known=known,
                                            item_map=maps[GRADE_ITEM], slot_map=slot_map)
        marks.extend(found)
        unmapped.extend(missing)
    return marks, unmapped


def to_record(diagnostic: Diagnostic, rows: list[Row[*tuple[Any, ...]]]) -> rec.QuizAttempt:
    """One stored attempt (its joined result rows) as the record the pure core reads.

    ``user_id`` is our teacher id. Plain rows, not ORM objects: a region's attempts load in
    one query without building an object per result.
    """
    first = rows[0]
    items = tuple(rec.ItemMark(r.key, r.mark or 0.0, r.max_mark)
                  for r in rows if r.source == GRADE_ITEM)
    slots = tuple(rec.SlotMark(int(r.key), r.mark, r.max_mark)
                  for r in rows if r.source == SLOT)
    return rec.QuizAttempt(attempt_id=first.moodle_attempt_id,
                           quiz_id=diagnostic.moodle_quiz_id, user_id=first.teacher_id,
                           attempt_no=first.attempt_no, state=first.state, time_start=0,
                           time_finish=first.time_finish, sumgrades=first.sumgrades,
                           item_marks=items, slot_marks=slots)


def _label(labels: Mapping[str, str], row: object) -> str:
    """The methodologist's name of the group or framework whose thresholds applied."""
    source = str(getattr(row, "threshold_source", "default"))
    key = str(getattr(row, "group" if source == "group" else "framework", ""))
    return labels.get(key, key) if source != "default" else ""


def competency_groups(settings: Settings) -> pd.DataFrame:
    """competency, framework (idnumber), group of every known competency.

    The group is Moodle's parent competency, unless the policy's ``competency_groups``
    names it.
    """
    rows = db.session.execute(
        select(Competency.idnumber, CompetencyFramework.idnumber, Competency.group)
        .outerjoin(CompetencyFramework, CompetencyFramework.id == Competency.framework_id)).all()
    frame = pd.DataFrame(rows, columns=["competency", "framework", "group"]).fillna("")
    overrides = competency_group_overrides(settings)
    if overrides:
        frame["group"] = [overrides.get(c, g) for c, g in zip(frame["competency"],
                                                             frame["group"], strict=True)]
    return frame


def store_levels(diagnostic: Diagnostic, levels: pd.DataFrame,
                 labels: Mapping[str, str] | None = None, attempts: str = "") -> None:
    """Replace the diagnostic's Deficit rows in one transaction, each with its thresholds
    and ``attempts``, the attempt policy that chose its marks (in Russian)."""
    comp_ids = dict(db.session.execute(select(Competency.idnumber, Competency.id)).all())
    db.session.execute(delete(Deficit).where(Deficit.diagnostic_id == diagnostic.id))
    n = len(levels)
    column = {name: levels[name].tolist() for name in levels.columns}
    score = levels["score"].astype("float64")
    column["score"] = [None if v else s for v, s in
                       zip(score.isna().tolist(), score.tolist(), strict=True)]
    rated = column.get("moodle_proficient", [None] * n)
    column["moodle_proficient"] = [v if isinstance(v, bool) else None for v in rated]
    column.setdefault("agreement", [None] * n)
    kinds: dict[tuple[object, ...], dict[str, object]] = {}  # one dict per thresholds set
    keys = zip(column["deficit_below"], column["risk_below"], column["min_questions"],
               column["threshold_source"], column["group"], column["framework"], strict=True)
    thresholds = []
    for key in keys:
        if key not in kinds:
            low, risk, least, source, group, framework = key
            kinds[key] = {"deficit_below": float(low), "risk_below": float(risk),
                          "min_questions": float(least), "source": str(source),
                          "attempts": attempts,
                          "label": _label(labels or {}, SimpleNamespace(
                              threshold_source=source, group=group, framework=framework))}
        thresholds.append(kinds[key])
    rows = [
        {"diagnostic_id": diagnostic.id, "teacher_id": int(user), "competency_id": comp_ids[comp],
         "score": value, "grade": float(grade), "max_grade": float(top),
         "questions": float(asked), "level": str(level),
         "moodle_attempt_id": None if int(attempt) < 0 else int(attempt),
         "thresholds": used, "moodle_proficient": proficient, "agreement": agreement}
        for user, comp, value, grade, top, asked, level, attempt, used, proficient, agreement
        in zip(column["user_id"], column["competency"], column["score"], column["grade"],
               column["maxgrade"], column["questions"], column["level"], column["attempt_id"],
               thresholds, column["moodle_proficient"], column["agreement"], strict=True)]
    if rows:
        db.session.execute(Deficit.__table__.insert(), rows)
    db.session.commit()


def recompute_all(settings: Settings) -> list[dict[str, Any]]:
    """Recompute the levels of every stored diagnostic (entry and final), oldest first, under
    the policy in force; each is one ``deficits`` run in the run log, as with
    ``profroute deficits``, and commits on its own, so a failure leaves the others' levels.

    Returns:
        Per diagnostic: ``id``, ``name``, ``kind`` and either ``summary`` (the stage's
        figures) or ``error`` (why it failed; its stored levels are unchanged).
    """
    results: list[dict[str, Any]] = []
    for diagnostic_id, name, kind in db.session.execute(
            select(Diagnostic.id, Diagnostic.name, Diagnostic.kind).order_by(Diagnostic.id)
    ).all():
        result: dict[str, Any] = {"id": diagnostic_id, "name": name, "kind": kind}
        try:
            with logged_run("deficits") as run:
                diagnostic = db.session.get_one(Diagnostic, diagnostic_id)
                summary = compute_deficits(diagnostic, settings).as_dict()
                run.summary = summary
            result["summary"] = summary
        except (ValueError, LookupError, SQLAlchemyError) as err:
            logger.warning("deficits of diagnostic %s not recomputed: %s", diagnostic_id, err)
            plain = isinstance(err, ValueError)
            result["error"] = str(err) if plain else f"{type(err).__name__}: {err}"
        results.append(result)
    return results
