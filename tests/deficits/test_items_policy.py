"""score_items with a threshold policy and an attempt policy gives score_with_policy's levels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deficits.items import ATTEMPT_COLUMNS, ITEM_LEVEL_COLUMNS, score_items
from deficits.policy import ThresholdPolicy, score_with_policy
from deficits.records import GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Mark, Thresholds
from deficits.scoring import marks_frame

NAN = float("nan")
COLUMNS = ["user_id", "attempt_id", "attempt_no", "sumgrades", "competency", "mark", "max_mark"]
POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"PS": Thresholds(0.4, 0.6, 2)},
                         {"subject": Thresholds(0.6, 0.8, 3)})
COMPETENCIES = pd.DataFrame({"competency": ["L-1", "S-1", "M-1"],
                             "framework": ["PS", "PS", "OTHER"],
                             "group": ["law", "subject", "method"]})
# L-1: framework PS (0.4 / 0.6, min 2); S-1: group subject (0.6 / 0.8, min 3);
# M-1: default (0.5 / 0.7, min 2).


def items_of(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.insert(1, "question", np.arange(len(frame)))
    return frame


def attempt(user, attempt_id, number, sumgrades, marks):
    """Rows of one attempt: marks = {competency: [(mark, max_mark), ...]}."""
    return [(user, attempt_id, number, sumgrades, comp, m, mx)
            for comp, pairs in marks.items() for m, mx in pairs]


ONE = [(1, 1), (1, 1)]
HAND_ITEMS = items_of([
    # Teacher 1, two attempts; 101 has the higher sumgrades.
    *attempt(1, 101, 1, 5.0, {"S-1": [(1, 1), (1, 1), (0, 1)], "L-1": [(1, 1), (0, 1)],
                              "M-1": [(1, 1), (1, 1)]}),
    *attempt(1, 102, 2, 4.0, {"S-1": [(1, 1), (1, 1), (1, 1)], "L-1": [(1, 1), (1, 1)],
                              "M-1": [(0, 1), (1, 1)]}),
    # Teacher 2, one attempt without sumgrades: S-1 has 2 questions (< 3), M-1 max 0,
    # an ungraded L-1 question (NaN) is not counted.
    *attempt(2, 201, 1, NAN, {"S-1": ONE, "L-1": [(0.5, 1), (NAN, 1), (0, 1)],
                              "M-1": [(0, 0), (0, 0)]}),
    # Teacher 3: attempts 301 (no 2) and 302 (no 1) tie on sumgrades; only 301 has L-1.
    *attempt(3, 301, 2, 4.0, {"S-1": [(1, 1), (1, 1), (1, 1)], "L-1": ONE}),
    *attempt(3, 302, 1, 4.0, {"S-1": [(0, 1), (0, 1), (1, 1)]}),
])

# (user, competency) → (score, questions, level, attempt_id, threshold source)
BEST = {
    # attempt 101 (5 > 4): S-1 2/3 = 0.666666667, 3 questions ≥ 3, 0.6 ≤ s < 0.8 → risk;
    # L-1 1/2 = 0.5, PS: 0.4 ≤ s < 0.6 → risk; M-1 2/2 = 1.0 → ok.
    (1, "L-1"): (0.5, 2, "risk", 101, "framework"),
    (1, "M-1"): (1.0, 2, "ok", 101, "default"),
    (1, "S-1"): (0.666666667, 3, "risk", 101, "group"),
    # attempt 201 only (NaN sumgrades ranks last, but it is the only one): L-1 0.5/2 = 0.25
    # < 0.4 → deficit (the NaN mark dropped: 2 questions); M-1 max 0 → NaN, insufficient;
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
def test_score_items_with_policies_by_hand(attempt_policy, quiz_method, expected):
    # first = best here: teacher 1's attempt no 1 is 101, teacher 3's is 302.
    out = score_items(HAND_ITEMS, policy=POLICY, competencies=COMPETENCIES,
                      attempt_policy=attempt_policy, quiz_grademethod=quiz_method)
    assert list(out.columns) == [*ITEM_LEVEL_COLUMNS, "attempt_id", "threshold_source"]
    got = {(r.user_id, r.competency): (r.score, r.questions, r.level, r.attempt_id,
                                       r.threshold_source) for r in out.itertuples()}
    assert list(got) == sorted(expected)
    for key, (score, questions, level, attempt_id, source) in expected.items():
        got_score, *rest = got[key]
        assert (math.isnan(got_score) and math.isnan(score)) or got_score == score, key
        assert tuple(rest) == (questions, level, attempt_id, source), key


def random_items(seed: int, sparse_ids: bool, far_attempt_no: bool = False) -> pd.DataFrame:
    """Teachers with 1-3 attempts (numbers with gaps, tied and NaN sumgrades), 18 questions
    over 6 competencies, skipped and ungraded questions, max 0; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    attempt_id = 5000
    for index in range(30):
        user = 10**12 + 31 * index if sparse_ids else index + 1
        numbers = rng.choice(np.arange(1, 6), size=int(rng.integers(1, 4)), replace=False)
        if far_attempt_no and index == 0:
            numbers = np.array([1, 9000])  # far apart: the attempt cells are factorized
        for number in numbers:
            attempt_id += int(rng.integers(1, 9))
            sumgrades = float(rng.choice([7.0, 8.0, 8.0, NAN]))
            for question in range(18):
                if rng.random() < 0.3:
                    continue  # not in this attempt
                mark = float(rng.choice([0, 0.5, 1, 1.5, NAN], p=[0.3, 0.2, 0.3, 0.1, 0.1]))
                max_mark = 0.0 if question % 6 == 5 and index % 4 == 0 else \
                    float(rng.choice([1.0, 2.0]))
                rows.append((user, attempt_id, int(number), sumgrades,
                             f"C-{question % 6}", mark, max_mark))
    frame = items_of(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    frame["competency"] = frame["competency"].astype("category")
    frame["mark"] = frame["mark"].astype("float32")
    return frame


RANDOM_POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"F2": Thresholds(0.35, 0.6, 1)},
                                {"subject": Thresholds(0.6, 0.85, 4)})
