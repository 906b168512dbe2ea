"""Competency scores and deficit levels from marks per attempt and competency, vectorised.

Attempts are chosen on the small attempt table (``deficits.attempts``), competencies and
levels are integer codes, thresholds are resolved once per competency and indexed by its code.
``deficits.policy.score_with_policy`` is the entry point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deficits.attempts import averaged_rows, check_grademethod, chosen_rows
from deficits.levels import (  # the LEVEL_* names: re-exported, see __all__
    DECIMALS,
    DEFICIT,
    INSUFFICIENT,
    LEVEL_DEFICIT,
    LEVEL_INSUFFICIENT,
    LEVEL_OK,
    LEVEL_RISK,
    LEVELS,
    OK,
    RISK,
)
from deficits.records import GRADE_AVERAGE, Mark

# The level names are deficits.levels'; app/ still imports LEVEL_DEFICIT from here.
__all__ = ["LEVELS", "LEVEL_DEFICIT", "LEVEL_INSUFFICIENT", "LEVEL_OK", "LEVEL_RISK",
           "MARK_COLUMNS", "SCORE_COLUMNS", "SOURCE_DEFAULT", "SOURCE_FRAMEWORK", "SOURCE_GROUP",
           "CompetencyTable", "competency_codes", "level_codes", "marks_frame", "ratio",
           "score_marks"]

MARK_COLUMNS = (
    "user_id", "competency", "attempt_id", "attempt_no", "sumgrades",
    "grade", "maxgrade", "questions", "time_finish",
)
SCORE_COLUMNS = (
    "user_id", "competency", "score", "grade", "maxgrade", "questions", "attempt_id", "level",
)
SOURCE_DEFAULT = "default"  # where a competency's thresholds come from
SOURCE_FRAMEWORK = "framework"
SOURCE_GROUP = "group"

_INT_COLUMNS = ("user_id", "attempt_id", "attempt_no", "time_finish")
_FLOAT_COLUMNS = ("sumgrades", "grade", "maxgrade", "questions")


def marks_frame(marks: Iterable[Mark]) -> pd.DataFrame:
    """Build the marks frame the scoring functions take.

    Args:
        marks: Marks, e.g. from ``deficits.mapping.marks_from_attempt``.

    Returns:
        One row per mark with columns ``MARK_COLUMNS`` (empty but typed when no marks):
        ints as int64, marks as float64, competency as str.
    """
    rows = [tuple(getattr(m, c) for c in MARK_COLUMNS) for m in marks]
    frame = pd.DataFrame.from_records(rows, columns=list(MARK_COLUMNS))
    dtypes = dict.fromkeys(_INT_COLUMNS, "int64") | dict.fromkeys(_FLOAT_COLUMNS, "float64")
    out = frame.astype(dtypes)
    out["competency"] = out["competency"].astype("str")
    return out


def competency_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a competency column numbered in sorted name order, and the sorted names.

    The codes are int16 when there are fewer than 32,768 competencies (intp otherwise).

    Raises:
        ValueError: When a competency is missing (an unmapped question is never scored).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        names = np.asarray(column.cat.categories.astype(str), dtype=object)
    else:
        codes, uniques = pd.factorize(column, sort=True)
        names = np.asarray(uniques, dtype=object)
    if len(codes) and codes.min() < 0:
        raise ValueError("rows without a competency: map every question before scoring")
    if isinstance(column.dtype, pd.CategoricalDtype):  # categories in any order: sort them
        order = np.argsort(names, kind="stable")
        rank = np.empty(len(names), dtype=_small_int(len(names)))
        rank[order] = np.arange(len(names))
        return rank[codes], names[order]
    return codes.astype(_small_int(len(names)), copy=False), names


def _small_int(count: int) -> type[np.integer]:
    """int16 when ``count`` codes fit in it, else intp."""
    return np.int16 if count < np.iinfo(np.int16).max else np.intp


@dataclass(frozen=True)
class CompetencyTable:
    """Per competency code (sorted names): framework, group, thresholds and their source."""

    names: np.ndarray
    framework: np.ndarray
    group: np.ndarray
    deficit_below: np.ndarray
    risk_below: np.ndarray
    min_questions: np.ndarray
    source: np.ndarray


def ratio(grade: np.ndarray, maxgrade: np.ndarray) -> np.ndarray:
    """grade / maxgrade clipped to 0..1 and rounded to 9 decimals; NaN where maxgrade <= 0."""
    positive = maxgrade > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(positive, grade / np.where(positive, maxgrade, 1.0), np.nan)
    return np.round(np.clip(out, 0.0, 1.0), DECIMALS)


def level_codes(score: np.ndarray, questions: np.ndarray, comp: np.ndarray,
                table: CompetencyTable) -> np.ndarray:
    """Level code per row with its competency's thresholds: insufficient evidence first
    (score NaN, or fewer questions than the minimum after rounding), then deficit, risk, ok.
    """
    if questions.dtype.kind == "f":
        questions = np.round(questions, DECIMALS)
    codes = np.full(len(score), OK, dtype=np.int8)
    codes[score < table.risk_below[comp]] = RISK
    codes[score < table.deficit_below[comp]] = DEFICIT
    codes[np.isnan(score) | (questions < table.min_questions[comp])] = INSUFFICIENT
    return codes


def _mark_arrays(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The marks frame as typed arrays (competency as sorted codes), and the names.

    Raises:
        ValueError: When a column is missing, or a mark has no competency.
    """
    missing = [c for c in MARK_COLUMNS[:-1] if c not in frame.columns]  # time_finish unread
    if missing:
        raise ValueError(f"a marks frame needs the columns {', '.join(missing)}")
    column = frame["competency"]
    if not isinstance(column.dtype, pd.CategoricalDtype):
        if column.hasnans:  # astype would turn a missing competency into the text "None"
            raise ValueError("rows without a competency: map every question before scoring")
        column = column.astype("str")
    comp, names = competency_codes(column)
    arrays = {"comp": comp}
    for name in ("user_id", "attempt_id", "attempt_no"):
        arrays[name] = frame[name].astype("int64").to_numpy()
    for name in ("sumgrades", "grade", "maxgrade", "questions"):
        arrays[name] = frame[name].astype("float64").to_numpy()
    return arrays, names


