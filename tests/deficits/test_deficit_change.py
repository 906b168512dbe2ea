"""Deficit closed: level moved from deficit to ok and the score rose by more than one question."""

import pandas as pd
import pytest

from deficits.change import deficit_changes


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
