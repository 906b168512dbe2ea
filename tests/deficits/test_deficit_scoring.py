"""Attempt selection by grading method, scores and levels with thresholds (score_with_policy)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.mapping import marks_from_attempt
from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, score_with_policy
from deficits.records import (
    GRADE_AVERAGE,
    GRADE_FIRST,
    GRADE_HIGHEST,
    GRADE_LAST,
    ItemMark,
    Mark,
    QuizAttempt,
    Thresholds,
)
from deficits.scoring import MARK_COLUMNS, SCORE_COLUMNS, marks_frame

NO_COMPETENCIES = pd.DataFrame({"competency": [], "framework": [], "group": []}, dtype="str")


def score(frame: pd.DataFrame, thresholds: Thresholds = Thresholds(),
          grademethod: int = GRADE_HIGHEST) -> pd.DataFrame:
    """One set of thresholds for every competency, attempts chosen by the quiz's method."""
    return score_with_policy(frame, NO_COMPETENCIES, ThresholdPolicy(thresholds), "quiz",
                             grademethod)


def m(user: int, comp: str, attempt: int, no: int, sumgrades: float, grade: float,
      maxgrade: float = 2.0, questions: float = 2.0) -> Mark:
    return Mark(user, comp, attempt, no, sumgrades, grade, maxgrade, questions, 1000 + no)


# User 1 took the quiz three times; each attempt has both competencies.
#   attempt 10 (no 1, sumgrades 6): PK-01 2/2, PK-02 0/2
#   attempt 11 (no 2, sumgrades 8): PK-01 0/2, PK-02 2/2
#   attempt 12 (no 3, sumgrades 8): PK-01 1/2, PK-02 2/2   (ties attempt 11 on sumgrades)
# User 2 took it once: attempt 20 (no 1, sumgrades 3): PK-01 1/2.
ATTEMPTS = [
    m(1, "PK-01", 10, 1, 6, 2), m(1, "PK-02", 10, 1, 6, 0),
    m(1, "PK-01", 11, 2, 8, 0), m(1, "PK-02", 11, 2, 8, 2),
    m(1, "PK-01", 12, 3, 8, 1), m(1, "PK-02", 12, 3, 8, 2),
    m(2, "PK-01", 20, 1, 3, 1),
]


def scores_of(frame: pd.DataFrame) -> dict[tuple[int, str], tuple[float, int]]:
    return {(r.user_id, r.competency): (r.score, r.attempt_id) for r in frame.itertuples()}


def test_marks_frame_columns_and_empty():
    frame = marks_frame(ATTEMPTS)
    assert tuple(frame.columns) == MARK_COLUMNS
    assert frame.dtypes.astype(str).tolist() == [
        "int64", "str", "int64", "int64", "float64", "float64", "float64", "float64", "int64"]
    assert frame.iloc[0].tolist() == [1, "PK-01", 10, 1, 6.0, 2.0, 2.0, 2.0, 1001]
    empty = marks_frame([])
    assert tuple(empty.columns) == MARK_COLUMNS and empty.empty
    assert empty.dtypes.to_dict() == frame.dtypes.to_dict()
    scored = score(empty)
    assert tuple(scored.columns) == POLICY_COLUMNS and scored.empty
    assert POLICY_COLUMNS[:len(SCORE_COLUMNS)] == SCORE_COLUMNS


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # highest: attempts 11 and 12 tie at 8 → the earlier (no 2, attempt 11): 0/2, 2/2.
        # Mixing attempts would have given PK-01 2/2 from attempt 10: it must not.
        (GRADE_HIGHEST, {(1, "PK-01"): (0.0, 11), (1, "PK-02"): (1.0, 11), (2, "PK-01"): (0.5, 20)}),
        # first: attempt no 1 = attempt 10: 2/2, 0/2.
        (GRADE_FIRST, {(1, "PK-01"): (1.0, 10), (1, "PK-02"): (0.0, 10), (2, "PK-01"): (0.5, 20)}),
        # last: attempt no 3 = attempt 12: 1/2, 2/2.
        (GRADE_LAST, {(1, "PK-01"): (0.5, 12), (1, "PK-02"): (1.0, 12), (2, "PK-01"): (0.5, 20)}),
        # average: PK-01 mean grade (2+0+1)/3 = 1 of 2 → 0.5; PK-02 (0+2+2)/3 = 4/3 of 2 →
        # 0.666666667 (rounded to 9 decimals); attempt_id -1.
        (GRADE_AVERAGE, {(1, "PK-01"): (0.5, -1), (1, "PK-02"): (0.666666667, -1),
                         (2, "PK-01"): (0.5, -1)}),
    ],
)
def test_grade_methods_select_whole_attempts(method: int, expected: dict[object, object]):
    assert scores_of(score(marks_frame(ATTEMPTS), grademethod=method)) == expected