def _policy_frame(marks: dict[str, np.ndarray], table: CompetencyTable) -> pd.DataFrame:
    """The ``POLICY_COLUMNS`` frame: scores, levels and each competency's thresholds."""
    comp = marks["comp"]
    score = ratio(marks["grade"], marks["maxgrade"])
    level = level_codes(score, marks["questions"], comp, table)
    return pd.DataFrame({
        "user_id": marks["user_id"],
        "competency": pd.Series(table.names[comp], dtype="str"),
        "score": score,
        **{name: marks[name] for name in ("grade", "maxgrade", "questions", "attempt_id")},
        "level": pd.Series(np.asarray(LEVELS, dtype=object)[level], dtype="str"),
        "framework": pd.Series(table.framework[comp], dtype="str"),
        "group": pd.Series(table.group[comp], dtype="str"),
        "deficit_below": table.deficit_below[comp],
        "risk_below": table.risk_below[comp],
        "min_questions": table.min_questions[comp],
        "threshold_source": pd.Series(table.source[comp], dtype="str"),
    })


def score_marks(frame: pd.DataFrame, grademethod: int,
                table_for: Callable[[np.ndarray], CompetencyTable]) -> pd.DataFrame:
    """Choose attempts (or average them), score and level a marks frame.

    Args:
        frame: A marks frame (``MARK_COLUMNS``, see ``marks_frame``); the competency may
            be categorical.
        grademethod: The grading method (``deficits.records.GRADE_*``): highest, first and
            last keep each user's one whole attempt (``deficits.attempts.choose_attempts``),
            average takes the mean per competency across attempts (attempt_id -1).
        table_for: Gives the thresholds table for the sorted competency names.

    Returns:
        The ``deficits.policy.POLICY_COLUMNS`` frame sorted by user_id and competency (rows
        of one user and competency in input order).

    Raises:
        ValueError: For an unknown grading method, a missing column or a mark without a
            competency.
    """
    check_grademethod(grademethod)
    marks, names = _mark_arrays(frame)
    marks = (averaged_rows(marks) if grademethod == GRADE_AVERAGE
             else chosen_rows(marks, grademethod))
    return _policy_frame(marks, table_for(names))
