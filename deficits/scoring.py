"""Competency scores and deficit levels from per-attempt marks: the plain pandas reference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deficits.attempts import AVERAGE_ATTEMPT_ID, check_grademethod
from deficits.fast import MARK_COLUMNS, SCORE_COLUMNS, marks_frame
from deficits.levels import (
    DECIMALS,
    LEVEL_DEFICIT,
    LEVEL_INSUFFICIENT,
    LEVEL_OK,
    LEVEL_RISK,
    LEVELS,
    validate_thresholds,
)
from deficits.records import GRADE_AVERAGE, GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Thresholds

__all__ = ["AVERAGE_ATTEMPT_ID", "LEVELS", "LEVEL_DEFICIT", "LEVEL_INSUFFICIENT", "LEVEL_OK",
           "LEVEL_RISK", "MARK_COLUMNS", "SCORE_COLUMNS", "check_grademethod", "marks_frame",
           "score", "select_attempts", "validate_thresholds"]

_INT_COLUMNS = ("user_id", "attempt_id", "attempt_no", "time_finish")
_FLOAT_COLUMNS = ("sumgrades", "grade", "maxgrade", "questions")
_DECIMALS = DECIMALS


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the mark columns in their dtypes (ints, floats, str)."""
    dtypes = dict.fromkeys(_INT_COLUMNS, "int64") | dict.fromkeys(_FLOAT_COLUMNS, "float64")
    out = frame.astype(dtypes)
    out["competency"] = out["competency"].astype("str")
    return out


def _keep_attempts(frame: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """Keep, per user, the rows of the whole attempt ranked first by ``by``."""
    attempts = frame[["user_id", "attempt_id", "attempt_no", "sumgrades"]].drop_duplicates(
        ["user_id", "attempt_id"]
    )
    ranked = attempts.sort_values(
        ["user_id", *by, "attempt_id"], ascending=[True, *ascending, True], na_position="last"
    )
    chosen = ranked.drop_duplicates("user_id")[["user_id", "attempt_id"]]
    return frame.merge(chosen, on=["user_id", "attempt_id"], how="inner")


def _average(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean marks per user and competency across attempts (attempt ids set to -1)."""
    grouped = frame.groupby(["user_id", "competency"], as_index=False, sort=True)
    out = grouped.agg(
        sumgrades=("sumgrades", "mean"),
        grade=("grade", "mean"),
        maxgrade=("maxgrade", "mean"),
        questions=("questions", "mean"),
        time_finish=("time_finish", "max"),
    )
    out["attempt_id"] = AVERAGE_ATTEMPT_ID
    out["attempt_no"] = AVERAGE_ATTEMPT_ID
    return out


def select_attempts(frame: pd.DataFrame, grademethod: int) -> pd.DataFrame:
    """Apply the quiz's grading method over whole attempts.

    Highest keeps each user's attempt with the highest ``sumgrades`` (a tie goes to the
    earlier attempt_no), first the lowest attempt_no, last the highest; so one competency
    never mixes attempts. Average gives the mean grade, maxgrade and questions per user and
    competency across attempts, with ``attempt_id`` and ``attempt_no`` -1.

    Args:
        frame: A marks frame (``MARK_COLUMNS``).
        grademethod: ``GRADE_HIGHEST``, ``GRADE_AVERAGE``, ``GRADE_FIRST`` or ``GRADE_LAST``.

    Returns:
        A marks frame with the selected rows, sorted by user_id and competency.

    Raises:
        ValueError: For an unknown grading method.
    """
    if grademethod == GRADE_HIGHEST:
        out = _keep_attempts(frame, ["sumgrades", "attempt_no"], [False, True])
    elif grademethod == GRADE_FIRST:
        out = _keep_attempts(frame, ["attempt_no"], [True])
    elif grademethod == GRADE_LAST:
        out = _keep_attempts(frame, ["attempt_no"], [False])
    elif grademethod == GRADE_AVERAGE:
        out = _average(frame)
    else:
        check_grademethod(grademethod)
    out = _typed(out[list(MARK_COLUMNS)])
    return out.sort_values(["user_id", "competency"], kind="stable").reset_index(drop=True)


def _levels(scores: pd.Series, questions: pd.Series, thresholds: Thresholds) -> np.ndarray:
    """Level per row: insufficient evidence first, then deficit, risk, ok."""
    insufficient = scores.isna() | (questions.round(_DECIMALS) < thresholds.min_questions)
    conditions = [
        insufficient.to_numpy(),
        (scores < thresholds.deficit_below).to_numpy(),
        (scores < thresholds.risk_below).to_numpy(),
    ]
    return np.select(conditions, [LEVEL_INSUFFICIENT, LEVEL_DEFICIT, LEVEL_RISK], LEVEL_OK)


def score(
    frame: pd.DataFrame,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, safe as a default
    grademethod: int = GRADE_HIGHEST,
) -> pd.DataFrame:
    """Score each user's competencies and give each a level.

    ``score`` is grade / maxgrade, clipped to 0..1 and rounded to 9 decimals (so a ratio of
    exactly 0.5 is risk and 0.7 is ok with the default thresholds). Fewer questions than
    ``min_questions``, or a maxgrade of 0, is ``insufficient`` (score NaN for maxgrade 0).

    Args:
        frame: A marks frame (``MARK_COLUMNS``), see ``marks_frame``.
        thresholds: Level thresholds; validated first.
        grademethod: The quiz's grading method, see ``select_attempts``.

    Returns:
        A frame with ``SCORE_COLUMNS`` sorted by user_id and competency.

    Raises:
        ValueError: For invalid thresholds or an unknown grading method.
    """
    validate_thresholds(thresholds)
    chosen = select_attempts(frame, grademethod)
    maxgrade = chosen["maxgrade"].where(chosen["maxgrade"] > 0)
    chosen["score"] = (chosen["grade"] / maxgrade).clip(0.0, 1.0).round(_DECIMALS)
    chosen["level"] = pd.Series(
        _levels(chosen["score"], chosen["questions"], thresholds), index=chosen.index, dtype="str"
    )
    return chosen[list(SCORE_COLUMNS)]