RANDOM_COMPETENCIES = pd.DataFrame({
    "competency": ["C-0", "C-1", "C-2", "C-3", "C-4"],  # C-5 missing: default
    "framework": ["F1", "F1", "F2", "F2", "F1"],
    "group": ["subject", "law", "subject", "method", "psych"],
})


def marks_reference(items, attempt_policy, quiz_method):
    """Sum the marks per (user, attempt, competency) into Marks, then score_with_policy."""
    graded = items[items["mark"].notna()].astype({"competency": "str"})
    sums = graded.groupby(["user_id", "attempt_id", "attempt_no", "sumgrades", "competency"],
                          dropna=False).agg(grade=("mark", "sum"), maxgrade=("max_mark", "sum"),
                                            questions=("mark", "size"))
    marks = [Mark(u, c, a, n, s, r.grade, r.maxgrade, r.questions)
             for (u, a, n, s, c), r in sums.iterrows()]
    return score_with_policy(marks_frame(marks), RANDOM_COMPETENCIES, RANDOM_POLICY,
                             attempt_policy, quiz_method)


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), [
    ("best", GRADE_FIRST), ("first", GRADE_HIGHEST), ("last", GRADE_HIGHEST),
    ("average", GRADE_HIGHEST), ("quiz", GRADE_LAST),
])
@pytest.mark.parametrize(("sparse_ids", "far_attempt_no"),
                         [(False, False), (True, False), (False, True)],
                         ids=["dense", "sparse ids", "far attempt numbers"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_score_items_equals_marks_summed_then_score_with_policy(
        seed, sparse_ids, far_attempt_no, attempt_policy, quiz_method):
    items = random_items(seed, sparse_ids, far_attempt_no)
    got = score_items(items, policy=RANDOM_POLICY, competencies=RANDOM_COMPETENCIES,
                      attempt_policy=attempt_policy, quiz_grademethod=quiz_method)
    want = marks_reference(items, attempt_policy, quiz_method)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["competency"].astype(str).tolist() == want["competency"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    np.testing.assert_array_equal(got["questions"].to_numpy(), want["questions"].to_numpy())
    assert got["level"].astype(str).tolist() == want["level"].tolist()
    assert got["attempt_id"].tolist() == want["attempt_id"].tolist()
    assert got["threshold_source"].astype(str).tolist() == want["threshold_source"].tolist()
    assert set(want["level"]) == {"deficit", "risk", "ok", "insufficient"}
    assert want["score"].isna().any()  # the max-0 competency


def test_no_policy_and_no_attempts_keep_the_scalar_behaviour():
    items = random_items(7, sparse_ids=False)
    plain = score_items(items, Thresholds(0.4, 0.6, 2))
    assert list(plain.columns) == list(ITEM_LEVEL_COLUMNS)
    same = score_items(items, policy=ThresholdPolicy(Thresholds(0.4, 0.6, 2)))
    pd.testing.assert_frame_equal(plain, same.drop(columns="threshold_source"))


def test_attempt_policy_needs_the_attempt_columns():
    items = HAND_ITEMS.drop(columns=["sumgrades"])
    with pytest.raises(ValueError, match="needs the columns sumgrades"):
        score_items(items, attempt_policy="best")
    assert "sumgrades" in ATTEMPT_COLUMNS


@pytest.mark.parametrize(("column", "value", "message"), [
    ("sumgrades", 9.0, "differ in sumgrades"),
    ("attempt_id", 999, "differ in attempt_id"),
])
def test_rows_of_one_attempt_must_agree(column, value, message):
    items = HAND_ITEMS.copy()
    items.loc[0, column] = value
    with pytest.raises(ValueError, match=message):
        score_items(items, attempt_policy="best")


def test_one_attempt_id_under_two_numbers_is_refused():
    items = HAND_ITEMS.copy()
    items.loc[items["attempt_id"] == 102, "attempt_id"] = 101
    with pytest.raises(ValueError, match="two attempt_no"):
        score_items(items, attempt_policy="last")


def test_policy_and_min_questions_together_are_refused():
    with pytest.raises(ValueError, match="min_questions and a policy"):
        score_items(HAND_ITEMS, min_questions=1, policy=POLICY)
    with pytest.raises(ValueError, match="unknown attempt policy"):
        score_items(HAND_ITEMS, attempt_policy="median")


@pytest.mark.parametrize("attempt_policy", [None, "best", "average"])
def test_no_rows_give_an_empty_typed_frame(attempt_policy):
    out = score_items(HAND_ITEMS.iloc[:0], policy=POLICY, competencies=COMPETENCIES,
                      attempt_policy=attempt_policy)
    assert out.empty
    assert out["questions"].dtype == ("float64" if attempt_policy == "average" else "int32")
    assert ("attempt_id" in out.columns) == (attempt_policy is not None)
