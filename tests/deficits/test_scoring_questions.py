"""Per-question marks → marks per competency → scores, levels and deficit maps, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from deficits.aggregate import municipality_map, school_map
from deficits.levels import LEVELS
from deficits.mapping import marks_from_attempt
from deficits.policy import POLICY_COLUMNS, ThresholdPolicy, score_with_policy
from deficits.records import Mark, QuizAttempt, SlotMark, Thresholds
from deficits.scoring import marks_frame

NAN = float("nan")
NO_COMPETENCIES = pd.DataFrame({"competency": [], "framework": [], "group": []}, dtype="str")


def score(frame: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """One set of thresholds for every competency, the best attempt."""
    return score_with_policy(frame, NO_COMPETENCIES, ThresholdPolicy(thresholds), "best")


def questions_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (user, question, competency, mark or NaN, max_mark) → marks of one attempt each.

    Each question is a quiz slot; an ungraded one (NaN) is a slot without a mark.
    """
    marks: list[Mark] = []
    for user in dict.fromkeys(r[0] for r in rows):
        own = [r for r in rows if r[0] == user]
        slots = tuple(SlotMark(q, None if math.isnan(m) else m, mx) for _, q, _, m, mx in own)
        attempt = QuizAttempt(100 + user, 1, user, 1, "finished", 0, 10, 1.0, slot_marks=slots)
        marks += marks_from_attempt(attempt, known=["A", "B"], item_map=None,
                                    slot_map={q: c for _, q, c, _, _ in own})[0]
    return marks_frame(marks)


# (case, rows (user, question, competency, mark, max_mark), min_questions,
#  expected (score, questions, level)) — default thresholds: deficit < 0.5 ≤ risk < 0.7 ≤ ok.
CASES = [
    ("two of three", [(1, 1, "A", 1, 1), (1, 2, "A", 0, 1), (1, 3, "A", 1, 1)], 2,
     (round(2 / 3, 9), 3, "risk")),                                  # 2/3 = 0.666666667
    ("one of four is deficit", [(1, q, "A", float(q == 1), 1) for q in range(1, 5)], 2,
     (0.25, 4, "deficit")),                                          # 1/4
    ("one question is too little", [(1, 1, "A", 1, 1)], 2, (1.0, 1, "insufficient")),
    ("a minimum of 1 is enough", [(1, 1, "A", 1, 1)], 1.0, (1.0, 1, "ok")),
    ("over the max clips to 1", [(1, 1, "A", 2, 1), (1, 2, "A", 1.5, 1)], 2,
     (1.0, 2, "ok")),                                                # 3.5/2 → 1.0
    ("max 0 has no score", [(1, 1, "A", 0, 0), (1, 2, "A", 0, 0)], 2,
     (NAN, 2, "insufficient")),
    ("exactly 0.5 is risk", [(1, 1, "A", 1, 1), (1, 2, "A", 0, 1)], 2, (0.5, 2, "risk")),
    ("exactly 0.7 is ok", [(1, 1, "A", 0.7, 1), (1, 2, "A", 0.7, 1)], 2,
     (0.7, 2, "ok")),                                                # 1.4/2 = 0.7 (rounded)
    ("ungraded mark not counted", [(1, 1, "A", 1, 1), (1, 2, "A", NAN, 1), (1, 3, "A", 0, 1)],
     2, (0.5, 2, "risk")),                                           # 1/2, 2 questions
]


