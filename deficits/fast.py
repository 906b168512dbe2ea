"""Vectorised core of the scoring rules: integer codes, attempt choice, per-competency levels.

``deficits.policy.score_with_policy`` (marks per attempt and competency) and
``deficits.items.score_items`` (marks per question) both use these functions, so the rules
exist once; ``deficits.scoring`` keeps the plain pandas reference they are tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deficits.records import GRADE_AVERAGE, GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Thresholds
from deficits.scoring import AVERAGE_ATTEMPT_ID, LEVELS, check_grademethod

DEFICIT, RISK, OK, INSUFFICIENT = range(4)  # codes of deficits.scoring.LEVELS, in its order
SOURCE_DEFAULT = "default"  # where a competency's thresholds come from
SOURCE_FRAMEWORK = "framework"
SOURCE_GROUP = "group"
DECIMALS = 9  # as deficits.scoring: 7/10 and 2.1/3 both count as 0.7


def competency_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a competency column numbered in sorted name order, and the sorted names.

    The codes are int16 when there are fewer than 32,768 competencies (intp otherwise).

    Raises:
        ValueError: When a competency is missing (an unmapped question is never scored).
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        names = np.asarray(column.cat.categories.astype(str), dtype=object)
        order = np.argsort(names, kind="stable")
        rank = np.empty(len(names), dtype=_small_int(len(names)))
        rank[order] = np.arange(len(names))
        names = names[order]
        mapped = rank[codes]
    else:
        mapped, uniques = pd.factorize(column, sort=True)
        codes = mapped
        names = np.asarray(uniques, dtype=object)
        mapped = mapped.astype(_small_int(len(names)), copy=False)
    if len(codes) and codes.min() < 0:
        raise ValueError("rows without a competency: map every question before scoring")
    return mapped, names


def _small_int(count: int) -> type[np.integer]:
    """int16 when ``count`` codes fit in it, else intp."""
    return np.int16 if count < np.iinfo(np.int16).max else np.intp


def user_codes(user_id: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Sorted user codes (a fresh intp array), their number, and the ids (None: code + min).

    Dense ids (span no more than an eighth of the rows) are indexed directly, without hashing.
    """
    if not len(user_id):
        return np.empty(0, dtype=np.intp), 0, np.empty(0, dtype=np.int64)
    low, high = int(user_id.min()), int(user_id.max())
    span = high - low + 1
    if span <= max(len(user_id) // 8, 1 << 16):
        codes = user_id.astype(np.intp)  # a copy, used in place as the group key
        codes -= low
        return codes, span, None
    codes, uniques = pd.factorize(user_id, sort=True)
    return codes.astype(np.intp, copy=False), len(uniques), np.asarray(uniques)


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

    @classmethod
    def uniform(cls, names: np.ndarray, thresholds: Thresholds,
                min_questions: float | None = None) -> CompetencyTable:
        """The same thresholds for every competency (framework and group "", source default)."""
        minimum = thresholds.min_questions if min_questions is None else min_questions
        width = len(names)
        blank = np.full(width, "", dtype=object)
        return cls(np.asarray(names, dtype=object), blank, blank,
                   np.full(width, thresholds.deficit_below, dtype=np.float64),
                   np.full(width, thresholds.risk_below, dtype=np.float64),
                   np.full(width, minimum, dtype=np.float64),
                   np.full(width, SOURCE_DEFAULT, dtype=object))


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


def attempt_groups(user: np.ndarray, attempt_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by (user, attempt_id): the group of each row, and each group's first row.

    Groups are numbered in (user, attempt_id) order; "first" is the earliest row in the input.
    """
    if not len(user):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    order = np.lexsort((attempt_id, user))  # stable: equal keys keep the input order
    sorted_user, sorted_attempt = user[order], attempt_id[order]
    start = np.empty(len(order), dtype=bool)
    start[0] = True
    start[1:] = (sorted_user[1:] != sorted_user[:-1]) | (sorted_attempt[1:] != sorted_attempt[:-1])
    group = np.empty(len(order), dtype=np.intp)
    group[order] = np.cumsum(start) - 1
    return group, order[start]


def choose_attempts(user: np.ndarray, attempt_id: np.ndarray, attempt_no: np.ndarray,
                    sumgrades: np.ndarray, grademethod: int) -> np.ndarray:
    """Which attempt each user keeps, from a table with one row per (user, attempt).

    Highest: the highest sumgrades (NaN last), a tie to the lower attempt_no; first: the
    lowest attempt_no; last: the highest; any remaining tie to the lower attempt_id — the
    order of ``deficits.scoring.select_attempts``.

    Returns:
        A boolean array over the table's rows, True for the one kept row per user.

    Raises:
        ValueError: For average (not a choice of one attempt) or an unknown method.
    """
    check_grademethod(grademethod)
    attempt_no = attempt_no.astype(np.int64, copy=False)
    if grademethod == GRADE_HIGHEST:
        keys = (attempt_id, attempt_no, -sumgrades.astype(np.float64, copy=False), user)
    elif grademethod == GRADE_FIRST:
        keys = (attempt_id, attempt_no, user)
    elif grademethod == GRADE_LAST:
        keys = (attempt_id, -attempt_no, user)
    else:
        raise ValueError("the average over attempts keeps every attempt: nothing to choose")
    order = np.lexsort(keys)
    ranked_user = user[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ranked_user[1:] != ranked_user[:-1]
    chosen = np.zeros(len(order), dtype=bool)
    chosen[order[first]] = True
    return chosen


def _mark_arrays(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The marks frame as typed arrays (competency as sorted codes), and the names."""
    column = frame["competency"]
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("str")
    comp, names = competency_codes(column)
    arrays = {"comp": comp}
    for name in ("user_id", "attempt_id", "attempt_no"):
        arrays[name] = frame[name].astype("int64").to_numpy()
    for name in ("sumgrades", "grade", "maxgrade", "questions"):
        arrays[name] = frame[name].astype("float64").to_numpy()
    return arrays, names


def _chosen(marks: dict[str, np.ndarray], grademethod: int) -> dict[str, np.ndarray]:
    """The rows of each user's chosen attempt, sorted by user, competency, then input order."""
    user, attempt_id = marks["user_id"], marks["attempt_id"]
    group, first = attempt_groups(user, attempt_id)
    chosen = choose_attempts(user[first], attempt_id[first], marks["attempt_no"][first],
                             marks["sumgrades"][first], grademethod)
    keep = np.flatnonzero(chosen[group])
    order = keep[np.lexsort((marks["comp"][keep], user[keep]))]
    return {name: values[order] for name, values in marks.items()}


def _averaged(marks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean grade, maxgrade and questions per user and competency (attempt_id -1)."""
    values = pd.DataFrame({name: marks[name] for name in ("grade", "maxgrade", "questions")})
    means = values.groupby([marks["user_id"], marks["comp"]], sort=True).mean()
    out = {name: means[name].to_numpy() for name in ("grade", "maxgrade", "questions")}
    out["user_id"] = means.index.get_level_values(0).to_numpy()
    out["comp"] = means.index.get_level_values(1).to_numpy()
    out["attempt_id"] = np.full(len(means), AVERAGE_ATTEMPT_ID, dtype=np.int64)
    return out


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
        frame: A marks frame (``deficits.scoring.MARK_COLUMNS``).
        grademethod: The grading method, see ``deficits.scoring.select_attempts``.
        table_for: Gives the thresholds table for the sorted competency names.

    Returns:
        The ``deficits.policy.POLICY_COLUMNS`` frame sorted by user_id and competency (rows
        of one user and competency in input order).

    Raises:
        ValueError: For an unknown grading method or a mark without a competency.
    """
    check_grademethod(grademethod)
    marks, names = _mark_arrays(frame)
    marks = _averaged(marks) if grademethod == GRADE_AVERAGE else _chosen(marks, grademethod)
    return _policy_frame(marks, table_for(names))
