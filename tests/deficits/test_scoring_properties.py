"""score_with_policy on seeded random marks: every row obeys the stated rules.

The random frames carry what the tables by hand cannot cover all at once: 1-3 attempts
per teacher with gaps in the numbers, tied and missing sumgrades, maxgrade 0, fractional
questions, a competency missing from an attempt or from the competency table, a competency
twice in one attempt, shuffled rows, sparse user ids and far-apart attempt numbers. The
checks restate the rules row by row; they do not score a second time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deficits.mapping import marks_from_attempt
from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, score_with_policy
from deficits.records import (
    GRADE_AVERAGE,
    GRADE_FIRST,
    GRADE_HIGHEST,
    GRADE_LAST,
    Mark,
    QuizAttempt,
    SlotMark,
    Thresholds,
)
from deficits.scoring import marks_frame

VARIANTS = ["dense", "sparse ids", "far attempt numbers"]
METHODS = {"first": GRADE_FIRST, "last": GRADE_LAST, "best": GRADE_HIGHEST,
           "average": GRADE_AVERAGE}


def user_id(index: int, variant: str) -> int:
    return 10**12 + 97 * index if variant == "sparse ids" else index + 1


def random_marks(seed: int, variant: str) -> pd.DataFrame:
    """40 teachers' marks over PK-01..PK-05; the same draws for every variant; shuffled."""
    rng = np.random.default_rng(seed)
    marks = []
    attempt_id = 1000
    for index in range(40):
        numbers = np.sort(rng.choice(np.arange(1, 6), size=int(rng.integers(1, 4)), replace=False))
        for number in numbers:
            attempt_no = int(number) * (1000 if variant == "far attempt numbers" else 1)
            attempt_id += int(rng.integers(1, 50))
            sumgrades = float(rng.choice([5.0, 6.0, 6.0, np.nan]))
            for comp in ("PK-01", "PK-02", "PK-03", "PK-04", "PK-05"):
                if rng.random() < 0.2:
                    continue
                maxgrade = float(rng.choice([0.0, 2.0, 3.0, 3.0, 3.0]))
                grade = float(rng.choice([0.0, 1.0, 1.5, 2.1, 2.2, 3.0]))
                questions = float(rng.choice([1.0, 2.0, 3.0, 2.5]))
                marks.append(Mark(user_id(index, variant), comp, attempt_id, attempt_no,
                                  sumgrades, grade, maxgrade, questions, attempt_no))
                if rng.random() < 0.03:  # the same competency twice in one attempt
                    marks.append(Mark(user_id(index, variant), comp, attempt_id, attempt_no,
                                      sumgrades, 0.5, maxgrade, 1.0, attempt_no))
    return marks_frame(marks).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order whatever the input order (a competency twice in an attempt too)."""
    keys = ["user_id", "competency", "grade", "maxgrade", "questions"]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def check_thresholds(out: pd.DataFrame, competencies: pd.DataFrame,
                     policy: ThresholdPolicy) -> None:
    """Each row carries its competency's framework, group, thresholds and their source."""
    table = competencies.drop_duplicates("competency").fillna("")
    keys = dict(zip(table["competency"], zip(table["framework"], table["group"], strict=True),
                    strict=True))
    for row in out.itertuples():
        framework, group = keys.get(row.competency, ("", ""))
        thresholds, source = policy.resolve(framework, group)
        assert (row.framework, row.group, row.threshold_source) == (framework, group, source)
        assert (row.deficit_below, row.risk_below, row.min_questions) == (
            thresholds.deficit_below, thresholds.risk_below, thresholds.min_questions)


def check_levels(out: pd.DataFrame) -> None:
    """score = grade / maxgrade clipped and rounded (NaN for max 0); level by the row's own
    thresholds, too few questions (rounded) or no score first."""
    for row in out.itertuples():
        if row.maxgrade > 0:
            assert row.score == round(min(max(row.grade / row.maxgrade, 0.0), 1.0), 9)
        else:
            assert math.isnan(row.score)
        if math.isnan(row.score) or round(row.questions, 9) < row.min_questions:
            assert row.level == "insufficient"
        elif row.score < row.deficit_below:
            assert row.level == "deficit"
        else:
            assert row.level == ("risk" if row.score < row.risk_below else "ok")


