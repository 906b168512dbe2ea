"""The risk group (deficits.risk.risk_group) of levels scored by score_with_policy, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from deficits.policy import ThresholdPolicy, score_with_policy
from deficits.records import Mark
from deficits.risk import RISK_COLUMNS, RiskRule, risk_group
from deficits.scoring import marks_frame

COMPETENCIES = pd.DataFrame({
    "competency": ["L-1", "L-2", "S-1", "M-1", "P-1"],  # X-1 is missing: group ""
    "framework": "PS",
    "group": ["law", "law", "subject", "method", None],  # P-1 without a group: ""
})
# level → the marks out of 2 that give it with the default thresholds (1 question: too few)
GRADES = {"deficit": (0.0, 2.0), "risk": (1.0, 2.0), "ok": (2.0, 2.0), "insufficient": (2.0, 1.0)}


def scored(table: dict[int, dict[str, str]]) -> pd.DataFrame:
    """Levels of {user: {competency: level}}, scored from marks that give those levels."""
    marks = [Mark(user, comp, user, 1, 1.0, GRADES[level][0], 2.0, GRADES[level][1])
             for user, levels in table.items() for comp, level in levels.items()]
    out = score_with_policy(marks_frame(marks), COMPETENCIES, ThresholdPolicy(), "best")
    assert {(r.user_id, r.competency): r.level for r in out.itertuples()} == {
        (u, c): lv for u, levels in table.items() for c, lv in levels.items()}
    return out


def test_risk_group_by_hand():
    levels = scored({
        1: {"L-1": "deficit", "L-2": "deficit", "M-1": "risk"},  # 1 group: law
        2: {"L-1": "deficit", "M-1": "deficit"},  # law + method = 2 groups ≥ 2
        3: {"S-1": "deficit", "M-1": "ok"},  # subject: always the risk group
        4: {"P-1": "deficit", "X-1": "deficit"},  # both count under "": 1 group
        5: {"S-1": "insufficient", "L-1": "risk"},  # no deficit
    })
    out = risk_group(levels, COMPETENCIES, RiskRule(2, ("subject",)))
    assert list(out.columns) == list(RISK_COLUMNS)
    assert out.values.tolist() == [
        [1, False, "дефициты в 1 группе компетенций («law») — меньше порога 2"],
        [2, True, "дефициты в 2 группах компетенций («law», «method»), порог — 2"],
        [3, True, "дефицит в группе «subject» (всегда группа риска)"],
        [4, False, "дефициты в 1 группе компетенций («без группы») — меньше порога 2"],
        [5, False, "дефицитов нет"],
    ]


TABLES = {
    "law, subject, two groups": {
        1: {"L-1": "deficit", "L-2": "deficit"},  # {law}
        2: {"S-1": "deficit"},  # {subject}
        3: {"L-1": "deficit", "M-1": "deficit"},  # {law, method}
        4: {"M-1": "risk", "S-1": "insufficient"},  # no deficit
    },
    "no group": {
        1: {"P-1": "deficit"},  # {""}
        2: {"X-1": "deficit", "M-1": "deficit"},  # {"", method}
        3: {"S-1": "deficit", "M-1": "deficit", "L-2": "deficit"},  # {subject, method, law}
        4: {"S-1": "ok", "L-1": "ok"},  # no deficit
    },
    "risk and insufficient never count": {
        1: {"M-1": "deficit", "S-1": "risk"},  # {method}
        2: {"S-1": "insufficient", "L-1": "risk"},  # no deficit
        3: {"M-1": "deficit", "P-1": "deficit", "S-1": "deficit"},  # {method, "", subject}
    },
}
RULES = {"default": RiskRule(), "one group": RiskRule(1, ()),
         "three, law and no group always": RiskRule(3, ("law", ""))}
# (table, rule) → in_risk_group per user 1, 2, ...
EXPECTED = {
    ("law, subject, two groups", "default"): [False, True, True, False],
    ("law, subject, two groups", "one group"): [True, True, True, False],
    ("law, subject, two groups", "three, law and no group always"): [True, False, True, False],
    ("no group", "default"): [False, True, True, False],
    ("no group", "one group"): [True, True, True, False],
    ("no group", "three, law and no group always"): [True, True, True, False],
    ("risk and insufficient never count", "default"): [False, False, True],
    ("risk and insufficient never count", "one group"): [True, False, True],
    ("risk and insufficient never count", "three, law and no group always"): [False, False, True],
}


@pytest.mark.parametrize(("table", "rule"), list(EXPECTED), ids=[" / ".join(k) for k in EXPECTED])
def test_risk_group_members_by_rule(table, rule):
    out = risk_group(scored(TABLES[table]), COMPETENCIES, RULES[rule])
    assert out["user_id"].tolist() == sorted(TABLES[table])
    assert out["in_risk_group"].tolist() == EXPECTED[table, rule]
