"""The integer codes under score_with_policy: attempt choice, levels, competencies, no marks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deficits.attempts import attempt_groups, choose_attempts
from deficits.levels import DEFICIT, INSUFFICIENT, LEVELS, OK, RISK
from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, score_with_policy
from deficits.records import GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Mark, Thresholds
from deficits.scoring import marks_frame

POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"PS": Thresholds(0.4, 0.6, 1)},
                         {"subject": Thresholds(0.55, 0.8, 3)})
COMPETENCIES = pd.DataFrame({
    "competency": ["PK-01", "PK-02", "PK-03", "PK-04", "PK-04"],
    "framework": ["PS", "PS", "OTHER", None, "PS"],  # PK-04: the first row wins
    "group": ["subject", "method", "method", "law", "subject"],
})  # PK-05 is not in the table
ATTEMPT_POLICIES = [("first", GRADE_HIGHEST), ("last", GRADE_HIGHEST), ("best", GRADE_LAST),
                    ("average", GRADE_HIGHEST), ("quiz", GRADE_FIRST), ("quiz", GRADE_LAST)]
DTYPES = {"user_id": "int64", "competency": "str", "score": "float64", "grade": "float64",
          "maxgrade": "float64", "questions": "float64", "attempt_id": "int64", "level": "str",
          "framework": "str", "group": "str", "deficit_below": "float64",
          "risk_below": "float64", "min_questions": "float64", "threshold_source": "str"}


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), ATTEMPT_POLICIES)
def test_score_with_policy_of_no_marks(attempt_policy, quiz_method):
    got = score_with_policy(marks_frame([]), COMPETENCIES, POLICY, attempt_policy, quiz_method)
    assert tuple(got.columns) == POLICY_COLUMNS and got.empty
    assert got.dtypes.astype(str).to_dict() == DTYPES


def test_competency_table_with_categorical_competencies():
    # Users 2 and 1, PK-01..PK-05 in a scrambled order, 3 questions each; categories
    # unsorted, one unused.
    frame = marks_frame([Mark(u, f"PK-0{c}", u, 1, 5.0, g, 2.0, 3.0)
                         for u, c, g in [(2, 3, 1.0), (1, 5, 0.9), (2, 1, 2.0), (1, 4, 1.0),
                                         (1, 2, 0.5), (2, 5, 1.4), (1, 1, 1.2)]])
    categorical = frame.assign(competency=pd.Categorical(
        frame["competency"], categories=["PK-05", "PK-01", "PK-04", "PK-03", "PK-02", "X"]))
    got = score_with_policy(categorical, COMPETENCIES, POLICY, "best")
    pd.testing.assert_frame_equal(got, score_with_policy(frame, COMPETENCIES, POLICY, "best"))
    # PK-01 subject 0.55 / 0.8; PK-02 PS 0.4 / 0.6; PK-03 default; PK-04 (first row: no
    # framework, law) default; PK-05 not in the table: default.
    assert got[["user_id", "competency", "score", "level", "threshold_source"]].values.tolist() == [
        [1, "PK-01", 0.6, "risk", "group"], [1, "PK-02", 0.25, "deficit", "framework"],
        [1, "PK-04", 0.5, "risk", "default"], [1, "PK-05", 0.45, "deficit", "default"],
        [2, "PK-01", 1.0, "ok", "group"], [2, "PK-03", 0.5, "risk", "default"],
        [2, "PK-05", 0.7, "ok", "default"]]


# Attempt table of two users, by hand (user, attempt_id, attempt_no, sumgrades):
#   user 1: (1, 30, 2, 7.0), (1, 20, 1, 7.0), (1, 40, 3, NaN)
#   user 2: (2, 50, 1, NaN), (2, 60, 2, NaN)
# highest: user 1 ties 7.0 on nos 1 and 2 → no 1 (attempt 20); NaN ranks last;
#          user 2 only NaN → the lower no (attempt 50).
# first: 20 and 50; last: 40 and 60.
TABLE = (np.array([1, 1, 1, 2, 2]), np.array([30, 20, 40, 50, 60]), np.array([2, 1, 3, 1, 2]),
         np.array([7.0, 7.0, np.nan, np.nan, np.nan]))


@pytest.mark.parametrize(("method", "kept"), [
    (GRADE_HIGHEST, [20, 50]), (GRADE_FIRST, [20, 50]), (GRADE_LAST, [40, 60]),
])
def test_choose_attempts_by_hand(method, kept):
    chosen = choose_attempts(*TABLE, method)
    assert sorted(TABLE[1][chosen].tolist()) == kept


def test_choose_attempts_refuses_average_and_unknown_methods():
    with pytest.raises(ValueError, match="nothing to choose"):
        choose_attempts(*TABLE, 2)
    with pytest.raises(ValueError, match="unknown grading method 7"):
        choose_attempts(*TABLE, 7)


def test_attempt_groups_number_pairs_and_keep_the_first_row():
    # rows: (user, attempt) = (2, 5), (1, 9), (2, 5), (1, 3) → groups (1,3)=0, (1,9)=1, (2,5)=2
    group, first = attempt_groups(np.array([2, 1, 2, 1]), np.array([5, 9, 5, 3]))
    assert group.tolist() == [2, 1, 2, 0]
    assert first.tolist() == [3, 1, 0]  # the earliest row of each group


def test_level_codes_follow_the_order_of_levels():
    assert [LEVELS[c] for c in (DEFICIT, RISK, OK, INSUFFICIENT)] == [
        "deficit", "risk", "ok", "insufficient"]