@pytest.mark.parametrize("method", [GRADE_HIGHEST, GRADE_FIRST, GRADE_LAST, GRADE_AVERAGE])
def test_row_order_does_not_change_the_selection(method: int):
    frame = marks_frame(ATTEMPTS)
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert shuffled.index.tolist() != frame.index.tolist()
    pd.testing.assert_frame_equal(score(frame, grademethod=method),
                                  score(shuffled, grademethod=method))


def test_scores_keep_the_chosen_marks_and_sort():
    chosen = score(marks_frame(ATTEMPTS[::-1]), grademethod=GRADE_HIGHEST)
    assert tuple(chosen.columns) == POLICY_COLUMNS
    # Attempt 11's marks as they were (grade, maxgrade, questions), sorted by user, competency.
    assert chosen[["user_id", "competency", "grade", "maxgrade", "questions",
                   "attempt_id"]].values.tolist() == [
        [1, "PK-01", 0.0, 2.0, 2.0, 11], [1, "PK-02", 2.0, 2.0, 2.0, 11],
        [2, "PK-01", 1.0, 2.0, 2.0, 20]]


def test_highest_never_mixes_competencies_of_attempts():
    # Attempt 30 has the higher sumgrades but no PK-02 mark: PK-02 of attempt 31 is not used.
    frame = marks_frame([m(5, "PK-01", 30, 1, 9, 2), m(5, "PK-01", 31, 2, 4, 0),
                         m(5, "PK-02", 31, 2, 4, 2)])
    assert scores_of(score(frame)) == {(5, "PK-01"): (1.0, 30)}


def test_unknown_grade_method_is_refused():
    with pytest.raises(ValueError, match="unknown grading method 9"):
        score(marks_frame(ATTEMPTS), grademethod=9)


def test_in_progress_attempt_is_ignored_even_under_last():
    finished = QuizAttempt(40, 3, 6, 1, "finished", 0, 100, 1.5,
                           item_marks=(ItemMark("PK-01 A", 1.5, 2.0),))
    # Attempt no 2 is in progress: sumgrades null, every item 0. Scoring it would show a deficit.
    running = QuizAttempt(41, 3, 6, 2, "inprogress", 200, 0, None,
                          item_marks=(ItemMark("PK-01 A", 0.0, 2.0),))
    marks = [mk for a in (finished, running)
             for mk in marks_from_attempt(a, known=["PK-01"], item_map=None, slot_map=None)[0]]
    levels = score(marks_frame(marks), grademethod=GRADE_LAST)
    # Only attempt 40 counts: 1.5 / 2 = 0.75 → ok.
    assert levels[["attempt_id", "score", "level"]].values.tolist() == [[40, 0.75, "ok"]]


