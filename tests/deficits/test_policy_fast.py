"""score_with_policy (integer codes, lexsort) equals the merge-based reference, frame for frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deficits.attempts import attempt_groups, choose_attempts
from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, grademethod_for, score_with_policy
from deficits.records import GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Mark, Thresholds
from deficits.scoring import marks_frame, score

POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"PS": Thresholds(0.4, 0.6, 1)},
                         {"subject": Thresholds(0.55, 0.8, 3)})
COMPETENCIES = pd.DataFrame({
    "competency": ["PK-01", "PK-02", "PK-03", "PK-04", "PK-04"],
    "framework": ["PS", "PS", "OTHER", None, "PS"],  # PK-04: the first row wins
    "group": ["subject", "method", "method", "law", "subject"],
})  # PK-05 is not in the table


def merge_reference(frame, competencies, policy, attempt_policy, quiz_method):
    """The former implementation: score(), then merges for framework, group and thresholds."""
    scored = score(frame, Thresholds(0.0, 0.0, 0.0), grademethod_for(attempt_policy, quiz_method))
    table = competencies[["competency", "framework", "group"]].drop_duplicates("competency")
    keys = pd.DataFrame({c: table[c].where(table[c].notna(), "").astype("str")
                         for c in ("competency", "framework", "group")})
    out = scored.merge(keys, on="competency", how="left")
    out[["framework", "group"]] = out[["framework", "group"]].fillna("")
    rows = []
    for framework, group in out[["framework", "group"]].drop_duplicates().itertuples(index=False):
        th, source = policy.resolve(framework, group)
        rows.append((framework, group, th.deficit_below, th.risk_below, th.min_questions, source))
    thresholds = pd.DataFrame.from_records(rows, columns=[
        "framework", "group", "deficit_below", "risk_below", "min_questions", "threshold_source",
    ]).astype({"framework": "str", "group": "str", "deficit_below": "float64",
               "risk_below": "float64", "min_questions": "float64", "threshold_source": "str"})
    out = out.merge(thresholds, on=["framework", "group"], how="left")
    insufficient = out["score"].isna() | (out["questions"].round(9) < out["min_questions"])
    levels = np.select([insufficient.to_numpy(), (out["score"] < out["deficit_below"]).to_numpy(),
                        (out["score"] < out["risk_below"]).to_numpy()],
                       ["insufficient", "deficit", "risk"], "ok")
    out["level"] = pd.Series(levels, index=out.index, dtype="str")
    return out[list(POLICY_COLUMNS)].reset_index(drop=True)


def random_marks(seed: int, sparse_ids: bool) -> pd.DataFrame:
    """Users with 1-3 attempts (attempt numbers with gaps), sumgrades ties and NaN, maxgrade 0,
    fractional questions, a competency missing from an attempt, a duplicated mark; shuffled."""
    rng = np.random.default_rng(seed)
    marks = []
    attempt_id = 1000
    for index in range(40):
        user = 10**12 + 97 * index if sparse_ids else index + 1
        numbers = np.sort(rng.choice(np.arange(1, 6), size=int(rng.integers(1, 4)), replace=False))
        for number in numbers:
            attempt_id += int(rng.integers(1, 50))
            sumgrades = float(rng.choice([5.0, 6.0, 6.0, np.nan]))
            for comp in ("PK-01", "PK-02", "PK-03", "PK-04", "PK-05"):
                if rng.random() < 0.2:
                    continue
                maxgrade = float(rng.choice([0.0, 2.0, 3.0, 3.0, 3.0]))
                grade = float(rng.choice([0.0, 1.0, 1.5, 2.1, 2.2, 3.0]))
                questions = float(rng.choice([1.0, 2.0, 3.0, 2.5]))
                marks.append(Mark(user, comp, attempt_id, int(number), sumgrades, grade,
                                  maxgrade, questions, int(number)))
                if rng.random() < 0.03:  # the same competency twice in one attempt
                    marks.append(Mark(user, comp, attempt_id, int(number), sumgrades, 0.5,
                                      maxgrade, 1.0, int(number)))
    frame = marks_frame(marks)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


ATTEMPT_POLICIES = [("first", GRADE_HIGHEST), ("last", GRADE_HIGHEST), ("best", GRADE_LAST),
                    ("average", GRADE_HIGHEST), ("quiz", GRADE_FIRST), ("quiz", GRADE_LAST)]


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), ATTEMPT_POLICIES)
@pytest.mark.parametrize("sparse_ids", [False, True], ids=["dense ids", "sparse ids"])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_score_with_policy_equals_the_merge_reference(seed, sparse_ids, attempt_policy,
                                                      quiz_method):
    frame = random_marks(seed, sparse_ids)
    got = score_with_policy(frame, COMPETENCIES, POLICY, attempt_policy, quiz_method)
    want = merge_reference(frame, COMPETENCIES, POLICY, attempt_policy, quiz_method)
    pd.testing.assert_frame_equal(got, want)
    assert set(got["threshold_source"]) == {"group", "framework", "default"}


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), ATTEMPT_POLICIES)
def test_score_with_policy_of_no_marks(attempt_policy, quiz_method):
    got = score_with_policy(marks_frame([]), COMPETENCIES, POLICY, attempt_policy, quiz_method)
    want = merge_reference(marks_frame([]), COMPETENCIES, POLICY, attempt_policy, quiz_method)
    assert tuple(got.columns) == POLICY_COLUMNS and got.empty
    assert got.dtypes.to_dict() == want.dtypes.to_dict()


def test_competency_table_with_categorical_competencies():
    frame = random_marks(3, sparse_ids=False)
    categorical = frame.assign(competency=pd.Categorical(
        frame["competency"], categories=["PK-05", "PK-01", "PK-04", "PK-03", "PK-02", "X"]))
    pd.testing.assert_frame_equal(score_with_policy(categorical, COMPETENCIES, POLICY, "best"),
                                  score_with_policy(frame, COMPETENCIES, POLICY, "best"))


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
    from deficits.fast import DEFICIT, INSUFFICIENT, OK, RISK
    from deficits.scoring import LEVELS

    assert [LEVELS[c] for c in (DEFICIT, RISK, OK, INSUFFICIENT)] == [
        "deficit", "risk", "ok", "insufficient"]