def rule_keeps(attempts: pd.DataFrame, method: int) -> int:
    """The attempt id the grading method names among one user's attempts."""
    if method == GRADE_HIGHEST and attempts["sumgrades"].notna().any():
        attempts = attempts[attempts["sumgrades"] == attempts["sumgrades"].max()]
    number = attempts["attempt_no"].max() if method == GRADE_LAST else attempts["attempt_no"].min()
    return int(attempts.loc[attempts["attempt_no"] == number, "attempt_id"].min())


def check_attempts(out: pd.DataFrame, frame: pd.DataFrame, method: int) -> None:
    """One whole attempt per user, the one the rule names, with its marks as they were; or,
    for the average, the mean marks per user and competency (attempt id -1)."""
    columns = ["user_id", "competency", "grade", "maxgrade", "questions"]
    assert sorted(set(out["user_id"])) == sorted(set(frame["user_id"]))
    if method == GRADE_AVERAGE:
        means = frame.groupby(["user_id", "competency"], as_index=False)[columns[2:]].mean()
        pd.testing.assert_frame_equal(out[columns], means, check_exact=False, rtol=1e-12)
        assert set(out["attempt_id"]) == {-1}
        return
    attempts = frame.drop_duplicates(["user_id", "attempt_id"])
    kept = {user: rule_keeps(own, method) for user, own in attempts.groupby("user_id")}
    assert out.groupby("user_id")["attempt_id"].agg(set).to_dict() == {
        user: {attempt} for user, attempt in kept.items()}
    chosen = frame[frame["attempt_id"] == frame["user_id"].map(kept)]
    pd.testing.assert_frame_equal(sorted_rows(out)[columns], sorted_rows(chosen)[columns])


RANDOM_POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"F2": Thresholds(0.35, 0.6, 1)},
                                {"subject": Thresholds(0.6, 0.85, 3)})
RANDOM_COMPETENCIES = pd.DataFrame({
    "competency": ["PK-01", "PK-02", "PK-03", "PK-04"],  # PK-05 missing: default
    "framework": ["F1", "F1", "F2", "F2"],
    "group": ["subject", "law", "subject", "method"],
})


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), [
    ("best", GRADE_FIRST), ("first", GRADE_HIGHEST), ("last", GRADE_HIGHEST),
    ("average", GRADE_HIGHEST), ("quiz", GRADE_LAST),
])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rows_follow_the_rules_whatever_the_ids_and_order(seed, variant, attempt_policy,
                                                          quiz_method):
    frame = random_marks(seed, variant)
    method = quiz_method if attempt_policy == "quiz" else METHODS[attempt_policy]
    out = score_with_policy(frame, RANDOM_COMPETENCIES, RANDOM_POLICY, attempt_policy,
                            quiz_method)
    check_thresholds(out, RANDOM_COMPETENCIES, RANDOM_POLICY)
    check_levels(out)
    check_attempts(out, frame, method)
    assert set(out["level"]) == {"deficit", "risk", "ok", "insufficient"}
    assert out["score"].isna().any()  # the max-0 marks
    again = score_with_policy(frame.sample(frac=1.0, random_state=seed + 100),
                              RANDOM_COMPETENCIES, RANDOM_POLICY, attempt_policy, quiz_method)
    pd.testing.assert_frame_equal(sorted_rows(again), sorted_rows(out))
    dense = score_with_policy(random_marks(seed, "dense"), RANDOM_COMPETENCIES, RANDOM_POLICY,
                              attempt_policy, quiz_method)
    ids = {user_id(i, variant): user_id(i, "dense") for i in range(40)}
    pd.testing.assert_frame_equal(out.assign(user_id=out["user_id"].map(ids)), dense)


POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 2), {"PS": Thresholds(0.4, 0.6, 1)},
                         {"subject": Thresholds(0.55, 0.8, 3)})
