"""Item-level fast path: scores, levels and maps equal the reference pure core."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from deficits.aggregate import municipality_map, school_map
from deficits.items import ITEM_LEVEL_COLUMNS, aggregate_items, score_items
from deficits.records import Mark, Thresholds
from deficits.scoring import marks_frame, score

NAN = float("nan")


def items_of(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "question", "competency", "mark", "max_mark"])


# (case, rows (user, question, competency, mark, max_mark), min_questions,
#  expected (score, questions, level)) — default thresholds: deficit < 0.5 ≤ risk < 0.7 ≤ ok.
CASES = [
    ("two of three", [(1, 1, "A", 1, 1), (1, 2, "A", 0, 1), (1, 3, "A", 1, 1)], None,
     (round(2 / 3, 9), 3, "risk")),                                  # 2/3 = 0.666666667
    ("one of four is deficit", [(1, q, "A", float(q == 1), 1) for q in range(1, 5)], None,
     (0.25, 4, "deficit")),                                          # 1/4
    ("one question is too little", [(1, 1, "A", 1, 1)], None, (1.0, 1, "insufficient")),
    ("min_questions overrides", [(1, 1, "A", 1, 1)], 1.0, (1.0, 1, "ok")),
    ("over the max clips to 1", [(1, 1, "A", 2, 1), (1, 2, "A", 1.5, 1)], None,
     (1.0, 2, "ok")),                                                # 3.5/2 → 1.0
    ("max 0 has no score", [(1, 1, "A", 0, 0), (1, 2, "A", 0, 0)], None,
     (NAN, 2, "insufficient")),
    ("exactly 0.5 is risk", [(1, 1, "A", 1, 1), (1, 2, "A", 0, 1)], None, (0.5, 2, "risk")),
    ("exactly 0.7 is ok", [(1, 1, "A", 0.7, 1), (1, 2, "A", 0.7, 1)], None,
     (0.7, 2, "ok")),                                                # 1.4/2 = 0.7 (rounded)
    ("ungraded mark not counted", [(1, 1, "A", 1, 1), (1, 2, "A", NAN, 1), (1, 3, "A", 0, 1)],
     None, (0.5, 2, "risk")),                                        # 1/2, 2 questions
]


@pytest.mark.parametrize(("rows", "min_questions", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_score_items_one_competency(rows, min_questions, expected):
    out = score_items(items_of(rows), Thresholds(), min_questions)
    assert list(out.columns) == list(ITEM_LEVEL_COLUMNS)
    assert len(out) == 1
    got = out.iloc[0]
    want_score, want_questions, want_level = expected
    if math.isnan(want_score):
        assert math.isnan(got["score"])
    else:
        assert got["score"] == pytest.approx(want_score, abs=1e-12)
    assert (got["questions"], got["level"]) == (want_questions, want_level)


def test_score_items_sorts_by_user_and_competency_names():
    # Categories deliberately unsorted and with an unused one; users out of order.
    comp = pd.Categorical(["B", "A", "B", "A"], categories=["B", "Z", "A"])
    items = pd.DataFrame({"user_id": [7, 7, 3, 3], "question": [1, 2, 1, 2],
                          "competency": comp, "mark": [1.0, 0, 0, 1], "max_mark": 1.0})
    out = score_items(items, Thresholds(min_questions=1))
    assert list(zip(out["user_id"], out["competency"].astype(str), out["level"].astype(str),
                    strict=True)) == [(3, "A", "ok"), (3, "B", "deficit"),
                                      (7, "A", "deficit"), (7, "B", "ok")]


def test_score_items_refuses_a_question_without_competency():
    with pytest.raises(ValueError, match="without a competency"):
        score_items(items_of([(1, 1, None, 1, 1)]))


def random_items(seed: int, sparse_ids: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    users = [10**12 + 7 * u if sparse_ids else u for u in range(1, 31)]
    for user in users:
        for question in range(16):
            if rng.random() < 0.25:  # skipped: competencies end up with 0..4 questions
                continue
            rows.append((user, question, f"PK-{question % 5:02d}",
                         float(rng.choice([0, 0.5, 1, 1.5])), float(rng.choice([0, 1, 2]))))
    return items_of(rows)


def reference_levels(items: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    sums = items.groupby(["user_id", "competency"]).agg(
        grade=("mark", "sum"), maxgrade=("max_mark", "sum"), questions=("mark", "size"))
    marks = [Mark(u, c, 1, 1, 0.0, r.grade, r.maxgrade, r.questions, 0)
             for (u, c), r in sums.iterrows()]
    return score(marks_frame(marks), thresholds)


@pytest.mark.parametrize("sparse_ids", [False, True], ids=["dense ids", "sparse ids"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_score_items_equals_scoring_score(seed, sparse_ids):
    items = random_items(seed, sparse_ids)
    thresholds = Thresholds(deficit_below=0.4, risk_below=0.75, min_questions=2)
    got = score_items(items, thresholds)
    want = reference_levels(items, thresholds)
    assert got["user_id"].tolist() == want["user_id"].tolist()
    assert got["competency"].astype(str).tolist() == want["competency"].tolist()
    assert got["level"].astype(str).tolist() == want["level"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    assert got["questions"].tolist() == want["questions"].astype(int).tolist()


TEACHERS = [
    ("with schools and a blank", pd.DataFrame(
        {"user_id": [1, 2, 3, 4, 5, 6], "school_code": ["S1", " S2 ", "S1", "", None, "S3"]})),
    ("everyone has a school", pd.DataFrame(
        {"user_id": list(range(1, 31)), "school_code": [f"S{u % 4}" for u in range(1, 31)]})),
    ("first row per user wins", pd.DataFrame(
        {"user_id": [1, 1, 2], "school_code": ["S9", "S1", "S9"]})),
]


@pytest.mark.parametrize("teachers", [t[1] for t in TEACHERS], ids=[t[0] for t in TEACHERS])
def test_aggregate_items_equals_aggregate_maps(teachers):
    levels = score_items(random_items(5, sparse_ids=False))
    schools, municipality = aggregate_items(levels, teachers)
    reference = levels.assign(competency=levels["competency"].astype(str),
                              level=levels["level"].astype(str))
    pd.testing.assert_frame_equal(schools, school_map(reference, teachers))
    pd.testing.assert_frame_equal(municipality, municipality_map(reference))


def test_aggregate_items_counts_by_hand():
    # S1: user 1 deficit, user 2 ok on A; user 3 (no school) insufficient on A, risk on B.
    levels = pd.DataFrame({"user_id": [1, 2, 3, 3], "competency": ["A", "A", "A", "B"],
                           "level": ["deficit", "ok", "insufficient", "risk"]})
    teachers = pd.DataFrame({"user_id": [1, 2], "school_code": ["S1", "S1"]})
    schools, municipality = aggregate_items(levels, teachers)
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


def test_aggregate_items_refuses_an_unknown_level():
    levels = pd.DataFrame({"user_id": [1], "competency": ["A"], "level": ["great"]})
    with pytest.raises(ValueError, match="unknown level"):
        aggregate_items(levels, pd.DataFrame({"user_id": [1], "school_code": ["S1"]}))