@pytest.mark.parametrize(("rows", "min_questions", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_question_marks_of_one_competency(rows, min_questions, expected):
    out = score(questions_frame(rows), Thresholds(min_questions=min_questions))
    assert list(out.columns) == list(POLICY_COLUMNS)
    assert len(out) == 1
    got = out.iloc[0]
    want_score, want_questions, want_level = expected
    if math.isnan(want_score):
        assert math.isnan(got["score"])
    else:
        assert got["score"] == pytest.approx(want_score, abs=1e-12)
    assert (got["questions"], got["level"]) == (want_questions, want_level)


def test_scores_sort_by_user_and_competency_names():
    # Categories deliberately unsorted and with an unused one; users out of order.
    frame = marks_frame([Mark(7, "B", 1, 1, 1, 1, 1, 1), Mark(7, "A", 1, 1, 1, 0, 1, 1),
                         Mark(3, "B", 2, 1, 1, 0, 1, 1), Mark(3, "A", 2, 1, 1, 1, 1, 1)])
    frame["competency"] = pd.Categorical(frame["competency"], categories=["B", "Z", "A"])
    out = score(frame, Thresholds(min_questions=1))
    assert list(zip(out["user_id"], out["competency"], out["level"], strict=True)) == [
        (3, "A", "ok"), (3, "B", "deficit"), (7, "A", "deficit"), (7, "B", "ok")]


@pytest.mark.parametrize("categorical", [False, True], ids=["text", "categorical"])
def test_a_mark_without_competency_is_refused(categorical):
    frame = marks_frame([Mark(1, "A", 1, 1, 1, 1, 1, 1)])
    frame["competency"] = pd.Series([None], dtype="category" if categorical else "object")
    with pytest.raises(ValueError, match="without a competency"):
        score(frame)


# (case, thresholds, marks (user, competency, grade, maxgrade, questions) of one attempt
#  per user, expected (user, competency, score, level) sorted by user and competency)
ID_CASES = [
    ("mixed levels", Thresholds(), [
        (2, "B", 0, 0, 2), (2, "A", 2.5, 4, 4), (1, "B", 3, 4, 4), (1, "A", 1, 4, 4)],
     [(1, "A", 0.25, "deficit"), (1, "B", 0.75, "ok"),              # 1/4; 3/4
      (2, "A", 0.625, "risk"), (2, "B", NAN, "insufficient")]),     # 2.5/4; max 0
    ("little evidence", Thresholds(), [
        (3, "A", 2.1, 3, 3), (1, "B", 1, 1, 1), (1, "A", 0, 0, 0)],
     [(1, "A", NAN, "insufficient"),                                # all slots ungraded
      (1, "B", 1.0, "insufficient"),                                # 1 question < 2
      (3, "A", 0.7, "ok")]),                                        # 2.1/3 rounds to 0.7
    ("custom thresholds", Thresholds(0.4, 0.75, 2), [
        (1, "A", 0.8, 2, 2), (1, "B", 0.78, 2, 2), (2, "A", 1.5, 2, 2), (2, "B", 1.49, 2, 2)],
     [(1, "A", 0.4, "risk"), (1, "B", 0.39, "deficit"),             # 0.4 is not < 0.4
      (2, "A", 0.75, "ok"), (2, "B", 0.745, "risk")]),
]


@pytest.mark.parametrize("offset", [0, 10**12], ids=["small ids", "sparse ids"])
@pytest.mark.parametrize(("thresholds", "rows", "expected"), [c[1:] for c in ID_CASES],
                         ids=[c[0] for c in ID_CASES])
def test_levels_by_hand_keep_the_user_ids(offset, thresholds, rows, expected):
    frame = marks_frame([Mark(u + offset, c, u, 1, 1, g, mx, q) for u, c, g, mx, q in rows])
    out = score(frame, thresholds)
    got = list(zip(out["user_id"], out["competency"], out["score"], out["level"], strict=True))
    assert [(u, c, level) for u, c, _, level in got] == [
        (u + offset, c, level) for u, c, _, level in expected]
    assert [s for *_, s, _ in got] == pytest.approx([s for *_, s, _ in expected], nan_ok=True)


# user: (level of A, level of B) and the marks out of 2 that give it (1 question: insufficient)
USER_LEVELS = {1: ("deficit", "ok"), 2: ("risk", "insufficient"), 3: ("deficit", "deficit"),
               4: ("ok", "risk")}
GRADES = {"deficit": (0.0, 2), "risk": (1.0, 2), "ok": (2.0, 2), "insufficient": (2.0, 1)}
MUNICIPALITY = {  # A: 2 deficits, 1 risk of 4; B: 1 deficit, 1 risk of 3 assessed (u2 not)
    "competency": ["A", "B"], "assessed": [4, 3], "insufficient": [0, 1], "deficit": [2, 1],
    "risk": [1, 1], "deficit_share": pytest.approx([0.5, 1 / 3]),
}


def scored_levels() -> pd.DataFrame:
    marks = [Mark(u, c, u, 1, 1, *GRADES[level][:1], 2.0, GRADES[level][1])
             for u, pair in USER_LEVELS.items() for c, level in zip("AB", pair, strict=True)]
    out = score(marks_frame(marks))
    assert out["level"].tolist() == [lv for pair in USER_LEVELS.values() for lv in pair]
    return out


TEACHERS = [
    # u1 S1, u2 S2 (stripped), u3 S1, u4 blank → no school; S3 has nobody scored.
    ("with schools and a blank", {"user_id": [1, 2, 3, 4, 5, 6],
                                  "school_code": ["S1", " S2 ", "S1", "", None, "S3"]},
     [("S1", "A", 2, 0, 2, 0, 1.0), ("S1", "B", 2, 0, 1, 0, 0.5),
      ("S2", "A", 1, 0, 0, 1, 0.0), ("S2", "B", 0, 1, 0, 0, NAN),
      ("S3", "A", 0, 0, 0, 0, NAN), ("S3", "B", 0, 0, 0, 0, NAN),
      (None, "A", 1, 0, 0, 0, 0.0), (None, "B", 1, 0, 0, 1, 0.0)]),
    # S0: users 2 and 4; S1: users 1 and 3; nobody without a school.
    ("everyone has a school", {"user_id": [1, 2, 3, 4], "school_code": ["S1", "S0", "S1", "S0"]},
     [("S0", "A", 2, 0, 0, 1, 0.0), ("S0", "B", 1, 1, 0, 1, 0.0),
      ("S1", "A", 2, 0, 2, 0, 1.0), ("S1", "B", 2, 0, 1, 0, 0.5)]),
    # u1 and u2 in S9 (u1's second row ignored); u3 and u4 missing → no school.
    ("first row per user wins", {"user_id": [1, 1, 2], "school_code": ["S9", "S1", "S9"]},
     [("S9", "A", 2, 0, 1, 1, 0.5), ("S9", "B", 1, 1, 0, 0, 0.0),
      (None, "A", 2, 0, 1, 0, 0.5), (None, "B", 2, 0, 1, 1, 0.5)]),
]


@pytest.mark.parametrize(("teachers", "expected"), [t[1:] for t in TEACHERS],
                         ids=[t[0] for t in TEACHERS])
def test_maps_of_scored_levels_by_hand(teachers, expected):
    levels = scored_levels()
    schools = school_map(levels, pd.DataFrame(teachers))
    columns = ["school_code", "competency", "assessed", "insufficient", "deficit", "risk"]
    assert schools[columns].values.tolist() == [list(row[:6]) for row in expected]
    assert schools["deficit_share"].tolist() == pytest.approx([r[6] for r in expected],
                                                              nan_ok=True)
    assert municipality_map(levels).to_dict("list") == MUNICIPALITY


def test_maps_count_by_hand():
    # S1: user 1 deficit, user 2 ok on A; user 3 (no school) insufficient on A, risk on B.
    levels = pd.DataFrame({"user_id": [1, 2, 3, 3], "competency": ["A", "A", "A", "B"],
                           "level": ["deficit", "ok", "insufficient", "risk"]})
    teachers = pd.DataFrame({"user_id": [1, 2], "school_code": ["S1", "S1"]})
    schools, municipality = school_map(levels, teachers), municipality_map(levels)
    assert schools.to_dict("list") == {
        "school_code": ["S1", "S1", None, None], "competency": ["A", "B", "A", "B"],
        "assessed": [2, 0, 0, 1], "insufficient": [0, 0, 1, 0], "deficit": [1, 0, 0, 0],
        "risk": [0, 0, 0, 1],
        "deficit_share": pytest.approx([0.5, NAN, NAN, 0.0], nan_ok=True),  # 1/2; 0/1
    }
    assert municipality.to_dict("list") == {
        "competency": ["A", "B"], "assessed": [2, 1], "insufficient": [1, 0],
        "deficit": [1, 0], "risk": [0, 1], "deficit_share": [0.5, 0.0],
    }


def test_scored_levels_are_the_four_known_levels():
    levels = scored_levels()
    assert set(levels["level"]) == set(LEVELS)
    assert str(levels["level"].dtype) == "str"
