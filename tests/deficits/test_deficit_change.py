"""Deficit closed: level moved from deficit to ok and the score rose by more than one question."""

import pandas as pd
import pytest

from deficits.change import change_summary, deficit_changes


def levels(rows):
    return pd.DataFrame(rows, columns=["user_id", "competency", "level", "score", "questions"])


@pytest.mark.parametrize(("entry", "final", "closed", "level_up"), [
    # 1/4 → 3/4: rise 0.5 > 1/4 (one question of four): closed
    (("deficit", 0.25, 4), ("ok", 0.75, 4), True, True),
    # 0.45 → 0.70 on a 20-question test: rise 0.25 > 0.05: closed
    (("deficit", 0.45, 20), ("ok", 0.70, 20), True, True),
    # 0.45 → 0.70 on a 4-question test: rise 0.25 = one question's weight: not closed
    (("deficit", 0.45, 4), ("ok", 0.70, 4), False, True),
    # deficit → risk: moved up, but not closed
    (("deficit", 0.25, 4), ("risk", 0.5, 4), False, True),
    # risk → ok: was never a deficit
    (("risk", 0.5, 4), ("ok", 1.0, 4), False, True),
    # not enough evidence on the final test: never closed
    (("deficit", 0.0, 4), ("insufficient", 1.0, 1), False, False),
    # went down
    (("ok", 0.75, 4), ("deficit", 0.25, 4), False, False),
])
def test_deficit_closed_needs_more_than_one_lucky_answer(entry, final, closed, level_up):
    result = deficit_changes(levels([(1, "PK-01", *entry)]), levels([(1, "PK-01", *final)]))
    assert result.loc[0, "closed"] == closed
    assert result.loc[0, "level_up"] == level_up
    assert result.loc[0, "rise"] == pytest.approx(final[1] - entry[1])


def test_only_teachers_and_competencies_on_both_tests_are_compared():
    entry = levels([(1, "PK-01", "deficit", 0.2, 4), (2, "PK-01", "deficit", 0.2, 4)])
    final = levels([(1, "PK-01", "ok", 1.0, 4), (1, "PK-02", "ok", 1.0, 4)])
    result = deficit_changes(entry, final)
    assert list(zip(result.user_id, result.competency)) == [(1, "PK-01")]


def change_rows(rows):
    """(user, competency, entry level, final level, entry score, final score, closed)."""
    frame = pd.DataFrame(rows, columns=["user_id", "competency", "entry_level", "final_level",
                                        "entry_score", "final_score", "closed"])
    frame["rise"] = frame["final_score"] - frame["entry_score"]
    rank = {"deficit": 0, "risk": 1, "ok": 2}
    frame["level_up"] = [f in rank and e in rank and rank[f] > rank[e]
                         for e, f in zip(frame.entry_level, frame.final_level, strict=True)]
    return frame


CHANGES = change_rows([
    (1, "PK-01", "deficit", "ok", 0.25, 0.75, True),     # closed, up, rise +0.50
    (2, "PK-01", "deficit", "risk", 0.25, 0.50, False),  # up, rise +0.25
    (3, "PK-01", "ok", "deficit", 0.75, 0.25, False),    # down, rise -0.50
    (4, "PK-01", "insufficient", "ok", 0.0, 1.0, False),  # not comparable: left out
    (1, "PK-02", "risk", "risk", 0.50, 0.60, False),     # unchanged, rise +0.10
    (2, "PK-02", "deficit", "deficit", 0.0, 0.25, False),  # unchanged, rise +0.25
])


def test_change_summary_per_competency_worked_by_hand():
    out = change_summary(CHANGES)
    # PK-01: 3 comparable pairs; 2 deficits at entry, 1 closed; up 2, down 1, unchanged 0;
    #        mean rise (0.50 + 0.25 - 0.50) / 3 = 0.0833…
    # PK-02: 2 comparable; 1 deficit at entry, 0 closed; unchanged 2; mean (0.10+0.25)/2 = 0.175
    assert out["competency"].tolist() == ["PK-01", "PK-02"]
    assert out[["compared", "entry_deficits", "closed", "level_up", "level_down",
                "unchanged"]].values.tolist() == [[3, 2, 1, 2, 1, 0], [2, 1, 0, 0, 0, 2]]
    assert out["mean_rise"].tolist() == pytest.approx([0.25 / 3, 0.175])


def test_change_summary_per_school_worked_by_hand():
    teachers = pd.DataFrame({"user_id": [1, 2, 3], "school_code": ["S1", "S1", ""]})
    out = change_summary(CHANGES, teachers, by="school")
    # S1: users 1 and 2 → rows (1,PK-01) (2,PK-01) (1,PK-02) (2,PK-02): 4 compared,
    #     entry deficits 3 (1/PK-01, 2/PK-01, 2/PK-02), closed 1, up 2, down 0, unchanged 2,
    #     mean rise (0.50 + 0.25 + 0.10 + 0.25) / 4 = 0.275
    # no school: user 3 (blank code) → 1 compared, down 1, mean -0.50; user 4 not comparable
    assert out["school_code"].tolist() == ["S1", None]
    assert out[["compared", "entry_deficits", "closed", "level_up", "level_down",
                "unchanged"]].values.tolist() == [[4, 3, 1, 2, 0, 2], [1, 0, 0, 0, 1, 0]]
    assert out["mean_rise"].tolist() == pytest.approx([0.275, -0.5])


def test_change_summary_rejects_an_unknown_key():
    with pytest.raises(ValueError, match="by must be"):
        change_summary(CHANGES, by="teacher")