@pytest.mark.parametrize(
    ("grade", "maxgrade", "questions", "expected_score", "expected_level"),
    [
        (0.98, 2, 2, 0.49, "deficit"),  # 0.98 / 2 = 0.49 < 0.5
        (1.0, 2, 2, 0.5, "risk"),  # exactly 0.5 is not a deficit
        (1.38, 2, 2, 0.69, "risk"),  # 0.69 < 0.7
        (1.4, 2, 2, 0.7, "ok"),  # exactly 0.7 is ok
        (0.7 * 3, 3, 3, 0.7, "ok"),  # 2.0999999999999996 / 3 rounds to 0.7: still ok
        (0.0, 2, 2, 0.0, "deficit"),
        (2.0, 2, 2, 1.0, "ok"),
        (1.0, 1, 1, 1.0, "insufficient"),  # 1 question < 2: not enough evidence
        (0.0, 1, 1, 0.0, "insufficient"),  # never a deficit on too little evidence
        (0.0, 0, 0, math.nan, "insufficient"),  # maxgrade 0 (all slots ungraded)
        (0.0, 0, 4, math.nan, "insufficient"),  # maxgrade 0 even with questions
        (3.0, 2, 2, 1.0, "ok"),  # clipped to 1
    ],
)
def test_levels_and_boundaries(grade: float, maxgrade: float, questions: float,
                               expected_score: float, expected_level: str):
    row = score(marks_frame([m(1, "PK-01", 1, 1, 1, grade, maxgrade, questions)])).iloc[0]
    assert row["level"] == expected_level
    if math.isnan(expected_score):
        assert math.isnan(row["score"])
    else:
        assert row["score"] == expected_score


@pytest.mark.parametrize(
    ("thresholds", "grade", "expected"),
    [
        (Thresholds(0.4, 0.6, 1), 0.9, "risk"),  # 0.9/2 = 0.45: between 0.4 and 0.6
        (Thresholds(0.4, 0.6, 1), 0.78, "deficit"),  # 0.39 < 0.4
        (Thresholds(0.6, 0.6, 2), 1.18, "deficit"),  # no risk band: 0.59 < 0.6
        (Thresholds(0.6, 0.6, 2), 1.2, "ok"),  # 0.6 → ok
        (Thresholds(0.5, 0.7, 0), 1.0, "risk"),  # min_questions 0: 1 question is enough
        (Thresholds(0.5, 0.7, 3), 2.0, "insufficient"),  # 2 questions < 3
    ],
)
def test_custom_thresholds(thresholds: Thresholds, grade: float, expected: str):
    # One PK-01 mark out of 2 marks standing for 2 questions (1 when min_questions is 0/1).
    questions = 1.0 if thresholds.min_questions < 2 else 2.0
    frame = marks_frame([m(1, "PK-01", 1, 1, 1, grade, 2.0, questions)])
    assert score(frame, thresholds)["level"].tolist() == [expected]


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        (Thresholds(0.8, 0.7, 2), "must not exceed risk_below"),
        (Thresholds(-0.1, 0.7, 2), "deficit_below must be a share between 0 and 1"),
        (Thresholds(0.5, 1.1, 2), "risk_below must be a share between 0 and 1"),
        (Thresholds(0.5, 0.7, -1), "min_questions must be 0 or more"),
        (Thresholds(math.nan, 0.7, 2), "deficit_below must be a share"),
        (Thresholds(0.5, 0.7, math.nan), "min_questions must be 0 or more"),
    ],
)
def test_invalid_thresholds_are_refused(thresholds: Thresholds, message: str):
    with pytest.raises(ValueError, match=message):
        ThresholdPolicy(thresholds)


def test_average_questions_is_the_mean_over_attempts():
    # PK-01 from 2 slots in attempt 1 and 1 graded slot in attempt 2: mean questions 1.5 < 2.
    frame = marks_frame([m(1, "PK-01", 1, 1, 1, 2, 2, 2), m(1, "PK-01", 2, 2, 1, 1, 1, 1)])
    row = score(frame, grademethod=GRADE_AVERAGE).iloc[0]
    assert (row["questions"], row["level"]) == (1.5, "insufficient")
