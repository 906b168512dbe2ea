"""Risk group of teachers: deficits in N groups, or in a group that always counts."""

from __future__ import annotations

import pandas as pd
import pytest

from deficits.risk import RISK_COLUMNS, RiskRule, risk_group

# A, B: subject; C: method; D: psych; E: no group; F: not in the table (also no group).
COMPETENCIES = pd.DataFrame({
    "competency": ["A", "B", "C", "D", "E"],
    "group": ["subject", "subject", "method", "psych", None],
})


def levels_of(**by_competency: str) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [1] * len(by_competency),
                         "competency": list(by_competency),
                         "level": list(by_competency.values())})


@pytest.mark.parametrize(
    ("levels", "rule", "in_group", "reason"),
    [
        (levels_of(A="ok", C="ok"), RiskRule(), False, "дефицитов нет"),
        # risk and insufficient are not deficits
        (levels_of(A="risk", C="risk", D="insufficient"), RiskRule(), False, "дефицитов нет"),
        # 1 group (method) < 2
        (levels_of(C="deficit", D="ok"), RiskRule(), False,
         "дефициты в 1 группе компетенций («method») — меньше порога 2"),
        # 2 groups (method, psych) >= 2: boundary, in
        (levels_of(C="deficit", D="deficit"), RiskRule(), True,
         "дефициты в 2 группах компетенций («method», «psych»), порог — 2"),
        # one subject deficit: always in
        (levels_of(A="deficit", C="ok"), RiskRule(), True,
         "дефицит в группе «subject» (всегда группа риска)"),
        # two subject deficits are one group: in only by the "always" rule
        (levels_of(A="deficit", B="deficit"), RiskRule(), True,
         "дефицит в группе «subject» (всегда группа риска)"),
        # both rules
        (levels_of(A="deficit", C="deficit"), RiskRule(), True,
         "дефициты в 2 группах компетенций («method», «subject»), порог — 2; "
         "дефицит в группе «subject» (всегда группа риска)"),
        # E (group None) and F (not in the table) are one group "" → 1 group
        (levels_of(E="deficit", F="deficit"), RiskRule(), False,
         "дефициты в 1 группе компетенций («без группы») — меньше порога 2"),
        # threshold 3: 2 groups not enough; 3 groups enough (boundary)
        (levels_of(C="deficit", D="deficit"), RiskRule(3, ()), False,
         "дефициты в 2 группах компетенций («method», «psych») — меньше порога 3"),
        (levels_of(C="deficit", D="deficit", E="deficit"), RiskRule(3, ()), True,
         "дефициты в 3 группах компетенций («без группы», «method», «psych»), порог — 3"),
        # no "always" group: a subject deficit alone is not enough
        (levels_of(A="deficit"), RiskRule(2, ()), False,
         "дефициты в 1 группе компетенций («subject») — меньше порога 2"),
        # threshold 1: any deficit
        (levels_of(C="deficit"), RiskRule(1, ()), True,
         "дефициты в 1 группе компетенций («method»), порог — 1"),
        # two "always" groups hit
        (levels_of(A="deficit", C="deficit"), RiskRule(5, ("subject", "method")), True,
         "дефицит в группах «method», «subject» (всегда группа риска)"),
    ],
)
def test_risk_group_rules_and_boundaries(levels: pd.DataFrame, rule: RiskRule, in_group: bool,
                                         reason: str):
    result = risk_group(levels, COMPETENCIES, rule)
    assert result.to_dict("records") == [
        {"user_id": 1, "in_risk_group": in_group, "reason": reason}
    ]


def test_risk_group_one_row_per_teacher_sorted_with_labels():
    levels = pd.DataFrame(
        [(7, "A", "deficit"), (3, "C", "ok"), (7, "C", "ok"), (5, "C", "deficit")],
        columns=["user_id", "competency", "level"],
    )
    result = risk_group(levels, COMPETENCIES, labels={"subject": "Предметный блок"})
    assert tuple(result.columns) == RISK_COLUMNS
    assert result["user_id"].tolist() == [3, 5, 7]
    assert result["in_risk_group"].tolist() == [False, False, True]
    assert result["in_risk_group"].dtype == bool
    assert result["reason"].iloc[2] == "дефицит в группе «Предметный блок» (всегда группа риска)"


def test_risk_rule_refuses_a_count_below_one():
    with pytest.raises(ValueError, match="min_groups_with_deficit must be 1 or more"):
        RiskRule(0)
