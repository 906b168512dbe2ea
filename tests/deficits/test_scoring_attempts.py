"""score_with_policy: thresholds per framework and group with each attempt policy, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, score_with_policy
from deficits.records import GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Mark, Thresholds
from deficits.scoring import marks_frame

NAN = float("nan")
POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"PS": Thresholds(0.4, 0.6, 2)},
                         {"subject": Thresholds(0.6, 0.8, 3)})
COMPETENCIES = pd.DataFrame({"competency": ["L-1", "S-1", "M-1"],
                             "framework": ["PS", "PS", "OTHER"],
                             "group": ["law", "subject", "method"]})
# L-1: framework PS (0.4 / 0.6, min 2); S-1: group subject (0.6 / 0.8, min 3);
# M-1: default (0.5 / 0.7, min 2).


def attempt(user, attempt_id, number, sumgrades, marks):
    """Marks of one attempt: marks = {competency: (grade, maxgrade, questions)}, the sums of
    its graded questions (an ungraded question is in none of the three)."""
    return [Mark(user, comp, attempt_id, number, sumgrades, *sums)
            for comp, sums in marks.items()]


HAND_MARKS = marks_frame([
    # Teacher 1, two attempts; 101 has the higher sumgrades.
    # 101: S-1 1+1+0 of 3; L-1 1+0 of 2; M-1 1+1 of 2.  102: S-1 3/3; L-1 2/2; M-1 0+1 of 2.
    *attempt(1, 101, 1, 5.0, {"S-1": (2, 3, 3), "L-1": (1, 2, 2), "M-1": (2, 2, 2)}),
    *attempt(1, 102, 2, 4.0, {"S-1": (3, 3, 3), "L-1": (2, 2, 2), "M-1": (1, 2, 2)}),
    # Teacher 2, one attempt without sumgrades: S-1 has 2 questions (< 3), M-1 max 0, an
    # ungraded L-1 question is not counted (0.5 + 0 of 2 graded questions).
    *attempt(2, 201, 1, NAN, {"S-1": (2, 2, 2), "L-1": (0.5, 2, 2), "M-1": (0, 0, 2)}),
    # Teacher 3: attempts 301 (no 2) and 302 (no 1) tie on sumgrades; only 301 has L-1.
    *attempt(3, 301, 2, 4.0, {"S-1": (3, 3, 3), "L-1": (2, 2, 2)}),
    *attempt(3, 302, 1, 4.0, {"S-1": (1, 3, 3)}),
])

# (user, competency) → (score, questions, level, attempt_id, threshold source)
BEST = {
    # attempt 101 (5 > 4): S-1 2/3 = 0.666666667, 3 questions ≥ 3, 0.6 ≤ s < 0.8 → risk;
    # L-1 1/2 = 0.5, PS: 0.4 ≤ s < 0.6 → risk; M-1 2/2 = 1.0 → ok.
    (1, "L-1"): (0.5, 2, "risk", 101, "framework"),
    (1, "M-1"): (1.0, 2, "ok", 101, "default"),
    (1, "S-1"): (0.666666667, 3, "risk", 101, "group"),
    # attempt 201 only (NaN sumgrades ranks last, but it is the only one): L-1 0.5/2 = 0.25
    # < 0.4 → deficit; M-1 max 0 → NaN, insufficient;
    # S-1 2/2 = 1.0 but 2 questions < 3 → insufficient.
    (2, "L-1"): (0.25, 2, "deficit", 201, "framework"),
    (2, "M-1"): (NAN, 2, "insufficient", 201, "default"),
    (2, "S-1"): (1.0, 2, "insufficient", 201, "group"),
    # tie 4 = 4 → the lower attempt_no: 302; S-1 1/3 = 0.333333333 < 0.6 → deficit; no L-1
    # row (never taken from attempt 301).
    (3, "S-1"): (0.333333333, 3, "deficit", 302, "group"),
}
LAST = {
    # attempt 102: S-1 3/3 ok; L-1 2/2 ok; M-1 1/2 = 0.5, default 0.5 ≤ s < 0.7 → risk.
    (1, "L-1"): (1.0, 2, "ok", 102, "framework"),
    (1, "M-1"): (0.5, 2, "risk", 102, "default"),
    (1, "S-1"): (1.0, 3, "ok", 102, "group"),
    **{k: v for k, v in BEST.items() if k[0] == 2},
    # attempt no 2 = 301: S-1 3/3 ok; L-1 2/2 ok.
    (3, "L-1"): (1.0, 2, "ok", 301, "framework"),
    (3, "S-1"): (1.0, 3, "ok", 301, "group"),
}
AVERAGE = {
    # S-1 grades (2 + 3) / 2 = 2.5 of (3 + 3) / 2 = 3 → 0.833333333 ≥ 0.8 → ok;
    # L-1 (1 + 2) / 2 = 1.5 of 2 → 0.75 ≥ 0.6 → ok; M-1 (2 + 1) / 2 = 1.5 of 2 → 0.75 → ok.
    (1, "L-1"): (0.75, 2, "ok", -1, "framework"),
    (1, "M-1"): (0.75, 2, "ok", -1, "default"),
    (1, "S-1"): (0.833333333, 3, "ok", -1, "group"),
    **{k: (*v[:3], -1, v[4]) for k, v in BEST.items() if k[0] == 2},
    # L-1 only in attempt 301: its mean is over that one attempt, 2/2 → ok;
    # S-1 (3 + 1) / 2 = 2 of 3 → 0.666666667 → risk.
    (3, "L-1"): (1.0, 2, "ok", -1, "framework"),
    (3, "S-1"): (0.666666667, 3, "risk", -1, "group"),
}


@pytest.mark.parametrize(("attempt_policy", "quiz_method", "expected"), [
    ("best", GRADE_LAST, BEST), ("first", GRADE_HIGHEST, BEST), ("quiz", GRADE_HIGHEST, BEST),
    ("last", GRADE_HIGHEST, LAST), ("quiz", GRADE_LAST, LAST), ("average", GRADE_FIRST, AVERAGE),
])
def test_policies_by_hand(attempt_policy, quiz_method, expected):
    # first = best here: teacher 1's attempt no 1 is 101, teacher 3's is 302.
    out = score_with_policy(HAND_MARKS.sample(frac=1.0, random_state=5), COMPETENCIES, POLICY,
                            attempt_policy, quiz_method)
    assert list(out.columns) == list(POLICY_COLUMNS)
    got = {(r.user_id, r.competency): (r.score, r.questions, r.level, r.attempt_id,
                                       r.threshold_source) for r in out.itertuples()}
    assert list(got) == sorted(expected)
    for key, (score, questions, level, attempt_id, source) in expected.items():
        got_score, *rest = got[key]
        assert (math.isnan(got_score) and math.isnan(score)) or got_score == score, key
        assert tuple(rest) == (questions, level, attempt_id, source), key


def test_a_default_only_policy_needs_no_competency_table():
    policy = ThresholdPolicy(Thresholds(0.4, 0.6, 2))
    plain = score_with_policy(HAND_MARKS, COMPETENCIES.iloc[:0], policy, "best")
    same = score_with_policy(HAND_MARKS, COMPETENCIES, policy, "best")
    assert set(plain["framework"]) == set(plain["group"]) == {""}
    assert set(same["framework"]) == {"PS", "OTHER"}
    pd.testing.assert_frame_equal(plain.drop(columns=["framework", "group"]),
                                  same.drop(columns=["framework", "group"]))
    assert set(same["threshold_source"]) == {"default"}


def test_marks_need_the_attempt_columns():
    frame = HAND_MARKS.drop(columns=["sumgrades", "attempt_no"])
    with pytest.raises(ValueError, match="needs the columns attempt_no, sumgrades"):
        score_with_policy(frame, COMPETENCIES, POLICY, "best")


# (user, attempt_id, attempt_no, sumgrades) of two attempts that tie on every rule but the id
@pytest.mark.parametrize(("attempt_policy", "attempts"), [
    ("first", [(1, 7, 1, 3.0), (1, 5, 1, 4.0)]),  # both are attempt no 1
    ("best", [(1, 9, 2, 4.0), (1, 8, 2, 4.0)]),  # same sumgrades, same number
])
def test_a_remaining_tie_goes_to_the_lower_attempt_id(attempt_policy, attempts):
    frame = marks_frame([Mark(u, "M-1", a, n, s, grade, 2.0, 2.0)
                         for (u, a, n, s), grade in zip(attempts, (2.0, 0.0), strict=True)])
    row = score_with_policy(frame, COMPETENCIES, POLICY, attempt_policy).iloc[0]
    assert (row["attempt_id"], row["score"], row["level"]) == (attempts[1][1], 0.0, "deficit")


def test_a_competency_twice_in_one_attempt_gives_two_rows_in_input_order():
    frame = marks_frame([Mark(1, "M-1", 5, 1, 3.0, 2.0, 2.0, 2.0),
                         Mark(1, "L-1", 5, 1, 3.0, 0.5, 2.0, 2.0),
                         Mark(1, "M-1", 5, 1, 3.0, 0.5, 1.0, 1.0)])
    out = score_with_policy(frame, COMPETENCIES, POLICY, "last")
    assert out[["competency", "score", "questions", "level"]].values.tolist() == [
        ["L-1", 0.25, 2.0, "deficit"], ["M-1", 1.0, 2.0, "ok"], ["M-1", 0.5, 1.0, "insufficient"]]


def test_unknown_attempt_policy_and_grading_method_are_refused():
    with pytest.raises(ValueError, match="unknown attempt policy"):
        score_with_policy(HAND_MARKS, COMPETENCIES, POLICY, "median")
    with pytest.raises(ValueError, match="unknown grading method 0"):
        score_with_policy(HAND_MARKS, COMPETENCIES, POLICY, "quiz", 0)


DTYPES = {"user_id": "int64", "competency": "str", "score": "float64", "grade": "float64",
          "maxgrade": "float64", "questions": "float64", "attempt_id": "int64", "level": "str",
          "framework": "str", "group": "str", "deficit_below": "float64",
          "risk_below": "float64", "min_questions": "float64", "threshold_source": "str"}


@pytest.mark.parametrize(("attempt_policy", "quiz_method"),
                         [("best", GRADE_HIGHEST), ("average", GRADE_HIGHEST),
                          ("quiz", GRADE_LAST)])
def test_no_rows_give_an_empty_typed_frame(attempt_policy, quiz_method):
    out = score_with_policy(HAND_MARKS.iloc[:0], COMPETENCIES, POLICY, attempt_policy,
                            quiz_method)
    assert out.empty
    assert out.dtypes.astype(str).to_dict() == DTYPES
