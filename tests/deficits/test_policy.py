"""Threshold policy (group > framework > default), attempt policies, Moodle ratings merge."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.policy import (
    POLICY_COLUMNS,
    ThresholdPolicy,
    describe_attempt_policy,
    describe_thresholds,
    grademethod_for,
    merge_ratings,
    score_with_policy,
)
from deficits.records import GRADE_FIRST, GRADE_HIGHEST, GRADE_LAST, Mark, Thresholds
from deficits.scoring import marks_frame

DEFAULT = Thresholds(0.5, 0.7, 2)
FRAMEWORK = Thresholds(0.4, 0.6, 1)
GROUP = Thresholds(0.55, 0.8, 2)
POLICY = ThresholdPolicy(DEFAULT, {"PK": FRAMEWORK}, {"subject": GROUP},
                         {"subject": "Предметный блок"})

# A: PK/subject (group wins), B: PK/method (framework), C: OTHER/method (default),
# D: not in the table (framework "" group "": default).
COMPETENCIES = pd.DataFrame({
    "competency": ["A", "B", "C"],
    "framework": ["PK", "PK", "OTHER"],
    "group": ["subject", "method", "method"],
})


@pytest.mark.parametrize(
    ("framework", "group", "expected"),
    [
        ("PK", "subject", GROUP),  # group beats framework
        ("OTHER", "subject", GROUP),  # group override applies in any framework
        ("PK", "method", FRAMEWORK),
        ("OTHER", "method", DEFAULT),
        ("", "", DEFAULT),
    ],
)
def test_most_specific_thresholds_win(framework: str, group: str, expected: Thresholds):
    assert POLICY.for_competency(framework, group) == expected


def test_describe_says_every_threshold_in_russian():
    assert POLICY.describe() == [
        "По умолчанию: дефицит ниже 50 %, риск ниже 70 %, не менее 2 вопросов",
        "Рамка «PK»: дефицит ниже 40 %, риск ниже 60 %, не менее 1 вопроса",
        "Предметный блок: дефицит ниже 55 %, риск ниже 80 %, не менее 2 вопросов",
    ]
    # without a label the group key is shown
    assert ThresholdPolicy(groups={"method": FRAMEWORK}).describe()[1].startswith(
        "Группа «method»: ")


@pytest.mark.parametrize(
    ("thresholds", "expected"),
    [
        (Thresholds(0.45, 0.65, 2), "дефицит ниже 45 %, риск ниже 65 %, не менее 2 вопросов"),
        (Thresholds(0.475, 0.7, 5), "дефицит ниже 47,5 %, риск ниже 70 %, не менее 5 вопросов"),
        (Thresholds(0.5, 0.7, 0), "дефицит ниже 50 %, риск ниже 70 %, без минимума вопросов"),
        (Thresholds(0.5, 0.7, 1.5), "дефицит ниже 50 %, риск ниже 70 %, не менее 1,5 вопроса"),
        (Thresholds(0.5, 0.7, 11), "дефицит ниже 50 %, риск ниже 70 %, не менее 11 вопросов"),
        (Thresholds(0.5, 0.7, 21), "дефицит ниже 50 %, риск ниже 70 %, не менее 21 вопроса"),
    ],
)
def test_describe_thresholds_numbers_and_plurals(thresholds: Thresholds, expected: str):
    assert describe_thresholds(thresholds) == expected


def test_invalid_override_is_refused_naming_its_key():
    with pytest.raises(ValueError, match="'subject'.*must not exceed"):
        ThresholdPolicy(groups={"subject": Thresholds(0.8, 0.6, 2)})
    with pytest.raises(ValueError, match="must be a share"):
        ThresholdPolicy(Thresholds(1.5, 1.5, 2))


def test_policy_is_frozen_and_hashable():
    overrides = {"PK": FRAMEWORK}
    policy = ThresholdPolicy(frameworks=overrides)
    overrides["PK"] = DEFAULT  # the caller's dict changing later does not change the policy
    assert policy.for_competency("PK", "") == FRAMEWORK
    with pytest.raises(TypeError):
        policy.frameworks["X"] = DEFAULT  # type: ignore[index]
    assert hash(policy) == hash(ThresholdPolicy(frameworks={"PK": FRAMEWORK}))


# (competency, grade out of 2, questions, expected level, threshold source)
CASES = [
    ("A", 1.0, 2, "deficit", "group"),  # 0.5 < 0.55
    ("A", 1.2, 2, "risk", "group"),  # 0.6: not < 0.55, < 0.8
    ("A", 1.6, 2, "ok", "group"),  # 0.8: not < 0.8 (boundary)
    ("A", 2.0, 1, "insufficient", "group"),  # 1 question < group minimum 2
    ("B", 0.8, 1, "risk", "framework"),  # 0.4: not < 0.4, < 0.6; 1 question >= framework min 1
    ("B", 0.78, 1, "deficit", "framework"),  # 0.39 < 0.4
    ("B", 1.2, 2, "ok", "framework"),  # 0.6: not < 0.6
    ("C", 1.0, 2, "risk", "default"),  # 0.5: not < 0.5, < 0.7
    ("C", 1.0, 1.5, "insufficient", "default"),  # 1.5 questions < 2
    ("D", 0.9, 2, "deficit", "default"),  # 0.45 < 0.5; D is not in the table
]


@pytest.mark.parametrize(("competency", "grade", "questions", "level", "source"), CASES)
def test_each_competency_gets_its_own_thresholds(competency: str, grade: float,
                                                 questions: float, level: str, source: str):
    frame = marks_frame([Mark(1, competency, 1, 1, 5, grade, 2.0, questions)])
    row = score_with_policy(frame, COMPETENCIES, POLICY, "best").iloc[0]
    assert (row["level"], row["threshold_source"]) == (level, source)


def test_all_rows_at_once_match_the_row_by_row_table():
    # One user per case in a single frame: per-row thresholds, vectorised.
    marks = [Mark(i, c, i, 1, 5, g, 2.0, q) for i, (c, g, q, _, _) in enumerate(CASES)]
    result = score_with_policy(marks_frame(marks), COMPETENCIES, POLICY, "best")
    assert tuple(result.columns) == POLICY_COLUMNS
    assert result["level"].tolist() == [case[3] for case in CASES]
    assert result["threshold_source"].tolist() == [case[4] for case in CASES]
    d_row = result[result["competency"] == "D"].iloc[0]
    assert (d_row["framework"], d_row["group"], d_row["deficit_below"]) == ("", "", 0.5)
    a_row = result[result["competency"] == "A"].iloc[0]
    assert (a_row["deficit_below"], a_row["risk_below"], a_row["min_questions"]) == \
        (0.55, 0.8, 2.0)


def test_default_policy_gives_the_default_thresholds_to_every_competency():
    marks = [Mark(i, c, i, 1, 5, g, 2.0, q) for i, (c, g, q, _, _) in enumerate(CASES)]
    ours = score_with_policy(marks_frame(marks), COMPETENCIES)
    # The same grades out of 2 with 50 % / 70 % and at least 2 questions everywhere.
    assert ours["score"].tolist() == [0.5, 0.6, 0.8, 1.0, 0.4, 0.39, 0.6, 0.5, 0.5, 0.45]
    assert ours["level"].tolist() == [
        "risk", "risk", "ok", "insufficient", "insufficient", "insufficient", "risk", "risk",
        "insufficient", "deficit"]
    assert set(ours["threshold_source"]) == {"default"}


# User 1 took the quiz three times (one competency, 2 marks out of 2 questions each):
#   attempt 10 (no 1, sumgrades 6): 2/2 = 1.0
#   attempt 11 (no 2, sumgrades 8): 0/2 = 0.0   ← best (highest sumgrades; ties 12, earlier)
#   attempt 12 (no 3, sumgrades 8): 1/2 = 0.5
#   average: (2 + 0 + 1) / 3 = 1 / 2 = 0.5, attempt id -1
ATTEMPTS = marks_frame([
    Mark(1, "C", 10, 1, 6, 2.0, 2.0, 2), Mark(1, "C", 11, 2, 8, 0.0, 2.0, 2),
    Mark(1, "C", 12, 3, 8, 1.0, 2.0, 2),
])


@pytest.mark.parametrize(
    ("attempt_policy", "quiz_method", "expected"),
    [
        ("first", GRADE_LAST, (1.0, 10, "ok")),  # the quiz's method is ignored
        ("last", GRADE_FIRST, (0.5, 12, "risk")),
        ("best", GRADE_FIRST, (0.0, 11, "deficit")),
        ("average", GRADE_FIRST, (0.5, -1, "risk")),
        ("quiz", GRADE_FIRST, (1.0, 10, "ok")),
        ("quiz", GRADE_LAST, (0.5, 12, "risk")),
        ("quiz", GRADE_HIGHEST, (0.0, 11, "deficit")),
    ],
)
def test_attempt_policies(attempt_policy: str, quiz_method: int,
                          expected: tuple[float, int, str]):
    row = score_with_policy(ATTEMPTS, COMPETENCIES, POLICY, attempt_policy, quiz_method).iloc[0]
    assert (row["score"], row["attempt_id"], row["level"]) == expected


def test_quiz_policy_defaults_to_highest():
    assert score_with_policy(ATTEMPTS, COMPETENCIES).iloc[0]["attempt_id"] == 11
    assert grademethod_for("quiz") == GRADE_HIGHEST


def test_unknown_attempt_policy_is_refused():
    with pytest.raises(ValueError, match="unknown attempt policy 'median'"):
        score_with_policy(ATTEMPTS, COMPETENCIES, POLICY, "median")


@pytest.mark.parametrize(
    ("attempt_policy", "quiz_method", "expected"),
    [
        ("best", GRADE_FIRST, "Попытки: лучшая попытка"),
        ("average", GRADE_FIRST, "Попытки: среднее по попыткам"),
        ("quiz", GRADE_LAST, "Попытки: последняя попытка (метод оценивания теста)"),
    ],
)
def test_describe_attempt_policy(attempt_policy: str, quiz_method: int, expected: str):
    assert describe_attempt_policy(attempt_policy, quiz_method) == expected


def test_merge_ratings_adds_moodle_opinion_and_never_changes_levels():
    levels = pd.DataFrame(
        [(1, "A", "deficit"), (1, "B", "ok"), (1, "C", "risk"), (1, "D", "insufficient"),
         (2, "A", "deficit"), (2, "B", "ok"), (2, "C", "risk")],
        columns=["user_id", "competency", "level"],
    )
    ratings = pd.DataFrame(
        [(1, "A", True), (1, "B", False), (1, "C", True), (1, "D", True),
         (2, "A", False), (2, "B", False), (2, "B", True),  # duplicate: the last row wins
         (3, "A", True)],  # a user not in levels: ignored
        columns=["user_id", "competency", "proficient"],
    )
    result = merge_ratings(levels, ratings)
    assert result[["user_id", "competency", "level"]].equals(levels)
    assert list(result.columns) == ["user_id", "competency", "level", "moodle_proficient",
                                    "agreement"]
    proficient = ["nan" if isinstance(v, float) and math.isnan(v) else v
                  for v in result["moodle_proficient"]]
    assert proficient == [True, False, True, True, False, True, "nan"]
    assert result["agreement"].tolist() == [
        "disagrees",  # deficit but Moodle says proficient
        "disagrees",  # ok but Moodle says not proficient
        "agrees",  # risk is the borderline: agrees with either rating
        "no evidence",  # insufficient: nothing to compare
        "agrees",  # deficit and not proficient
        "agrees",  # ok and proficient (last of the duplicates)
        "no rating",
    ]


def test_merge_ratings_with_no_ratings_at_all():
    levels = pd.DataFrame({"user_id": [1], "competency": ["A"], "level": ["ok"]})
    ratings = pd.DataFrame({"user_id": pd.Series(dtype="int64"),
                            "competency": pd.Series(dtype="str"),
                            "proficient": pd.Series(dtype="bool")})
    result = merge_ratings(levels, ratings)
    assert math.isnan(result["moodle_proficient"].iloc[0])
    assert result["agreement"].tolist() == ["no rating"]