COMPETENCIES = pd.DataFrame({
    "competency": ["PK-01", "PK-02", "PK-03", "PK-04", "PK-04"],
    "framework": ["PS", "PS", "OTHER", None, "PS"],  # PK-04: the first row wins
    "group": ["subject", "method", "method", "law", "subject"],
})  # PK-05 is not in the table
DTYPES = {"user_id": "int64", "competency": "str", "score": "float64", "grade": "float64",
          "maxgrade": "float64", "questions": "float64", "attempt_id": "int64", "level": "str",
          "framework": "str", "group": "str", "deficit_below": "float64",
          "risk_below": "float64", "min_questions": "float64", "threshold_source": "str"}


@pytest.mark.parametrize(("attempt_policy", "quiz_method"), [
    ("first", GRADE_HIGHEST), ("last", GRADE_HIGHEST), ("best", GRADE_LAST),
    ("average", GRADE_HIGHEST), ("quiz", GRADE_FIRST), ("quiz", GRADE_LAST),
])
@pytest.mark.parametrize("variant", ["dense", "sparse ids"])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_each_row_carries_its_competencys_thresholds(seed, variant, attempt_policy,
                                                      quiz_method):
    frame = random_marks(seed, variant)
    method = quiz_method if attempt_policy == "quiz" else METHODS[attempt_policy]
    out = score_with_policy(frame, COMPETENCIES, POLICY, attempt_policy, quiz_method)
    assert tuple(out.columns) == POLICY_COLUMNS
    assert out.dtypes.astype(str).to_dict() == DTYPES
    assert out.index.tolist() == list(range(len(out)))
    assert out[["user_id", "competency"]].equals(
        out[["user_id", "competency"]].sort_values(["user_id", "competency"], kind="stable"))
    check_thresholds(out, COMPETENCIES, POLICY)
    check_levels(out)
    check_attempts(out, frame, method)
    assert set(out["threshold_source"]) == {"group", "framework", "default"}


def question_attempts(seed: int, sparse_ids: bool) -> tuple[pd.DataFrame, list[QuizAttempt]]:
    """30 teachers × 16 questions over PK-00..PK-04 (a quarter skipped, some ungraded, some
    worth 0): the rows (user, question, competency, mark, max_mark) and the attempts."""
    rng = np.random.default_rng(seed)
    rows, attempts = [], []
    for index in range(30):
        user = 10**12 + 7 * index if sparse_ids else index + 1
        slots = []
        for question in range(16):
            if rng.random() < 0.25:  # skipped: competencies end up with 0..4 questions
                continue
            mark = float(rng.choice([0, 0.5, 1, 1.5, np.nan]))
            max_mark = float(rng.choice([0, 1, 2]))
            rows.append((user, question, f"PK-{question % 5:02d}", mark, max_mark))
            slots.append(SlotMark(question, None if math.isnan(mark) else mark, max_mark))
        attempts.append(QuizAttempt(index + 1, 1, user, 1, "finished", 0, 9, 1.0,
                                    slot_marks=tuple(slots)))
    return pd.DataFrame(rows, columns=["user_id", "question", "competency", "mark",
                                       "max_mark"]), attempts


@pytest.mark.parametrize("sparse_ids", [False, True], ids=["dense ids", "sparse ids"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_question_marks_sum_per_competency_before_scoring(seed, sparse_ids):
    rows, attempts = question_attempts(seed, sparse_ids)
    slot_map = {q: f"PK-{q % 5:02d}" for q in range(16)}
    known = sorted(set(slot_map.values()))
    marks = [m for a in attempts
             for m in marks_from_attempt(a, known=known, item_map=None, slot_map=slot_map)[0]]
    out = score_with_policy(marks_frame(marks), COMPETENCIES.iloc[:0],
                            ThresholdPolicy(Thresholds(0.4, 0.75, 2)), "best")
    graded = rows.assign(max_mark=rows["max_mark"].where(rows["mark"].notna(), 0.0))
    sums = graded.groupby(["user_id", "competency"], as_index=False).agg(
        grade=("mark", "sum"), maxgrade=("max_mark", "sum"), questions=("mark", "count"))
    pd.testing.assert_frame_equal(out[list(sums.columns)], sums.astype({"questions": "float64"}))
    check_levels(out)
    assert set(out["level"]) == {"deficit", "risk", "ok", "insufficient"}
    assert (out["questions"] == 0).any() and out["score"].isna().any()
